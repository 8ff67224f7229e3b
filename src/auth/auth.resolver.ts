import { Arg, Args, Ctx, Int, Mutation, Resolver } from "type-graphql";
import type { GraphQLContext } from "../graphql/context";
import { requireViewer } from "../graphql/viewer";
import { Session } from "../sessions/session.type";
import { User } from "../users/user.type";
import { AuthPayload } from "./auth-payload.type";
import type { SignedIn } from "./auth.service";
import { ChangePasswordArgs, LoginInput, RegisterInput } from "./credentials.input";

function toPayload(ctx: GraphQLContext, s: SignedIn): AuthPayload {
  return Object.assign(new AuthPayload(), {
    accessToken: s.accessToken,
    accessTokenExpiresAt: s.accessTokenExpiresAt,
    refreshToken: s.refreshToken,
    session: Session.from(s.session, ctx.services.sessions.expiresAt(s.session), s.session.id),
    user: User.from(s.user),
  });
}

@Resolver()
export class AuthResolver {
  @Mutation(() => AuthPayload, { description: "Creates the account and signs in on this device." })
  async register(@Arg("input", () => RegisterInput) input: RegisterInput, @Ctx() ctx: GraphQLContext) {
    return toPayload(ctx, await ctx.services.auth.register(input, ctx.client));
  }

  @Mutation(() => AuthPayload, { description: "Signs in: always a new session with a new refresh token." })
  async login(@Arg("input", () => LoginInput) input: LoginInput, @Ctx() ctx: GraphQLContext) {
    return toPayload(ctx, await ctx.services.auth.login(input, ctx.client));
  }

  @Mutation(() => AuthPayload, {
    description:
      "Spends a refresh token and returns a new one with a new access token. Replaying a spent token ends the session (REFRESH_TOKEN_REUSE).",
  })
  async refreshSession(
    @Arg("refreshToken", () => String) refreshToken: string,
    @Ctx() ctx: GraphQLContext,
  ) {
    return toPayload(ctx, await ctx.services.auth.refresh(refreshToken));
  }

  @Mutation(() => Int, { description: "Checks the current password, sets a new one and ends every other session; returns how many." })
  async changePassword(
    @Args(() => ChangePasswordArgs) { currentPassword, newPassword }: ChangePasswordArgs,
    @Ctx() ctx: GraphQLContext,
  ) {
    return ctx.services.auth.changePassword(requireViewer(ctx), currentPassword, newPassword);
  }
}
