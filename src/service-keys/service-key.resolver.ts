import { Arg, Ctx, Extensions, ID, Int, Mutation, Query, Resolver } from "type-graphql";
import { badUserInput } from "../errors/error-codes";
import type { GraphQLContext } from "../graphql/context";
import { requireServiceScope } from "../graphql/viewer";
import { isUuid } from "../lib/uuid";
import { MAX_SESSIONS_PAGE } from "../sessions/session.service";
import { Session } from "../sessions/session.type";
import { ServiceScope } from "./service-key";
import { ServiceKeyInfo } from "./service-key.type";

/**
 * The fields a service key calls (`Authorization: ApiKey <key>`), each named `service…` (the
 * only root fields a key may select, see graphql/service-key-fields.ts) and each guarded by
 * its scope. A user's session calling one gets FORBIDDEN (SERVICE_KEY_REQUIRED).
 */
@Resolver()
export class ServiceKeyResolver {
  @Query(() => ServiceKeyInfo, { description: "The service key making this request: its name, prefix and scopes. Any scope." })
  serviceKey(@Ctx() ctx: GraphQLContext): ServiceKeyInfo {
    return ServiceKeyInfo.from(requireServiceScope(ctx));
  }

  @Query(() => [Session], {
    description: `A user's active sessions, the ${MAX_SESSIONS_PAGE} most recently active (\`current\` is always false). Scope sessions:read. An unknown user has none.`,
  })
  @Extensions({ listSize: { max: MAX_SESSIONS_PAGE } })
  async serviceUserSessions(@Arg("userId", () => ID) userId: string, @Ctx() ctx: GraphQLContext): Promise<Session[]> {
    requireServiceScope(ctx, ServiceScope.SESSIONS_READ);
    if (!isUuid(userId)) throw badUserInput("userId", "userId must be a user id (a UUID)");
    const rows = await ctx.services.sessions.listUserSessions(
      { userId, sessionId: null },
      { first: MAX_SESSIONS_PAGE, after: null },
    );
    return rows.map((s) => Session.from(s, ctx.services.sessions.expiresAt(s), undefined));
  }

  @Mutation(() => Int, {
    description:
      "Ends every active session of a user (reason REVOKED; the audit entry names the key as `byServiceKey`), on every instance, socket and verifier before it answers; returns how many ended. Scope sessions:revoke.",
  })
  async serviceRevokeUserSessions(@Arg("userId", () => ID) userId: string, @Ctx() ctx: GraphQLContext): Promise<number> {
    requireServiceScope(ctx, ServiceScope.SESSIONS_REVOKE);
    if (!isUuid(userId)) throw badUserInput("userId", "userId must be a user id (a UUID)");
    const ended = await ctx.services.sessions.revokeUserSessions(userId, "REVOKED", { actor: ctx.actor });
    return ended.length;
  }
}
