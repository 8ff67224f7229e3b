import type { IncomingMessage } from "node:http";
import { refusalError } from "./graphql-refusal.js";
import type { SessionVerifier, VerifiedSession } from "./verifier.js";

/**
 * An Apollo Server context function: `{ session: { userId, sessionId } }`, or the request is
 * refused before any resolver runs, with the API's code and reason and its status (401, or
 * 503 when the session could not be checked). Works with `startStandaloneServer` and the
 * Express integration (both hand the context function `{ req }`). With `optional`, a request
 * without an Authorization header gets `session: null`.
 *
 * ```ts
 * startStandaloneServer(server, { context: sessionContext(sessions) })
 * ```
 */
export function sessionContext(sessions: SessionVerifier, options: { optional?: boolean } = {}) {
  return async ({ req }: { req: Pick<IncomingMessage, "headers"> }): Promise<{ session: VerifiedSession | null }> => {
    const authorization = req.headers.authorization;
    if (options.optional && !authorization) return { session: null };
    const check = await sessions.verifyAuthorization(authorization);
    if (!check.ok) throw refusalError(check.reason, "map");
    return { session: { userId: check.userId, sessionId: check.sessionId } };
  };
}
