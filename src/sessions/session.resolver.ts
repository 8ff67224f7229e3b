import { Max, Min } from "class-validator";
import { Arg, Args, ArgsType, Ctx, Extensions, Field, ID, Int, Mutation, Query, Resolver } from "type-graphql";
import { badUserInput } from "../errors/error-codes";
import type { GraphQLContext } from "../graphql/context";
import type { ReferenceResolver } from "../graphql/subgraph";
import { refusalError, requireFreshViewer, requireViewer } from "../graphql/viewer";
import { isUuid } from "../lib/uuid";
import { isRefreshToken } from "./refresh-token";
import { MAX_SESSIONS_PAGE } from "./session.service";
import { Session } from "./session.type";

@ArgsType()
class MySessionsArgs {
  @Field(() => Int, { defaultValue: MAX_SESSIONS_PAGE, description: `1 to ${MAX_SESSIONS_PAGE}.` })
  @Min(1)
  @Max(MAX_SESSIONS_PAGE)
  first!: number;

  @Field(() => ID, { nullable: true, description: "The last id of the previous page: the page after it." })
  after?: string | null;
}

@Resolver(() => Session)
export class SessionResolver {
  @Query(() => [Session], {
    description: `Your active sessions, at most ${MAX_SESSIONS_PAGE} per call: the current one first, then by last activity, most recent first. For the next page pass the last id as \`after\`; a shorter page than \`first\` is the last.`,
  })
  @Extensions({ listSize: { argument: "first", max: MAX_SESSIONS_PAGE } })
  async mySessions(@Args(() => MySessionsArgs) { first, after }: MySessionsArgs, @Ctx() ctx: GraphQLContext): Promise<Session[]> {
    const viewer = requireViewer(ctx);
    if (after != null && !isUuid(after))
      throw badUserInput("after", "after must be a session id (the last id of the previous page)");
    const rows = await ctx.services.sessions.listUserSessions(viewer, { first, after: after ?? null });
    return rows.map((s) => Session.from(s, ctx.services.sessions.expiresAt(s), viewer.sessionId));
  }

  @Mutation(() => Boolean, {
    description: [
      "Ends this device's session; its tokens stop working at once. Answers true, also when the session had already ended or no credential names one (idempotent).",
      "Credentials; each one sent ends the session it proves:",
      "- the access token (Authorization: Bearer), in both modes. When the operation is logout alone (aliases and __typename allowed), it is accepted even expired or with its session already ended; any other operation with such a token is refused as a whole (UNAUTHENTICATED, reason TOKEN_EXPIRED, SESSION_REVOKED, ...). A forged or malformed token is always refused;",
      "- body mode: the refreshToken argument;",
      "- cookie mode (x-auth-transport: cookie): the refresh cookie, which is then cleared.",
      "A refresh token ends its session when it is the current one or was spent within the refresh grace period; an older, unknown or forged one ends nothing.",
    ].join("\n"),
  })
  async logout(
    @Arg("refreshToken", () => String, {
      nullable: true,
      description:
        "Body mode: the refresh token this device holds, so logout works without a usable access token. Not shaped like a refresh token: BAD_USER_INPUT, and nothing ends. Cookie mode: omit it, the cookie is read.",
    })
    refreshToken: string | null | undefined,
    @Ctx() ctx: GraphQLContext,
  ): Promise<boolean> {
    // Most likely the access token passed by mistake: say so rather than end nothing quietly.
    if (refreshToken != null && !isRefreshToken(refreshToken)) {
      throw badUserInput("refreshToken", "refreshToken must be a refresh token (the access token was likely sent instead)");
    }
    // The cookie goes whatever the credentials: logging out twice still clears it.
    if (ctx.transport === "cookie") ctx.response.clearRefreshCookie();
    await ctx.services.sessions.logout(
      { session: ctx.viewer ?? ctx.expiredTokenSession, refreshToken: refreshToken ?? ctx.refreshCookie },
      ctx.actor,
    );
    return true;
  }

  @Mutation(() => Int, {
    description:
      "Ends all your other sessions, or all of them; returns how many were ended. Needs a fresh session (else FORBIDDEN, SESSION_NOT_FRESH: reauthenticate first).",
  })
  async logoutAllDevices(
    @Arg("keepCurrent", () => Boolean, { defaultValue: false }) keepCurrent: boolean,
    @Ctx() ctx: GraphQLContext,
  ): Promise<number> {
    const viewer = await requireFreshViewer(ctx);
    if (!keepCurrent)
      return (await ctx.services.sessions.revokeUserSessions(viewer.userId, "LOGOUT_ALL", { actor: ctx.actor })).length;
    // The session kept must still be alive when the others end (a concurrent call may end it).
    const outcome = await ctx.services.sessions.revokeOtherSessions(viewer, "LOGOUT_ALL", ctx.actor);
    if (!outcome.ok) throw refusalError(outcome.reason);
    return outcome.revoked.length;
  }

  @Mutation(() => Int, {
    description: [
      `"This wasn't me": ends every other session of yours (all of them with keepCurrent: false) with reason SECURITY_CONCERN, tells their sockets at once, and records it in your security log. Returns how many ended.`,
      "Needs a fresh session (else FORBIDDEN, SESSION_NOT_FRESH: reauthenticate first).",
      "Follow it with changePassword: whoever signed in knows the password, and only a new one keeps them out.",
    ].join("\n"),
  })
  async secureAccount(
    @Arg("keepCurrent", () => Boolean, { defaultValue: true }) keepCurrent: boolean,
    @Ctx() ctx: GraphQLContext,
  ): Promise<number> {
    const viewer = await requireFreshViewer(ctx);
    const ended = await ctx.services.sessions.revokeUserSessions(viewer.userId, "SECURITY_CONCERN", {
      exceptSessionId: keepCurrent ? viewer.sessionId : undefined,
      actor: ctx.actor,
    });
    return ended.length;
  }

  @Mutation(() => Boolean, {
    description:
      "Ends one of your sessions. False when there is no such active session of yours (missing, ended, or another user's: indistinguishable by design). Ending another session than this one needs a fresh session (else FORBIDDEN, SESSION_NOT_FRESH).",
  })
  async revokeSession(@Arg("id", () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<boolean> {
    const viewer = requireViewer(ctx);
    if (!isUuid(id)) throw badUserInput("id", "id must be a session id (a UUID)");
    if (id !== viewer.sessionId) await requireFreshViewer(ctx);
    return ctx.services.sessions.revokeSession(viewer.userId, id, "REVOKED", ctx.actor);
  }
}

/**
 * Federation: `_entities` for a Session is one of the viewer's own live sessions; another
 * user's, an ended one, a malformed id or no viewer is null, the same answer as a missing one.
 */
export const resolveSessionReference: ReferenceResolver = async (reference, ctx) => {
  const viewer = ctx.viewer;
  if (!viewer || typeof reference.id !== "string" || !isUuid(reference.id)) return null;
  const row = await ctx.services.sessions.getUserSession(viewer.userId, reference.id);
  return row ? Session.from(row, ctx.services.sessions.expiresAt(row), viewer.sessionId) : null;
};
