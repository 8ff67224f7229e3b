import type { AuthChecker } from "type-graphql";
import { invariant } from "../lib/invariant";
import type { GraphQLContext } from "./context";
import { requireFreshViewer, requireViewer } from "./viewer";

/** `@Authorized(FRESH_SESSION)`: the session proved its password within FRESH_SESSION_TTL. */
export const FRESH_SESSION = "FRESH_SESSION";

/**
 * What `@Authorized()` means on any resolver, ours or an app's: the guards of viewer.ts, so
 * the refusals are the catalog's (UNAUTHENTICATED with a reason, FORBIDDEN SESSION_NOT_FRESH),
 * never TypeGraphQL's own uncoded errors. The session itself was already checked, before any
 * resolver ran, by the context builder. A role this API does not define fails the field
 * (INTERNAL_SERVER_ERROR, the cause logged): a typo must never open it.
 */
export const authChecker: AuthChecker<GraphQLContext> = async ({ context }, roles) => {
  invariant(
    roles.every((role) => role === FRESH_SESSION),
    `@Authorized() knows no role but ${FRESH_SESSION}, got ${roles.join(", ")}`,
  );
  if (roles.includes(FRESH_SESSION)) await requireFreshViewer(context);
  else requireViewer(context);
  return true;
};
