import { Args, Authorized, Ctx, Extensions, Int, Mutation, Query, Resolver } from "type-graphql";
import type { Actor } from "../audit-log/request-actor";
import { afterCursor } from "../audit-log/security-event.resolver";
import { SecurityEventConnection } from "../audit-log/security-event.type";
import { badUserInput, forbidden } from "../errors/error-codes";
import type { GraphQLContext } from "../graphql/context";
import { requireViewer } from "../graphql/viewer";
import { MAX_SESSIONS_PAGE } from "../sessions/session.service";
import { Session } from "../sessions/session.type";
import { UserRole } from "../users/user-role";
import { AdminSecurityEventsArgs, AdminUserArgs, LockUserArgs, SessionIdArgs, UserIdArgs } from "./admin.args";
import type { AdminResult } from "./admin.service";
import { AdminUser } from "./admin-user.type";

const GUARD = "Admins only, from a fresh session (else FORBIDDEN: ADMIN_REQUIRED, or SESSION_NOT_FRESH: reauthenticate first).";

/** The acting admin, named in the audit entry of every change (`details.by`). */
function adminActor(ctx: GraphQLContext): Actor {
  return { ...ctx.actor, operator: { kind: "ADMIN", userId: requireViewer(ctx).userId } };
}

function unwrap<T>(result: AdminResult<T>): T {
  if (result.ok) return result.value;
  if (result.reason === "LAST_ADMIN") throw forbidden("LAST_ADMIN");
  throw badUserInput("userId", "userId must be the id of a user");
}

/** Support staff's fields. Every one is guarded by the one authChecker (src/graphql/auth-checker.ts). */
@Resolver()
export class AdminResolver {
  @Authorized(UserRole.ADMIN)
  @Query(() => AdminUser, { nullable: true, description: `A user by id or by email; null if none. ${GUARD}` })
  async adminUser(@Args(() => AdminUserArgs) { id, email }: AdminUserArgs, @Ctx() ctx: GraphQLContext) {
    if ((id == null) === (email == null)) throw badUserInput("id", "id or email must be given, not both");
    const row = await ctx.services.admin.findUser(id != null ? { id } : { email: email as string });
    return row ? AdminUser.from(row) : null;
  }

  @Authorized(UserRole.ADMIN)
  @Query(() => [Session], { description: `A user's active sessions, the ${MAX_SESSIONS_PAGE} most recently active. ${GUARD}` })
  @Extensions({ listSize: { max: MAX_SESSIONS_PAGE } })
  async adminUserSessions(@Args(() => UserIdArgs) { userId }: UserIdArgs, @Ctx() ctx: GraphQLContext) {
    const rows = await ctx.services.admin.listUserSessions(userId);
    return rows.map((s) => Session.from(s, ctx.services.sessions.expiresAt(s), ctx.viewer?.sessionId));
  }

  @Authorized(UserRole.ADMIN)
  @Query(() => SecurityEventConnection, { description: `A user's security activity log, newest first. ${GUARD}` })
  async adminSecurityEvents(@Args(() => AdminSecurityEventsArgs) args: AdminSecurityEventsArgs, @Ctx() ctx: GraphQLContext) {
    const page = await ctx.services.admin.listSecurityEvents(args.userId, args.first, afterCursor(args.after));
    return SecurityEventConnection.from(page);
  }

  @Authorized(UserRole.ADMIN)
  @Mutation(() => Boolean, {
    description: `Ends any user's session (reason ADMIN_REVOKED), at once everywhere; false if it was not an active session. ${GUARD}`,
  })
  adminRevokeSession(@Args(() => SessionIdArgs) { id }: SessionIdArgs, @Ctx() ctx: GraphQLContext): Promise<boolean> {
    return ctx.services.admin.revokeSession(id, adminActor(ctx));
  }

  @Authorized(UserRole.ADMIN)
  @Mutation(() => Int, { description: `Ends every session of a user (reason ADMIN_REVOKED); returns how many. ${GUARD}` })
  adminRevokeUserSessions(@Args(() => UserIdArgs) { userId }: UserIdArgs, @Ctx() ctx: GraphQLContext): Promise<number> {
    return ctx.services.admin.revokeUserSessions(userId, adminActor(ctx));
  }

  @Authorized(UserRole.ADMIN)
  @Mutation(() => Int, {
    description: `Locks an account: ends every session (reason ACCOUNT_LOCKED), returns how many, and refuses sign-in with the answer a wrong password gets until adminUnlockUser. Logged as ACCOUNT_LOCKED. Leaving no active admin is refused (FORBIDDEN, LAST_ADMIN); an unknown userId is BAD_USER_INPUT. ${GUARD}`,
  })
  async adminLockUser(@Args(() => LockUserArgs) { userId, reason }: LockUserArgs, @Ctx() ctx: GraphQLContext) {
    return unwrap(await ctx.services.admin.lockUser(userId, reason ?? null, adminActor(ctx)));
  }

  @Authorized(UserRole.ADMIN)
  @Mutation(() => Boolean, {
    description: `Lets a locked account sign in again (its ended sessions stay ended); false if it was not locked. Logged as ACCOUNT_UNLOCKED. ${GUARD}`,
  })
  async adminUnlockUser(@Args(() => UserIdArgs) { userId }: UserIdArgs, @Ctx() ctx: GraphQLContext) {
    return unwrap(await ctx.services.admin.unlockUser(userId, adminActor(ctx)));
  }
}
