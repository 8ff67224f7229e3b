import DataLoader from "dataloader";
import type { AdminService } from "../admin/admin.service";
import type { AuditLogService } from "../audit-log/audit-log.service";
import type { Actor } from "../audit-log/request-actor";
import type { AccountService } from "../auth/account.service";
import type { AuthService } from "../auth/auth.service";
import { rateLimited, serviceUnavailable, type UnauthenticatedReason, unauthenticated } from "../errors/error-codes";
import type { OutboxStore } from "../events/outbox.store";
import { invariant } from "../lib/invariant";
import type { Logger } from "../lib/logger";
import type { ServiceKeyService, ServiceViewer } from "../service-keys/service-key.service";
import type { RevokedEventPayload, SessionCreated } from "../sessions/revocation/revocation";
import type { SessionService } from "../sessions/session.service";
import type { SessionCheck, SessionRef, Viewer } from "../sessions/validate-session";
import type { UserEntity } from "../users/user.entity";
import type { UserService } from "../users/user.service";
import { isLogoutOnly } from "./logout-only";
import { ResponseHints } from "./response-hints";

export type { ServiceViewer } from "../service-keys/service-key.service";
export type { SessionRef, Viewer } from "../sessions/validate-session";

/** What resolvers reach through `ctx.services`: the domain services, nothing of a transport. */
export interface ResolverServices {
  users: UserService;
  sessions: SessionService;
  auth: AuthService;
  account: AccountService;
  auditLog: AuditLogService;
  admin: AdminService;
  serviceKeys: ServiceKeyService;
  outbox: OutboxStore;
}

/** What the context builder needs: the session check, a logger, the parser's token limit. */
export interface ContextDeps extends ResolverServices {
  logger: Logger;
  config: { readonly queryLimits: { readonly maxTokens: number } };
  /** Library mode: the app's own services and per-request loaders (see app/session-api.ts). */
  app?: AppContext;
}

/** Makes one of an app's DataLoaders, once per request, on first use: never shared across requests or users. */
// biome-ignore lint/suspicious/noExplicitAny: a loader's key and value types are the app's.
export type LoaderFactory = (ctx: GraphQLContext) => DataLoader<any, any>;

/** What an app adds to every request's context: `ctx.app` and its loaders beside ours. */
export interface AppContext {
  services: unknown;
  loaders: Readonly<Record<string, LoaderFactory>>;
}

/** The WebSocket an operation arrived on: where its subscription's events come from. */
export interface OperationSocket {
  /** This socket's share of its user's sessionRevoked events. */
  sessionRevoked(): AsyncIterableIterator<RevokedEventPayload>;
  /** Its user's new sessions on every device but this socket's own. */
  sessionCreated(): AsyncIterableIterator<SessionCreated>;
}

/**
 * A request's context. An app's resolvers (library mode) name their own parts:
 * `GraphQLContext<{ notes: NoteService }, { notesByUser: DataLoader<string, Note[]> }>`.
 */
// biome-ignore lint/complexity/noBannedTypes: no app loaders is the empty object type.
export interface GraphQLContext<App = unknown, AppLoaders = {}> {
  /** The signed-in user and session, or null for an anonymous request. */
  viewer: Viewer | null;
  /**
   * The service key the request carried (`Authorization: ApiKey <key>`), or null. Never set
   * together with `viewer`: a request acts as a user or as a backend, not both.
   */
  service: ServiceViewer | null;
  /**
   * Set only for an operation of `logout` alone (see logout-only.ts) whose access token is
   * genuine but expired: the live session it names, which that logout ends. Nothing else reads
   * it; `viewer` stays null.
   */
  expiredTokenSession: SessionRef | null;
  /** The client and, when signed in, its session: recorded on sessions and in the audit log. */
  actor: Actor;
  /**
   * "cookie" when the client asked for browser cookie mode (`x-auth-transport: cookie`):
   * refresh tokens then travel only in the HttpOnly cookie.
   */
  transport: "cookie" | "body";
  /** The refresh cookie's value, read only in cookie mode. */
  refreshCookie: string | null;
  /** The device cookie's value (unchecked), read only in cookie mode. */
  deviceCookie: string | null;
  /** Cookies for the transport to write; see ResponseHints. */
  response: ResponseHints;
  /** Ours (`user`) and, in library mode, the app's, each made per request on first use. */
  loaders: Loaders & AppLoaders;
  services: ResolverServices;
  /** Library mode: what the app's `services` option made (undefined otherwise). */
  app: App;
  /** The WebSocket this operation arrived on; undefined over HTTP. */
  connection?: OperationSocket;
}

