import DataLoader from "dataloader";
import { appError, unauthenticated, type UnauthenticatedReason } from "../errors/error-codes";
import type { SessionEntity } from "../sessions/session.entity";
import type { Actor } from "../security/request-actor";
import type { ClientInfo } from "../sessions/session.service";
import type { UserEntity } from "../users/user.entity";
import type { Services } from "../app";
import type { LiveConnection } from "../live/live-connections";
import { isLogoutOnly } from "./logout-only";
import { ResponseHints } from "./response-hints";

export interface Viewer {
  userId: string;
  sessionId: string;
  session: SessionEntity;
}

/** A session an access token names, without the rights of a viewer. */
export interface SessionRef {
  userId: string;
  sessionId: string;
}

export interface GraphQLContext {
  /** The signed-in user and session, or null for an anonymous request. */
  viewer: Viewer | null;
  /**
   * Set only for an operation of `logout` alone (see logout-only.ts) whose access token is
   * genuine but expired: the live session it names, which that logout ends. Nothing else reads
   * it; `viewer` stays null.
   */
  expiredTokenSession: SessionRef | null;
  client: ClientInfo;
  /** The client and, when signed in, its session: recorded by the security activity log. */
  actor: Actor;
  /**
   * "cookie" when the client asked for browser cookie mode (`x-auth-transport: cookie`):
   * refresh tokens then travel only in the HttpOnly cookie.
   */
  transport: "cookie" | "body";
  /** The refresh cookie's value, read only in cookie mode. */
  refreshCookie: string | null;
  /** Cookies for the transport to write; see ResponseHints. */
  response: ResponseHints;
  loaders: Loaders;
  services: Services;
  /** The WebSocket this operation arrived on; undefined over HTTP. */
  connection?: LiveConnection;
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

  constructor(private readonly services: Services) {}

  get user(): Loaders["user"] {
    return (this.userLoader ??= new DataLoader((ids) => this.services.users.loadUsers(ids)));
  }
}

const MAX_AUTHORIZATION_LENGTH = 4096;

/** A refused credential is logged (ASVS V16.3.2) with its reason and origin, never the token. */
function refused(services: Services, input: ContextInput, reason: UnauthenticatedReason, sessionId?: string) {
  services.logger.info({ reason, sessionId, ip: input.client.ipAddress }, "refused access token");
  return unauthenticated(reason);
}

/** What the transport saw: the credential it carries and where it came from. */
export interface ContextInput {
  /** The `Authorization` header (HTTP) or `connectionParams.authorization` (WebSocket). */
  authorization: unknown;
  client: ClientInfo;
  /** HTTP only: cookie mode and its cookie (default: body mode, no cookie). */
  transport?: "cookie" | "body";
  refreshCookie?: string | null;
  response?: ResponseHints;
  /**
   * Read the session from the database, not memory: for the WebSocket's connect and every
   * subscribe, which are rare and long-lived enough to deserve the last word.
   */
  fresh?: boolean;
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
export async function buildContext(services: Services, input: ContextInput): Promise<GraphQLContext> {
  if (input.authorization === undefined || input.authorization === null || input.authorization === "") {
    return contextFor(services, input, null);
  }
  // Our tokens are a few hundred bytes; anything far longer is refused before it is parsed.
  const plausible = typeof input.authorization === "string" && input.authorization.length <= MAX_AUTHORIZATION_LENGTH;
  const match = plausible ? /^Bearer ([^\s]+)$/i.exec(input.authorization as string) : null;
  if (!match) throw refused(services, input, "TOKEN_INVALID");
  const verified = services.accessTokens.verify(match[1]);
  if (!verified.ok && verified.reason === "TOKEN_INVALID") throw refused(services, input, "TOKEN_INVALID");
  const { userId, sessionId } = verified.claims;
  // The operation is looked at only once the credential has turned out unusable, and at most once.
  const maxTokens = services.config.queryLimits.maxTokens;
  if (!verified.ok && !isLogoutOnly(input.operation, maxTokens)) throw refused(services, input, "TOKEN_EXPIRED", sessionId);

  let session: SessionEntity | null;
  let invalid: ReturnType<typeof services.sessions.invalidReason>;
  try {
    session = input.fresh
      ? await services.sessionCache.load(sessionId)
      : (services.sessionCache.peek(sessionId) ?? (await services.sessionCache.load(sessionId)));
    invalid = services.sessions.invalidReason(session);
    // Memory only ever says "alive" on its own: a cached session that looks idle-expired may
    // have been used on another instance since, so the database has the last word.
    if (invalid === "SESSION_EXPIRED" && !input.fresh) {
      session = await services.sessionCache.load(sessionId);
      invalid = services.sessions.invalidReason(session);
    }
  } catch {
    // Fail closed: a session we cannot check is never treated as alive.
    throw appError("SERVICE_UNAVAILABLE");
  }
  // The session must belong to the token's subject.
  if (session && session.userId !== userId) throw refused(services, input, "TOKEN_INVALID", sessionId);
  if (invalid || !session) {
    // Already over: logging it out again changes nothing and answers true. (An expired token
    // got this far only for an operation of logout alone.)
    if (!verified.ok || isLogoutOnly(input.operation, maxTokens)) return contextFor(services, input, null);
    throw refused(services, input, invalid ?? "SESSION_NOT_FOUND", sessionId);
  }
  if (!verified.ok) return contextFor(services, input, null, { userId, sessionId });
  services.lastActive.seen(session);
  return contextFor(services, input, { userId, sessionId, session });
}

/** One object literal in one shape for every request (this runs on every request). */
function contextFor(
  services: Services,
  input: ContextInput,
  viewer: Viewer | null,
  expiredTokenSession: SessionRef | null = null,
): GraphQLContext {
  const transport = input.transport ?? "body";
  const sessionId = viewer?.sessionId ?? expiredTokenSession?.sessionId ?? null;
  return {
    viewer,
    expiredTokenSession,
    client: input.client,
    actor: { ipAddress: input.client.ipAddress, userAgent: input.client.userAgent, sessionId },
    transport,
    refreshCookie: transport === "cookie" ? (input.refreshCookie ?? null) : null,
    response: input.response ?? new ResponseHints(),
    loaders: new RequestLoaders(services),
    services,
  };
}
