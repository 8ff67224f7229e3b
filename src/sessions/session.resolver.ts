import { Arg, Ctx, ID, Int, Mutation, Query, Resolver } from "type-graphql";
import { badUserInput } from "../errors/error-codes";
import type { GraphQLContext } from "../graphql/context";
import { requireViewer } from "../graphql/viewer";
import { isUuid } from "../lib/uuid";
import { Session } from "./session.type";

@Resolver(() => Session)
export class SessionResolver {
  @Query(() => [Session], { description: "Your active sessions: the current one first, then by last activity." })
  async mySessions(@Ctx() ctx: GraphQLContext): Promise<Session[]> {
    const viewer = requireViewer(ctx);
    const rows = await ctx.services.sessions.listUserSessions(viewer.userId);
    const sessions = rows.map((s) => Session.from(s, ctx.services.sessions.expiresAt(s), viewer.sessionId));
    return [...sessions.filter((s) => s.current), ...sessions.filter((s) => !s.current)];
  }

  @Mutation(() => Boolean, {
    description:
      "Ends this device's session; its tokens stop working at once. Idempotent; true without a token. In cookie mode it also clears the refresh cookie, and without an access token it ends the session the cookie belongs to.",
  })
  async logout(@Ctx() ctx: GraphQLContext): Promise<boolean> {
    // The cookie goes whatever the token: logging out twice still clears it.
    if (ctx.transport === "cookie") ctx.response.clearRefreshCookie();
    if (!ctx.viewer) {
      // A browser whose access token expired sends none: its refresh cookie names the session
      // and proves possession, so that session ends rather than living on without its cookie.
      if (ctx.transport === "cookie" && ctx.refreshCookie) {
        await ctx.services.sessions.revokeByRefreshToken(ctx.refreshCookie, "LOGOUT", ctx.actor);
      }
      return true;
    }
    await ctx.services.sessions.revokeSession(ctx.viewer.userId, ctx.viewer.sessionId, "LOGOUT", ctx.actor);
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
    const viewer = requireViewer(ctx);
    await ctx.services.account.requireFreshSession(viewer);
    const ended = await ctx.services.sessions.revokeUserSessions(viewer.userId, "LOGOUT_ALL", {
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
    if (id !== viewer.sessionId) await ctx.services.account.requireFreshSession(viewer);
    return ctx.services.sessions.revokeSession(viewer.userId, id, "REVOKED", ctx.actor);
  }
}
