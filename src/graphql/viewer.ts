import type { GraphQLError } from "graphql";
import { forbidden, unauthenticated } from "../errors/error-codes";
import type { ServiceScope } from "../service-keys/service-key";
import type { SessionRefusal } from "../sessions/validate-session";
import type { GraphQLContext, ServiceViewer, Viewer } from "./context";

/**
 * The signed-in viewer; an anonymous request gets UNAUTHENTICATED (reason TOKEN_MISSING), and
 * a service key FORBIDDEN (USER_SESSION_REQUIRED): a key never stands in for a user.
 */
export function requireViewer(ctx: GraphQLContext): Viewer {
  if (ctx.viewer) return ctx.viewer;
  if (ctx.service) throw forbidden("USER_SESSION_REQUIRED");
  throw unauthenticated("TOKEN_MISSING");
}

/**
 * The service key acting, holding `scope` (if one is named): the guard of every field a key may call. No
 * credential: UNAUTHENTICATED (TOKEN_MISSING); a user's session: FORBIDDEN
 * (SERVICE_KEY_REQUIRED); a key without the scope: FORBIDDEN (SCOPE_MISSING, `scope` named).
 * The key was read from the database for this request, so a revoked one never gets here.
 */
export function requireServiceScope(ctx: GraphQLContext, scope?: ServiceScope): ServiceViewer {
  if (!ctx.service) throw ctx.viewer ? forbidden("SERVICE_KEY_REQUIRED") : unauthenticated("TOKEN_MISSING");
  if (scope && !ctx.service.scopes.has(scope)) throw forbidden("SCOPE_MISSING", { scope });
  return ctx.service;
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
