import type { AuthChecker } from "type-graphql";
import { forbidden } from "../errors/error-codes";
import type { SessionCheck } from "../sessions/validate-session";
import type { GraphQLContext } from "./context";
import { refusalError, requireViewer } from "./viewer";

/**
 * `@Authorized(FRESH_SESSION)`: any signed-in viewer whose session proved its password within
 * FRESH_SESSION_TTL, no role needed (library mode: an app's sensitive fields).
 */
export const FRESH_SESSION = "FRESH_SESSION";

/** One authoritative, fresh session check per request, shared by every guarded field in it. */
const checks = new WeakMap<GraphQLContext, Promise<SessionCheck>>();

function freshCheck(ctx: GraphQLContext): Promise<SessionCheck> {
  const viewer = requireViewer(ctx);
  let check = checks.get(ctx);
  if (!check) {
    check = ctx.services.sessions.validateSession({ session: viewer }, { fresh: true });
    checks.set(ctx, check);
  }
  return check;
}

/**
 * The one authChecker behind `@Authorized(...)`. It answers true or throws a catalog error,
 * never false (TypeGraphQL's own errors carry no code):
 * - no session: UNAUTHENTICATED (TOKEN_MISSING);
 * - `@Authorized()`: any signed-in viewer;
 * - `@Authorized(FRESH_SESSION)`: a fresh session, whatever the role (below, without the role);
 * - `@Authorized(role, ...)`: the session is read from the database (never a cached copy,
 *   which may predate a revocation or a role change) with its user's role. Not one of the
 *   roles: FORBIDDEN (ADMIN_REQUIRED), whatever the session's freshness; then the session
 *   must be fresh (FORBIDDEN, SESSION_NOT_FRESH: reauthenticate first), so a stolen, stale
 *   token of an admin cannot act on other accounts.
 */
export const authChecker: AuthChecker<GraphQLContext> = async ({ context }, roles) => {
  if (roles.length === 0) {
    requireViewer(context);
    return true;
  }
  const check = await freshCheck(context);
  if (!check.ok && check.reason !== "SESSION_NOT_FRESH") throw refusalError(check.reason);
  const required = roles.filter((role) => role !== FRESH_SESSION);
  const role = (check.ok ? check.viewer.session : check.session)?.user?.role;
  if (required.length > 0 && (!role || !required.includes(role))) throw forbidden("ADMIN_REQUIRED");
  if (!check.ok) throw refusalError(check.reason);
  return true;
};
