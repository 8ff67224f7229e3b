import { GraphQLError } from "graphql";
import { Arg, Ctx, Mutation, Resolver } from "type-graphql";
import { unauthenticated } from "../errors/error-codes";
import type { GraphQLContext } from "../graphql/context";
import { CredentialMutation } from "../graphql/credential-field";
import { isDeviceId, newDeviceId } from "../sessions/device-id";
import { Session } from "../sessions/session.type";
import { User } from "../users/user.type";
import type { SignedIn } from "./auth.service";
import { AuthPayload } from "./auth-payload.type";
import { LoginInput, RegisterInput } from "./credentials.input";

/**
 * In cookie mode the refresh token goes only into the HttpOnly cookie (never readable by
 * scripts) and the body says `refreshToken: null`; the access token is in the body either way.
 */
function toPayload(ctx: GraphQLContext, s: SignedIn): AuthPayload {
  const cookieMode = ctx.transport === "cookie";
  if (cookieMode) {
    // Without "keep me signed in" the cookie has no lifetime: it dies with the browser.
    const maxAge = s.session.persistent ? (s.session.expiresAt.getTime() - Date.now()) / 1000 : null;
    ctx.response.setRefreshCookie(s.refreshToken, maxAge);
  }
  return Object.assign(new AuthPayload(), {
    accessToken: s.accessToken,
    accessTokenExpiresAt: s.accessTokenExpiresAt,
    refreshToken: cookieMode ? null : s.refreshToken,
    session: Session.from(s.session, ctx.services.sessions.expiresAt(s.session), s.session.id),
    user: User.from(s.user),
  });
}

/**
 * The device's long-lived id: in cookie mode the `__Host-device` cookie (made on first sign-in,
 * its lifetime renewed on each), in body mode the `deviceId` the client keeps (its form
 * already checked by the input's rules), else none.
 */
function deviceId(ctx: GraphQLContext, input: LoginInput | RegisterInput): string | null {
  if (ctx.transport !== "cookie") return input.deviceId ?? null;
  const id = isDeviceId(ctx.deviceCookie) ? ctx.deviceCookie : newDeviceId();
  ctx.response.setDeviceCookie(id);
  return id;
}

@Resolver()
export class AuthResolver {
  @CredentialMutation()
  @Mutation(() => AuthPayload, { description: "Creates the account and signs in on this device." })
  async register(@Arg("input", () => RegisterInput) input: RegisterInput, @Ctx() ctx: GraphQLContext) {
    return toPayload(ctx, await ctx.services.auth.register({ ...input, deviceId: deviceId(ctx, input) }, ctx.actor));
  }

  @CredentialMutation()
  @Mutation(() => AuthPayload, {
    description: "Signs in: always a new session with a new refresh token. Throttled per account and per IP (RATE_LIMITED).",
  })
  async login(@Arg("input", () => LoginInput) input: LoginInput, @Ctx() ctx: GraphQLContext) {
    return toPayload(ctx, await ctx.services.auth.login({ ...input, deviceId: deviceId(ctx, input) }, ctx.actor));
  }

  @CredentialMutation()
  @Mutation(() => AuthPayload, {
    description:
      "Spends a refresh token and returns a new one with a new access token. Replaying a spent token ends the session (REFRESH_TOKEN_REUSE). In cookie mode, omit the argument: the token is read from the cookie.",
  })
  async refreshSession(
    @Arg("refreshToken", () => String, { nullable: true }) refreshToken: string | null | undefined,
    @Ctx() ctx: GraphQLContext,
  ) {
    const token = refreshToken ?? ctx.refreshCookie;
    if (!token) throw unauthenticated("TOKEN_MISSING");
    try {
      return toPayload(ctx, await ctx.services.auth.refresh(token, ctx.actor));
    } catch (error) {
      // A cookie that can never work again is removed from the browser.
      if (ctx.transport === "cookie" && error instanceof GraphQLError && error.extensions.code === "UNAUTHENTICATED") {
        ctx.response.clearRefreshCookie();
      }
      throw error;
    }
  }
}
