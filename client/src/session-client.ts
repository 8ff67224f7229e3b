import { type DocumentNode, print } from "graphql";
import { type AccessToken, accessToken, isExpired, needsRefresh } from "./access-token.js";
import { absoluteUrl, globalWebSocket, onPageRestored, onPageVisible, warnIfCookieCrossesSites } from "./browser.js";
import {
  type GraphQLErrorLike,
  SESSION_ENDED_REASONS,
  SessionClientError,
  TOKEN_REASONS,
  unauthenticatedReason,
} from "./errors.js";
import {
  ReauthenticateDocument,
  RefreshDocument,
  SecureAccountDocument,
  SessionCheckDocument,
  type SignedInFragment,
  SignInDocument,
  SignOutDocument,
  SignOutOtherDevicesDocument,
  SignUpDocument,
} from "./gql/graphql.js";
import { dataOrThrow, type GraphQLAnswer, postGraphQL } from "./http.js";
import { LiveConnection, signOutReasonFor } from "./live.js";
import { type TabMessage, TabSync } from "./tab-sync.js";
import type {
  AuthEvent,
  AuthListener,
  AuthState,
  DocumentInput,
  SessionClientOptions,
  SessionCreatedEvent,
  SignInInput,
  SignOutReason,
  SubscriptionSink,
  TokenStorage,
  User,
} from "./types.js";

type SignedOutEvent = Extract<AuthEvent, { type: "SIGNED_OUT" }>;

/** The default storage: this object's memory, so the refresh token ends with the process. */
function memoryStorage(): TokenStorage {
  const values = new Map<string, string>();
  return {
    get: (key) => values.get(key) ?? null,
    set: (key, value) => void values.set(key, value),
    remove: (key) => void values.delete(key),
  };
}

/** A document as the text to send: a string, a parsed DocumentNode, or a codegen TypedDocumentString. */
function documentText(document: unknown): string {
  if (typeof document === "string") return document;
  if ((document as Partial<DocumentNode>).kind === "Document") return print(document as DocumentNode);
  return String(document);
}

/**
 * Cookie mode: a note in localStorage that this browser holds a session cookie (set on
 * sign-in, removed on sign-out), so `restore()` on a signed-out page sends nothing rather than
 * a refresh that can only be refused. Where localStorage is unavailable the SDK just asks.
 */
interface SessionHint {
  get(): boolean;
  set(signedIn: boolean): void;
}

const NO_HINT: SessionHint = { get: () => true, set: () => undefined };

function sessionHint(key: string): SessionHint {
  let storage: Storage | undefined;
  try {
    storage = (globalThis as { localStorage?: Storage }).localStorage;
  } catch {
    storage = undefined; // blocked by the browser's settings
  }
  if (!storage) return NO_HINT;
  const store = storage;
  return {
    get: () => {
      try {
        return store.getItem(key) === "1";
      } catch {
        return true;
      }
    },
    set: (signedIn) => {
      try {
        if (signedIn) store.setItem(key, "1");
        else store.removeItem(key);
      } catch {
        // Not kept: the next restore() asks the server, as without a hint.
      }
    },
  };
}

