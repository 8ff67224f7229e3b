import { Args, Ctx, Int, Mutation, Resolver } from "type-graphql";
import type { GraphQLContext } from "../graphql/context";
import { requireFreshViewer, requireViewer } from "../graphql/viewer";
import { ChangeEmailArgs, ChangePasswordArgs, ReauthenticateArgs } from "./credentials.input";

const FRESH = "Needs a fresh session (password proved within FRESH_SESSION_TTL), else FORBIDDEN with reason SESSION_NOT_FRESH.";

@Resolver()
export class AccountResolver {
  @Mutation(() => Boolean, {
    description: "Proves the password again, making this session fresh for sensitive changes. Throttled like login.",
  })
  async reauthenticate(@Args(() => ReauthenticateArgs) { password }: ReauthenticateArgs, @Ctx() ctx: GraphQLContext) {
    return ctx.services.account.reauthenticate(requireViewer(ctx), password, ctx.actor);
  }

  @Mutation(() => Int, {
    description: `Checks the current password, sets a new one and ends every other session; returns how many. ${FRESH}`,
  })
  async changePassword(
    @Args(() => ChangePasswordArgs) { currentPassword, newPassword }: ChangePasswordArgs,
    @Ctx() ctx: GraphQLContext,
  ) {
    return ctx.services.account.changePassword(await requireFreshViewer(ctx), currentPassword, newPassword, ctx.actor);
  }

  @Mutation(() => Int, {
    description: `Checks the password, changes the sign-in email (EMAIL_TAKEN if in use) and ends every other session; returns how many. ${FRESH}`,
  })
  async changeEmail(@Args(() => ChangeEmailArgs) { newEmail, currentPassword }: ChangeEmailArgs, @Ctx() ctx: GraphQLContext) {
    return ctx.services.account.changeEmail(await requireFreshViewer(ctx), newEmail, currentPassword, ctx.actor);
  }
}

