import { refusalError } from "./graphql-refusal.js";
import type { SessionVerifier, VerifiedSession } from "./verifier.js";

/** The part of envelop's `onContextBuilding` hook this plugin uses (no dependency on envelop itself). */
interface ContextBuildingPayload {
  context: { request?: { headers: { get(name: string): string | null } }; req?: { headers: Record<string, unknown> } };
  extendContext(extension: { session: VerifiedSession | null }): void;
}

/**
 * A GraphQL Yoga / envelop plugin: every operation's context gets `session` (`{ userId,
 * sessionId }`), or the request is refused before any resolver runs with the API's own 401
 * body and reason (503 when the session could not be checked). With `optional`, a request
 * without an Authorization header runs with `session: null`.
 *
 * ```ts
 * createYoga({ schema, plugins: [useSessionVerifier(sessions)] })
 * ```
 */
export function useSessionVerifier(sessions: SessionVerifier, options: { optional?: boolean } = {}) {
  return {
    async onContextBuilding({ context, extendContext }: ContextBuildingPayload): Promise<void> {
      const header = context.request?.headers.get("authorization") ?? context.req?.headers.authorization;
      const authorization = typeof header === "string" ? header : undefined;
      if (options.optional && !authorization) return extendContext({ session: null });
      const check = await sessions.verifyAuthorization(authorization);
      if (!check.ok) throw refusalError(check.reason, "object");
      extendContext({ session: { userId: check.userId, sessionId: check.sessionId } });
    },
  };
}