/** 256 random bits, base64url: a device id the server accepts ([A-Za-z0-9_-], 43 characters). */
function randomDeviceId(): string {
  const bytes = new Uint8Array(32);
  globalThis.crypto.getRandomValues(bytes);
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Thrown inside a refresh when the server says the session is over. */
class SessionOver {
  constructor(readonly reason: SignOutReason | undefined) {}
}

/**
 * The session client: signs in and out, keeps a current access token (refreshing ahead of
 * expiry, one refresh at a time per browser), holds the live connection that hears
 * revocations, and signs out everywhere it must. See createSessionClient.
 */
export class SessionClient {
  private status: AuthState["status"] = "unknown";
  private user: User | null = null;
  private token: AccessToken | null = null;
  private snapshot: AuthState = Object.freeze({ status: "unknown", user: null, sessionId: null });
  /** Counts sign-outs: a refresh that started before one must not sign the client back in. */
  private epoch = 0;
  private refreshing: Promise<string | null> | null = null;
  private restoring: Promise<AuthState> | null = null;
  /** Sessions this client signed out: a late token for one of them (another tab's) is ignored. */
  private readonly ended = new Set<string>();
  /** The newest credentials minted for the current session, even by a refresh a sign-out overtook. */
  private lastMinted: { sessionId: string; accessToken: string; refreshToken: string | null } | null = null;
  private live: LiveConnection | null = null;
  private liveUnusable = false;
  private checkTimer: ReturnType<typeof setInterval> | undefined;
  private readonly listeners = new Set<AuthListener>();
  private readonly createdListeners = new Set<(event: SessionCreatedEvent) => void>();
  private readonly tabs: TabSync;
  private readonly removePageListeners: (() => void)[];
  private readonly fetchImpl: typeof fetch;
  private readonly storage: TokenStorage;
  private readonly storageKey: string;
  private readonly deviceIdKey: string;
  private readonly hint: SessionHint;
  private readonly cookieMode: boolean;
  private readonly crossTab: boolean;
  private readonly wsUrl: string;
  private readonly webSocketImpl: unknown;
  private disposed = false;

  constructor(private readonly options: SessionClientOptions) {
    this.cookieMode = options.transport === "cookie";
    if (this.cookieMode) warnIfCookieCrossesSites(options.url);
    this.fetchImpl = options.fetch ?? ((input, init) => fetch(input, init));
    this.storage = options.storage ?? memoryStorage();
    this.storageKey = options.storageKey ?? "session-api.refresh-token";
    this.deviceIdKey = options.deviceIdKey ?? "session-api.device-id";
    this.hint = this.cookieMode && options.sessionHint !== false ? sessionHint(`session-api.signed-in:${options.url}`) : NO_HINT;
    this.wsUrl = options.wsUrl ?? absoluteUrl(options.url).replace(/^http/i, "ws");
    this.webSocketImpl = options.webSocketImpl ?? globalWebSocket();
    this.crossTab = options.crossTab ?? this.cookieMode;
    this.tabs = new TabSync(`session-api:${options.url}`, this.crossTab, (message) => this.onTabMessage(message));
    this.removePageListeners = [
      // Back/forward cache: the page may show a user who has since signed out elsewhere.
      onPageRestored(() => void this.check()),
      onPageVisible(() => {
        if (!this.live?.connected) void this.check();
      }),
    ];
  }

  /** The current state: `{ status, user, sessionId }`. */
  get state(): AuthState {
    return this.snapshot;
  }

  /** Calls `listener` on every SIGNED_IN, TOKEN_REFRESHED, SIGNED_OUT and OTHER_SESSION_ENDED; returns the unsubscribe. */
  onAuthStateChange(listener: AuthListener): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  /**
   * Calls `listener` when a new session of this user begins on another device, as the server
   * pushes it over the live connection (not for this client's own sign-in). Returns the
   * unsubscribe. Show it ("New sign-in on Chrome, Windows"); if it was not the user, call
   * `secureAccount()`, then have them change the password.
   */
  onSessionCreated(listener: (event: SessionCreatedEvent) => void): () => void {
    this.createdListeners.add(listener);
    return () => void this.createdListeners.delete(listener);
  }

  /** Creates the account and signs in. Throws SessionClientError (EMAIL_TAKEN, BAD_USER_INPUT, RATE_LIMITED, ...). */
  async signUp(input: SignInInput): Promise<AuthState> {
    const answer = await this.post(SignUpDocument, { input: await this.withDevice(input) }, { cookie: this.cookieMode });
    await this.signedIn(dataOrThrow(answer).register);
    return this.snapshot;
  }

  /** Signs in: a new session. Throws SessionClientError (INVALID_CREDENTIALS, RATE_LIMITED with retryAfter, ...). */
  async signIn(input: SignInInput): Promise<AuthState> {
    const answer = await this.post(SignInDocument, { input: await this.withDevice(input) }, { cookie: this.cookieMode });
    await this.signedIn(dataOrThrow(answer).login);
    return this.snapshot;
  }

  /**
   * On page load (or app start): signs in silently from the refresh cookie (cookie mode) or the
   * stored refresh token (memory mode), else ends signed out. Throws SessionClientError only
   * when the server could not answer (the state then stays `unknown`).
   */
  restore(): Promise<AuthState> {
    if (this.status === "signed-in") return Promise.resolve(this.snapshot);
    this.restoring ??= (async () => {
      try {
        // Nothing to restore: no stored token (memory mode), or this browser was never signed
        // in or signed out since (cookie mode: asking would only earn a 401 in the console).
        if (this.cookieMode ? !this.hint.get() : !(await this.storage.get(this.storageKey))) {
          this.endLocally(undefined, { tellTabs: false });
        } else {
          await this.refresh();
        }
        return this.snapshot;
      } finally {
        this.restoring = null;
      }
    })();
    return this.restoring;
  }

  /**
   * Signs out. Locally this always succeeds at once: memory and storage cleared, the live
   * connection closed, listeners and `onSignedOut` told, the other tabs signed out. Then it
   * ends the server session with whatever credential is left; a failure there is not thrown.
   */
  async signOut(): Promise<void> {
    const sessionId = this.token?.sessionId ?? this.snapshot.sessionId;
    const accessTokenLeft = this.token?.value ?? null;
    // Asked before endLocally() removes it (storage calls are issued in order).
    const refreshTokenLeft = this.cookieMode ? null : this.readStoredRefreshToken();
    const racingRefresh = this.refreshing;
    const hooks = this.endLocally("LOGOUT", { tellTabs: true });
    // A refresh racing this sign-out mints the newest credentials: wait for them.
    await racingRefresh?.catch(() => null);
    // Storage is the truth (another client may share it), unless a racing refresh of this one
    // rotated the token after it was read.
    const minted = racingRefresh && this.lastMinted?.sessionId === sessionId ? this.lastMinted : null;
    const refreshToken = minted?.refreshToken ?? (await refreshTokenLeft);
    await Promise.allSettled([
      hooks,
      this.endServerSession(minted?.accessToken ?? accessTokenLeft, refreshToken, { cookie: this.cookieMode }),
    ]);
  }

  /** Ends every other session of this user; returns how many. FORBIDDEN/SESSION_NOT_FRESH (`needsReauthentication`): reauthenticate first. */
  async signOutOtherDevices(): Promise<number> {
    return (await this.request(SignOutOtherDevicesDocument)).logoutAllDevices;
  }

  /**
   * "This wasn't me": ends every other session of this user (this one too with
   * `keepCurrent: false`), reason SECURITY_CONCERN; returns how many. Then have the user
   * change the password: whoever signed in knows it. FORBIDDEN/SESSION_NOT_FRESH
   * (`needsReauthentication`): reauthenticate first.
   */
  async secureAccount(options: { keepCurrent?: boolean } = {}): Promise<number> {
    return (await this.request(SecureAccountDocument, { keepCurrent: options.keepCurrent ?? true })).secureAccount;
  }

  /** Proves the password again, making the session fresh for sensitive operations. Throws INVALID_CREDENTIALS or RATE_LIMITED. */
  async reauthenticate(password: string): Promise<void> {
    await this.request(ReauthenticateDocument, { password });
  }

  /**
   * A current access token, refreshed first when it is close to expiry; null when signed out.
   * Waits for a restore() in progress. Throws SessionClientError when a needed refresh could
   * not reach the server.
   */
  async getAccessToken(): Promise<string | null> {
    if (this.restoring) await this.restoring.catch(() => undefined);
    if (this.status !== "signed-in" || !this.token) return null;
    if (!needsRefresh(this.token)) return this.token.value;
    const current = this.token;
    try {
      return await this.refresh();
    } catch (error) {
      // Not refreshed now (server unreachable): the old token still serves until it expires.
      if (!isExpired(current) && this.token === current) return current.value;
      throw error;
    }
  }

  /**
   * Runs a GraphQL operation over HTTP with the access token, refreshing once and retrying if
   * the token is refused (TOKEN_EXPIRED, TOKEN_INVALID). Resolves with `data`; throws
   * SessionClientError for any error. An answer saying the session is over signs out.
   */
  async request<TData, TVariables extends Record<string, unknown> = Record<string, unknown>>(
    document: DocumentInput<TData, TVariables>,
    variables?: TVariables,
  ): Promise<TData> {
    const query = documentText(document);
    const token = await this.getAccessToken();
    let answer = await this.post<TData>(query, variables, { token });
    if (token && (await this.handleErrors(answer.errors, { token })) === "retry") {
      answer = await this.post<TData>(query, variables, { token: await this.getAccessToken() });
      await this.handleErrors(answer.errors, { retried: true });
    }
    return dataOrThrow(answer);
  }

  /**
   * Subscribes over the SDK's own graphql-ws connection. Signed in only: else `sink.error` gets
   * an UNAUTHENTICATED SessionClientError (NETWORK_ERROR when no live connection can be held).
   * The subscription survives reconnects and completes when the client signs out. Returns the
   * unsubscribe.
   */
  subscribe<TData, TVariables extends Record<string, unknown> = Record<string, unknown>>(
    document: DocumentInput<TData, TVariables>,
    variables: TVariables | undefined,
    sink: SubscriptionSink<TData>,
  ): () => void {
    const query = documentText(document);
    let unsubscribe: (() => void) | undefined;
    let cancelled = false;
    const start = () => {
      if (cancelled) return;
      if (this.status !== "signed-in") {
        sink.error(new SessionClientError("UNAUTHENTICATED", "Sign in to subscribe.", { reason: "TOKEN_MISSING" }));
        return;
      }
      const live = this.ensureLive();
      if (!live) {
        sink.error(
          new SessionClientError("NETWORK_ERROR", "No live connection: no WebSocket, `live: false`, or it could not be held."),
        );
        return;
      }
      unsubscribe = live.subscribe(query, variables, sink as SubscriptionSink);
    };
    if (this.restoring) void this.restoring.catch(() => undefined).then(start);
    else start();
    return () => {
      cancelled = true;
      unsubscribe?.();
    };
  }

  /**
   * For transports other than request() (the urql and Apollo adapters): given a response's
   * errors, refreshes when the token was refused ("retry": send again with getAccessToken()),
   * and signs out when the session is over.
   */
  async handleErrors(
    errors: readonly GraphQLErrorLike[] | undefined,
    options: {
      /** The token the refused request carried. */ token?: string | null /** This was the retry already. */;
      retried?: boolean;
    } = {},
  ): Promise<"retry" | "none"> {
    const reason = unauthenticatedReason(errors);
    if (!reason || this.status !== "signed-in") return "none";
    if (SESSION_ENDED_REASONS.has(reason)) {
      this.endLocally(signOutReasonFor(reason), { tellTabs: true });
      return "none";
    }
    if (!TOKEN_REASONS.has(reason) || options.retried) return "none";
    // Another request refreshed since this one was sent: just send it again.
    if (options.token && this.token && options.token !== this.token.value) return "retry";
    const fresh = await this.refresh({ force: true }).catch(() => null);
    return fresh ? "retry" : "none";
  }

  /** Stops everything this client started (live connection, timers, listeners, the tab channel); for tests and unmounting. */
  dispose(): void {
    this.disposed = true;
    this.stopLive();
    this.tabs.close();
    for (const remove of this.removePageListeners) remove();
    this.listeners.clear();
    this.createdListeners.clear();
  }

  /**
   * One refresh at a time: in this client (callers share the promise) and per browser (the
   * tab lock). Resolves with the new token, or null when the session is over (then signed
   * out); throws SessionClientError when the server could not be asked.
   */
  private refresh(options: { force?: boolean } = {}): Promise<string | null> {
    this.refreshing ??= this.runRefresh(options.force ?? false).finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  private async runRefresh(force: boolean): Promise<string | null> {
    const epoch = this.epoch;
    const before = this.token;
    try {
      const payload = await this.tabs.withRefreshLock(async () => {
        // Another tab refreshed while this one waited for the lock: its token was shared.
        if (this.token && this.token !== before && (force || !needsRefresh(this.token))) return null;
        return this.refreshOverNetwork(epoch);
      });
      if (payload && epoch === this.epoch) await this.signedIn(payload, { refreshed: true });
      return this.status === "signed-in" && this.token ? this.token.value : null;
    } catch (error) {
      if (!(error instanceof SessionOver)) throw error;
      if (epoch === this.epoch) this.endLocally(error.reason, { tellTabs: true });
      return null;
    }
  }

  /**
   * Spends the refresh token. A lost race (REFRESH_TOKEN_ROTATED) is never a sign-out: take
   * the token the winning tab shared, or try again with the winner's refresh token (memory
   * mode: from storage; cookie mode: the winner's cookie is in the jar by now).
   */
  private async refreshOverNetwork(epoch: number): Promise<SignedInFragment | null> {
    const before = this.token;
    for (let attempt = 0; ; attempt++) {
      const sent = this.cookieMode ? null : ((await this.storage.get(this.storageKey)) ?? null);
      if (!this.cookieMode && !sent) throw new SessionOver(undefined);
      const answer = await this.post(RefreshDocument, this.cookieMode ? {} : { refreshToken: sent }, { cookie: this.cookieMode });
      const payload = answer.data?.refreshSession;
      if (payload) {
        this.lastMinted = { sessionId: payload.session.id, accessToken: payload.accessToken, refreshToken: payload.refreshToken };
        // Signed out meanwhile: the new credentials only serve the pending logout.
        if (epoch !== this.epoch) return null;
        if (!this.cookieMode && payload.refreshToken) await this.storage.set(this.storageKey, payload.refreshToken);
        return payload;
      }
      const error = SessionClientError.fromErrors(answer.errors ?? [], answer.status, answer.retryAfter);
      if (error.code === "UNAUTHENTICATED") throw new SessionOver(signOutReasonFor(error.reason ?? ""));
      if (error.code !== "REFRESH_TOKEN_ROTATED" || attempt >= 5) throw error;
      // Lost the race to another tab or client: wait for what the winner leaves behind.
      for (let waited = 0; waited < 2000; waited += 50) {
        await sleep(50);
        if (this.token !== before && this.token && !needsRefresh(this.token)) return null;
        if (!this.cookieMode && (await this.storage.get(this.storageKey)) !== sent) break;
        if (this.cookieMode && waited >= 100 * (attempt + 1)) break;
      }
      if (this.token !== before && this.token && !needsRefresh(this.token)) return null;
    }
  }

  /** Takes a sign-in or refresh payload as the current session. */
  private async signedIn(payload: SignedInFragment, options: { refreshed?: boolean } = {}): Promise<void> {
    const sessionId = payload.session.id;
    if (this.ended.has(sessionId)) return;
    const previous = this.status === "signed-in" && this.token?.sessionId !== sessionId ? this.token : null;
    const previousRefreshToken = previous && !this.cookieMode ? ((await this.storage.get(this.storageKey)) ?? null) : null;
    this.lastMinted = { sessionId, accessToken: payload.accessToken, refreshToken: payload.refreshToken };
    if (!this.cookieMode && !options.refreshed && payload.refreshToken)
      await this.storage.set(this.storageKey, payload.refreshToken);
    this.token = accessToken(payload.accessToken, sessionId, payload.accessTokenExpiresAt);
    this.hint.set(true);
    this.adopt(payload.user, this.token, this.status === "signed-in" && !previous ? "TOKEN_REFRESHED" : "SIGNED_IN");
    this.tabs.post({
      type: "token",
      accessToken: this.token.value,
      sessionId,
      user: payload.user,
      expiresAt: this.token.expiresAt,
      refreshAt: this.token.refreshAt,
    });
    // Signed in over another session: end the old one (its cookie, if any, is already replaced).
    if (previous) void this.endServerSession(previous.value, previousRefreshToken, { cookie: false });
  }

  private adopt(user: User, token: AccessToken, type: "SIGNED_IN" | "TOKEN_REFRESHED"): void {
    this.token = token;
    this.user = user;
    this.status = "signed-in";
    this.setSnapshot();
    this.ensureLive();
    this.startChecks();
    this.emit({ type, sessionId: token.sessionId });
  }

  /**
   * Signs out locally, synchronously: memory, storage key, live connection, then listeners,
   * `onSignedOut` and (unless the news came from one) the other tabs. Returns the hooks' promise.
   */
  private endLocally(reason: SignOutReason | undefined, options: { tellTabs: boolean }): Promise<unknown> {
    if (this.status === "signed-out") return Promise.resolve();
    const wasSignedIn = this.status === "signed-in";
    const sessionId = this.token?.sessionId ?? this.snapshot.sessionId ?? undefined;
    this.epoch++;
    if (sessionId) this.ended.add(sessionId);
    this.status = "signed-out";
    this.token = null;
    this.user = null;
    this.setSnapshot();
    this.stopLive();
    this.liveUnusable = false;
    this.stopChecks();
    this.hint.set(false);
    const cleared = this.cookieMode
      ? Promise.resolve()
      : Promise.resolve(this.storage.remove(this.storageKey)).catch(() => undefined);
    const event: SignedOutEvent = { type: "SIGNED_OUT", ...(reason ? { reason } : {}), ...(sessionId ? { sessionId } : {}) };
    this.emit(event);
    if (options.tellTabs && wasSignedIn) this.tabs.post({ type: "signed-out", sessionId: sessionId ?? null, reason });
    const hook =
      wasSignedIn && this.options.onSignedOut
        ? Promise.resolve().then(() => this.options.onSignedOut?.(event))
        : Promise.resolve();
    return Promise.allSettled([cleared, hook]);
  }

  /**
   * Ends the server session with the credentials left; one request. Each credential sent ends
   * the session it proves: the access token (the server accepts it expired, for a logout
   * alone), the refresh token (memory mode), the refresh cookie (cookie mode).
   */
  private async endServerSession(token: string | null, refreshToken: string | null, options: { cookie: boolean }): Promise<void> {
    if (!token && !refreshToken && !options.cookie) return;
    try {
      await this.post(SignOutDocument, refreshToken ? { refreshToken } : undefined, { token, cookie: options.cookie });
    } catch {
      // Unreachable: the session ends on its own (expiry); locally it is over already.
    }
  }

  /**
   * Memory mode: the sign-in input with this device's id, made once and kept in `storage`
   * (cookie mode: the server's HttpOnly cookie is the device). A storage failure only costs
   * the recognition, never the sign-in.
   */
  private async withDevice(input: SignInInput): Promise<SignInInput & { deviceId?: string }> {
    if (this.cookieMode) return input;
    try {
      let deviceId = await this.storage.get(this.deviceIdKey);
      if (!deviceId || !/^[A-Za-z0-9_-]{1,64}$/.test(deviceId)) {
        deviceId = randomDeviceId();
        await this.storage.set(this.deviceIdKey, deviceId);
      }
      return { ...input, deviceId };
    } catch {
      return input;
    }
  }

  private async readStoredRefreshToken(): Promise<string | null> {
    try {
      return (await this.storage.get(this.storageKey)) ?? null;
    } catch {
      return null;
    }
  }

  private onTabMessage(message: TabMessage): void {
    if (this.disposed) return;
    if (message.type === "signed-out") {
      if (message.sessionId) this.ended.add(message.sessionId);
      if (this.status === "signed-out" || (message.sessionId && this.token && message.sessionId !== this.token.sessionId)) return;
      // The user's own sign-out in another tab reads as such; a server's reason passes through.
      const reason = !message.reason || message.reason === "LOGOUT" ? "SIGNED_OUT_IN_ANOTHER_TAB" : message.reason;
      this.endLocally(reason, { tellTabs: false });
      return;
    }
    if (this.ended.has(message.sessionId)) return;
    if (this.token && this.token.sessionId === message.sessionId && this.token.expiresAt >= message.expiresAt) return;
    const token: AccessToken = {
      value: message.accessToken,
      sessionId: message.sessionId,
      expiresAt: message.expiresAt,
      refreshAt: message.refreshAt,
    };
    const type = this.status === "signed-in" && this.token?.sessionId === message.sessionId ? "TOKEN_REFRESHED" : "SIGNED_IN";
    this.adopt(message.user, token, type);
  }

  /**
   * The cheap check when no live connection tells the SDK of revocations: one request whose
   * context check fails if the session is over (then request() signs out).
   */
  private async check(): Promise<void> {
    if (this.status !== "signed-in" || this.disposed) return;
    try {
      await this.request(SessionCheckDocument);
      // The session is fine: if the live connection had given up, try it again.
      if (this.liveUnusable && this.status === "signed-in") {
        this.liveUnusable = false;
        this.ensureLive();
      }
    } catch {
      // Unreachable now: the next check tries again.
    }
  }

  private startChecks(): void {
    if (this.checkTimer || this.disposed) return;
    const interval = (this.options.checkInterval ?? 60) * 1000;
    this.checkTimer = setInterval(() => {
      if (!this.live?.connected) void this.check();
    }, interval);
    (this.checkTimer as { unref?: () => void }).unref?.();
  }

  private stopChecks(): void {
    clearInterval(this.checkTimer);
    this.checkTimer = undefined;
  }

  private ensureLive(): LiveConnection | null {
    if (this.live || this.disposed || this.liveUnusable || this.options.live === false || !this.webSocketImpl) return this.live;
    this.live = new LiveConnection(this.wsUrl, this.webSocketImpl, {
      token: (fresh) => (fresh ? this.refresh({ force: true }) : this.getAccessToken()),
      // Tabs share one session: its LOGOUT, not this tab's doing, was another tab's (whose
      // broadcast may trail the server's event).
      sessionEnded: (reason) =>
        this.endLocally(this.crossTab && reason === "LOGOUT" ? "SIGNED_OUT_IN_ANOTHER_TAB" : reason, { tellTabs: true }),
      otherSessionEnded: (event) =>
        this.emit({ type: "OTHER_SESSION_ENDED", sessionId: event.sessionId, reason: event.reason, revokedAt: event.revokedAt }),
      sessionCreated: (event) => {
        for (const listener of [...this.createdListeners]) {
          try {
            listener(event);
          } catch (error) {
            queueMicrotask(() => {
              throw error;
            });
          }
        }
      },
      unusable: () => {
        this.stopLive();
        this.liveUnusable = true;
        void this.check();
      },
    });
    return this.live;
  }

  private stopLive(): void {
    const live = this.live;
    this.live = null;
    live?.stop();
  }

  private setSnapshot(): void {
    this.snapshot = Object.freeze({
      status: this.status,
      user: this.user ? Object.freeze({ ...this.user }) : null,
      sessionId: this.token?.sessionId ?? null,
    });
  }

  private emit(event: AuthEvent): void {
    const state = this.snapshot;
    for (const listener of [...this.listeners]) {
      try {
        listener(event, state);
      } catch (error) {
        // A listener's bug must not stop the others, nor the sign-out; it surfaces as uncaught.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }

  private post<TData>(
    document: DocumentInput<TData, never>,
    variables: Record<string, unknown> | undefined,
    options: { token?: string | null; cookie?: boolean } = {},
  ): Promise<GraphQLAnswer<TData>> {
    return postGraphQL<TData>(this.fetchImpl, this.options.url, documentText(document), variables, options);
  }
}

/**
 * Creates the client. Call `restore()` once at start-up (page load, app launch): it signs in
 * silently when a session is left, else ends `signed-out`.
 */
export function createSessionClient(options: SessionClientOptions): SessionClient {
  return new SessionClient(options);
}
