import DataLoader from "dataloader";
import { appError, unauthenticated } from "../errors/error-codes";
import type { SessionEntity } from "../sessions/session.entity";
import type { ClientInfo } from "../sessions/session.service";
import type { UserEntity } from "../users/user.entity";
import type { Services } from "../app";
import type { LiveConnection } from "../live/live-connections";

export interface Viewer {
  userId: string;
  sessionId: string;
  session: SessionEntity;
}

export interface GraphQLContext {
  /** The signed-in user and session, or null for an anonymous request. */
  viewer: Viewer | null;
  client: ClientInfo;
  loaders: Loaders;
  services: Services;
  /** The WebSocket this operation arrived on; undefined over HTTP. */
  connection?: LiveConnection;
}

export interface Loaders {
  user: DataLoader<string, UserEntity | null>;
  session: DataLoader<string, SessionEntity | null>;
}

/** Made per request: a loader's cache must never outlive the request or cross users. */
function createLoaders(services: Services): Loaders {
  return {
    user: new DataLoader((ids) => services.users.loadUsers(ids)),
    session: new DataLoader((ids) => services.sessions.loadSessions(ids)),
  };
}

/** What the transport saw: the credential it carries and where it came from. */
export interface ContextInput {
  /** The `Authorization` header (HTTP) or `connectionParams.authorization` (WebSocket). */
  authorization: unknown;
  client: ClientInfo;
}

/**
 * The one context builder for HTTP and WebSocket. It runs before any resolver: a request with
 * a credential that is malformed, forged, expired, or whose session is revoked, expired or
 * unknown is refused here as a whole (401, UNAUTHENTICATED with a `reason`), so no resolver
 * runs and nothing is written. No credential means an anonymous request.
 */
export async function buildContext(services: Services, input: ContextInput): Promise<GraphQLContext> {
  const loaders = createLoaders(services);
  const base = { client: input.client, loaders, services };
  if (input.authorization === undefined || input.authorization === null || input.authorization === "") {
    return { ...base, viewer: null };
  }
  const match = typeof input.authorization === "string" ? /^Bearer ([^\s]+)$/i.exec(input.authorization) : null;
  if (!match) throw unauthenticated("TOKEN_INVALID");
  const verified = services.accessTokens.verify(match[1]);
  if (!verified.ok) throw unauthenticated(verified.reason);
  const { userId, sessionId } = verified.claims;

  let session: SessionEntity | null;
  try {
    session = await loaders.session.load(sessionId);
  } catch {
    // Fail closed: a session we cannot check is never treated as alive.
    throw appError("SERVICE_UNAVAILABLE");
  }
  const invalid = services.sessions.invalidReason(session);
  if (invalid || !session) throw unauthenticated(invalid ?? "SESSION_NOT_FOUND");
  // The session must belong to the token's subject.
  if (session.userId !== userId) throw unauthenticated("TOKEN_INVALID");
  services.lastActive.seen(session);
  return { ...base, viewer: { userId, sessionId, session } };
}
