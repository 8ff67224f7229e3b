import { Args, Ctx, Int, Mutation, Resolver } from "type-graphql";
import type { GraphQLContext } from "../graphql/context";
import { CredentialMutation } from "../graphql/credential-field";
import { requireAuthoritativeViewer, requireViewer } from "../graphql/viewer";
import { ChangeEmailArgs, ChangePasswordArgs, ReauthenticateArgs } from "./credentials.input";

const PROOF =
  "The right current password is proof of a recent sign-in: it works on a stale session (no reauthenticate first) and leaves the session fresh. A wrong one is INVALID_CREDENTIALS, throttled like login.";

@Resolver()
export class AccountResolver {
  @CredentialMutation()
  @Mutation(() => Boolean, {
    description: "Proves the password again, making this session fresh for sensitive changes. Throttled like login.",
  })
  async reauthenticate(@Args(() => ReauthenticateArgs) { password }: ReauthenticateArgs, @Ctx() ctx: GraphQLContext) {
    return ctx.services.account.reauthenticate(requireViewer(ctx), password, ctx.actor);
  }

  @CredentialMutation()
  @Mutation(() => Int, {
    description: `Checks the current password, sets a new one and ends every other session; returns how many. ${PROOF}`,
  })
  async changePassword(
    @Args(() => ChangePasswordArgs) { currentPassword, newPassword }: ChangePasswordArgs,
    @Ctx() ctx: GraphQLContext,
  ) {
    return ctx.services.account.changePassword(await requireAuthoritativeViewer(ctx), currentPassword, newPassword, ctx.actor);
  }

  @CredentialMutation()
  @Mutation(() => Int, {
    description: `Checks the password, changes the sign-in email (EMAIL_TAKEN if in use) and ends every other session; returns how many. ${PROOF}`,
  })
  async changeEmail(@Args(() => ChangeEmailArgs) { newEmail, currentPassword }: ChangeEmailArgs, @Ctx() ctx: GraphQLContext) {
    return ctx.services.account.changeEmail(await requireAuthoritativeViewer(ctx), newEmail, currentPassword, ctx.actor);
  }
}
