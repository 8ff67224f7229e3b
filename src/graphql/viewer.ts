import type { GraphQLError } from "graphql";
import { forbidden, unauthenticated } from "../errors/error-codes";
import type { SessionRefusal } from "../sessions/validate-session";
import type { GraphQLContext, Viewer } from "./context";

/** The signed-in viewer; an anonymous request gets UNAUTHENTICATED (reason TOKEN_MISSING). */
export function requireViewer(ctx: GraphQLContext): Viewer {
  if (!ctx.viewer) throw unauthenticated("TOKEN_MISSING");
  return ctx.viewer;
}

/**
 * The viewer, whose session the database (never a cached copy, which may predate a
 * revocation) says is alive: before an action a revoked session may not even attempt, such as
 * guessing the current password. Else UNAUTHENTICATED.
 */
export async function requireAuthoritativeViewer(ctx: GraphQLContext): Promise<Viewer> {
  const viewer = requireViewer(ctx);
  const check = await ctx.services.sessions.validateSession({ session: viewer }, { authoritative: true });
  if (!check.ok) throw refusalError(check.reason);
  return viewer;
}

/**
 * As requireAuthoritativeViewer, and the session is fresh: proved the password within
 * FRESH_SESSION_TTL. For ending other sessions (ASVS V7.5.2), so a stolen, stale token cannot
 * sign the real user out everywhere. Else FORBIDDEN (SESSION_NOT_FRESH) or UNAUTHENTICATED.
 */
export async function requireFreshViewer(ctx: GraphQLContext): Promise<Viewer> {
  const viewer = requireViewer(ctx);
  const check = await ctx.services.sessions.validateSession({ session: viewer }, { fresh: true });
  if (!check.ok) throw refusalError(check.reason);
  return viewer;
}

/** A session check's refusal as the catalog error a client receives. */
export function refusalError(reason: SessionRefusal): GraphQLError {
  return reason === "SESSION_NOT_FRESH" ? forbidden(reason) : unauthenticated(reason);
}