/**
 * Made per request: a loader's cache must never outlive the request or cross users. (Session
 * lookups are coalesced across concurrent requests by SessionCache's own DataLoader, which
 * batches but never caches.)
 */
export interface Loaders {
  user: DataLoader<string, UserEntity | null>;
}

/**
 * Each loader is made on first use: most requests (`me` included, see UserResolver) never
 * need one. (A class, not an object literal with a getter: this runs on every request.)
 */
class RequestLoaders implements Loaders {
  private userLoader: Loaders["user"] | undefined;
  /** The request's context, for an app's loader factories (set as the context is made). */
  context!: GraphQLContext;

  constructor(private readonly services: ResolverServices) {}

  get user(): Loaders["user"] {
    return (this.userLoader ??= new DataLoader((ids) => this.services.users.loadUsers(ids)));
  }
}

/**
 * Our loaders plus an app's, as lazy getters on one class made once at start-up: a request
 * pays for a loader only when a resolver uses it, and the per-request object keeps one shape.
 */
function loadersClass(factories: Readonly<Record<string, LoaderFactory>> | undefined): typeof RequestLoaders {
  if (!factories || Object.keys(factories).length === 0) return RequestLoaders;
  class AppRequestLoaders extends RequestLoaders {}
  for (const [name, make] of Object.entries(factories)) {
    invariant(name !== "user" && name !== "context", `the loader name "${name}" is the session API's own`);
    Object.defineProperty(AppRequestLoaders.prototype, name, {
      get(this: RequestLoaders) {
        const loader = make(this.context);
        Object.defineProperty(this, name, { value: loader });
        return loader;
      },
    });
  }
  return AppRequestLoaders;
}

const MAX_AUTHORIZATION_LENGTH = 4096;

/** A refused credential is logged (ASVS V16.3.2) with its reason and origin, never the token. */
function refused(deps: ContextDeps, input: ContextInput, reason: UnauthenticatedReason, sessionId?: string) {
  deps.logger.info({ reason, sessionId, ip: input.actor.ipAddress }, "refused access token");
  return unauthenticated(reason);
}

/** What the transport saw: the credential it carries and where it came from. */
export interface ContextInput {
  /** The `Authorization` header (HTTP) or `connectionParams.authorization` (WebSocket). */
  authorization: unknown;
  /** The acting client as the transport saw it (`sessionId` null: the builder adds it). */
  actor: Actor;
  /** HTTP only: cookie mode and its cookie (default: body mode, no cookie). */
  transport?: "cookie" | "body";
  refreshCookie?: string | null;
  deviceCookie?: string | null;
  response?: ResponseHints;
  /**
   * Read the session from the database, not memory: for the WebSocket's connect and every
   * subscribe, which are rare and long-lived enough to deserve the last word.
   */
  authoritative?: boolean;
  /**
   * HTTP only: the request body (`query`, `operationName`), read only when the credential can
   * no longer be used, to let an operation of `logout` alone through. Without it (WebSocket),
   * such a credential is refused whatever the operation.
   */
  operation?: unknown;
}

/**
 * The one context builder for HTTP and WebSocket. It runs before any resolver: a request with
 * a credential that is malformed, forged, expired, or whose session is revoked, expired or
 * unknown is refused here as a whole (401, UNAUTHENTICATED with a `reason`), so no resolver
 * runs and nothing is written. No credential means an anonymous request.
 *
 * One exception, so that logging out never fails: an HTTP operation of `logout` alone may
 * carry a genuine token that expired (its live session goes in `expiredTokenSession`, for the
 * logout to end) or whose session has already ended (an anonymous context: logout answers
 * true). A forged or malformed token is refused even then, and so is a token naming a session
 * of another user.
 */
