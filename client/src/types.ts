import type { RevocationReason, SessionsCreatedSubscription } from "./gql/graphql.js";

/** A new session of this user on another device, heard over the live connection (`onSessionCreated`). */
export type SessionCreatedEvent = SessionsCreatedSubscription["sessionCreated"];

/** Why the server ended a session: the schema's `RevocationReason`, generated from it. */
export type { RevocationReason };

/**
 * Why this client was signed out: the server's reason, or `SIGNED_OUT_IN_ANOTHER_TAB` when
 * another tab of this browser signed out by the user's own action.
 */
export type SignOutReason = RevocationReason | "SIGNED_OUT_IN_ANOTHER_TAB";

export interface User {
  id: string;
  email: string;
  createdAt: string;
}

export type AuthStatus = "unknown" | "signed-in" | "signed-out";

/** `unknown` until `restore()`, `signIn()` or `signUp()` has answered. */
export interface AuthState {
  readonly status: AuthStatus;
  readonly user: User | null;
  readonly sessionId: string | null;
}

export type AuthEvent =
  /** Signed in: by signIn/signUp, by restore(), or because another tab signed in. */
  | { type: "SIGNED_IN"; sessionId: string }
  /** A new access token, from this tab's refresh or another tab's. */
  | { type: "TOKEN_REFRESHED"; sessionId: string }
  /**
   * Signed out. `reason` is absent when the SDK cannot tell why (no session to restore, or the
   * refresh cookie was gone).
   */
  | { type: "SIGNED_OUT"; reason?: SignOutReason; sessionId?: string }
  /** Another of this user's sessions ended (heard over the live connection): a "your devices" list can drop it. */
  | { type: "OTHER_SESSION_ENDED"; sessionId: string; reason: RevocationReason; revokedAt: string };

export type AuthListener = (event: AuthEvent, state: AuthState) => void;

/** Where memory mode keeps the refresh token. Methods may be async. */
export interface TokenStorage {
  get(key: string): string | null | undefined | Promise<string | null | undefined>;
  set(key: string, value: string): void | Promise<void>;
  remove(key: string): void | Promise<void>;
}

/**
 * A GraphQL document whose result and variables types are known: a `TypedDocumentNode`, a
 * codegen `TypedDocumentString` (structurally, like `DocumentTypeDecoration`).
 */
export interface TypedDocument<TData, TVariables> {
  readonly __apiType?: (variables: TVariables) => TData;
}

/** A document as text, a parsed `DocumentNode`, or a typed document of either kind. */
export type DocumentInput<TData = unknown, TVariables = Record<string, unknown>> =
  | string
  | (TypedDocument<TData, TVariables> & object);

export interface SignInInput {
  email: string;
  password: string;
  /** Shown in the user's list of sessions. */
  deviceName?: string;
  /**
   * "Keep me signed in" (default true). False: the session ends after the server's
   * SESSION_SHORT_TTL (12 h by default) and, in cookie mode, its cookie with the browser.
   */
  rememberMe?: boolean;
}

/** The result of one subscription event, as graphql-ws delivers it. */
export interface ExecutionResultLike<TData = unknown> {
  data?: TData | null;
  errors?: readonly { message: string; extensions?: Record<string, unknown> }[];
  extensions?: Record<string, unknown>;
}

export interface SubscriptionSink<TData = unknown> {
  next(value: ExecutionResultLike<TData>): void;
  error(error: unknown): void;
  complete(): void;
}

export interface SessionClientOptions {
  /** The GraphQL endpoint over HTTP(S), e.g. `https://api.example.com/graphql`. */
  url: string;
  /**
   * `cookie` (browsers): the refresh token lives only in the API's HttpOnly cookie; `restore()`
   * signs in silently on page load. `memory` (native apps, Node): the refresh token lives in
   * `storage`.
   */
  transport: "cookie" | "memory";
  /** The WebSocket endpoint; default: `url` with ws(s):. */
  wsUrl?: string;
  /**
   * A WebSocket constructor for the live connection (in Node: `import WebSocket from "ws"`).
   * Default: the global WebSocket. Without either, the SDK relies on periodic checks.
   */
  webSocketImpl?: unknown;
  /** Hold the live connection while signed in (default true). */
  live?: boolean;
  /**
   * Seconds between session checks over HTTP while the live connection is down or disabled
   * (default 60). A check also runs when the page becomes visible.
   */
  checkInterval?: number;
  /** Memory mode: where the refresh token is kept (default: this object, so it ends with the process). */
  storage?: TokenStorage;
  /** The storage key of the refresh token (default `session-api.refresh-token`). */
  storageKey?: string;
  /**
   * Memory mode: the storage key of this device's long-lived id (default
   * `session-api.device-id`), made on first sign-in and sent with every sign-in so the server
   * recognises the device (newDevice, and a login-throttle budget of its own). Cookie mode
   * needs none: the server keeps it in an HttpOnly cookie.
   */
  deviceIdKey?: string;
  /**
   * Share refreshes and sign-outs with the other tabs of this browser (Web Locks,
   * BroadcastChannel). Default: true in cookie mode (one cookie jar per browser), false in
   * memory mode (set it when `storage` is shared between tabs, such as localStorage).
   */
  crossTab?: boolean;
  /**
   * Cookie mode: keep a note in localStorage that this browser is signed in (default true),
   * so `restore()` on a page of a signed-out browser sends no refresh that could only be
   * refused (no 401 in the console). A browser whose localStorage was cleared while its cookie
   * lived then starts signed out. `false`: always ask the server.
   */
  sessionHint?: boolean;
  /** Runs after every sign-out, once local state is cleared: clear your own caches here. */
  onSignedOut?: (event: Extract<AuthEvent, { type: "SIGNED_OUT" }>) => void | Promise<void>;
  /** The fetch to use (default: the global one). */
  fetch?: typeof fetch;
}