export async function buildContext(
  deps: ContextDeps,
  input: ContextInput,
  Loaders: typeof RequestLoaders = RequestLoaders,
): Promise<GraphQLContext> {
  if (input.authorization === undefined || input.authorization === null || input.authorization === "") {
    return contextFor(deps, Loaders, input, null);
  }
  // Our tokens are a few hundred bytes; anything far longer is refused before it is parsed.
  const plausible = typeof input.authorization === "string" && input.authorization.length <= MAX_AUTHORIZATION_LENGTH;
  const apiKey = plausible ? /^ApiKey ([^\s]+)$/i.exec(input.authorization as string) : null;
  if (apiKey) return serviceContext(deps, Loaders, input, apiKey[1]);
  const match = plausible ? /^Bearer ([^\s]+)$/i.exec(input.authorization as string) : null;
  if (!match) throw refused(deps, input, "TOKEN_INVALID");
  const token = match[1];
  const authoritative = input.authoritative ?? false;
  let check: SessionCheck;
  try {
    check = await deps.sessions.validateSession({ token }, { authoritative });
    // The operation is looked at only once the credential has turned out unusable, and at most once.
    if (!check.ok && check.reason !== "TOKEN_INVALID" && isLogoutOnly(input.operation, deps.config.queryLimits.maxTokens)) {
      if (check.reason === "TOKEN_EXPIRED")
        check = await deps.sessions.validateSession({ token }, { authoritative, acceptExpiredToken: true });
      // Already over: logging it out again changes nothing and answers true.
      if (!check.ok && check.reason !== "TOKEN_INVALID") return contextFor(deps, Loaders, input, null);
    }
  } catch {
    // Fail closed: a session we cannot check is never treated as alive.
    throw serviceUnavailable();
  }
  if (!check.ok) {
    invariant(check.reason !== "SESSION_NOT_FRESH", "a plain session check never asks for freshness");
    throw refused(deps, input, check.reason, check.sessionId);
  }
  const { viewer } = check;
  if (check.expiredToken) return contextFor(deps, Loaders, input, null, { userId: viewer.userId, sessionId: viewer.sessionId });
  return contextFor(deps, Loaders, input, viewer);
}

/**
 * A request made with a service key: the key is read from the database on every request (see
 * ServiceKeyService), throttled, and logged with its prefix (never the key). A key that is
 * malformed, unknown or revoked is refused as a whole, as a bad access token is.
 */
async function serviceContext(
  deps: ContextDeps,
  Loaders: typeof RequestLoaders,
  input: ContextInput,
  key: string,
): Promise<GraphQLContext> {
  let check: Awaited<ReturnType<ServiceKeyService["authenticate"]>>;
  try {
    check = await deps.serviceKeys.authenticate(key);
  } catch {
    throw serviceUnavailable();
  }
  if (!check.ok) {
    deps.logger.info({ reason: check.reason, ip: input.actor.ipAddress }, "refused service key");
    if (check.reason === "RATE_LIMITED") throw rateLimited(check.retryAfterSeconds);
    throw unauthenticated(check.reason);
  }
  const { service } = check;
  deps.logger.info(
    { serviceKey: service.prefix, name: service.name, ip: input.actor.ipAddress, operation: operationName(input.operation) },
    "service key request",
  );
  return contextFor(deps, Loaders, input, null, null, service);
}

/** The operation's name, for the service-key log line (a string at most 100 characters, or null). */
function operationName(operation: unknown): string | null {
  const name = (operation as { operationName?: unknown } | undefined)?.operationName;
  return typeof name === "string" ? name.slice(0, 100) : null;
}

/** The context builder bound to its dependencies: what a transport is handed. */
export type ContextBuilder = (input: ContextInput) => Promise<GraphQLContext>;

export function contextBuilder(deps: ContextDeps): ContextBuilder {
  const Loaders = loadersClass(deps.app?.loaders);
  return (input) => buildContext(deps, input, Loaders);
}

/** One object literal in one shape for every request (this runs on every request). */
function contextFor(
  deps: ContextDeps,
  Loaders: typeof RequestLoaders,
  input: ContextInput,
  viewer: Viewer | null,
  expiredTokenSession: SessionRef | null = null,
  service: ServiceViewer | null = null,
): GraphQLContext {
  const transport = input.transport ?? "body";
  const sessionId = viewer?.sessionId ?? expiredTokenSession?.sessionId ?? null;
  const loaders = new Loaders(deps);
  const context: GraphQLContext = {
    viewer,
    service,
    expiredTokenSession,
    actor: { ipAddress: input.actor.ipAddress, userAgent: input.actor.userAgent, sessionId, serviceKey: service?.prefix ?? null },
    transport,
    refreshCookie: transport === "cookie" ? (input.refreshCookie ?? null) : null,
    deviceCookie: transport === "cookie" ? (input.deviceCookie ?? null) : null,
    response: input.response ?? new ResponseHints(),
    loaders,
    services: deps,
    app: deps.app?.services,
  };
  loaders.context = context;
  return context;
}
