import { randomUUID } from "node:crypto";
import { type Actor, setActor } from "../audit-log/request-actor";
import type { Transactions } from "../db/transaction";
import { appError, unauthenticated } from "../errors/error-codes";
import { invariant } from "../lib/invariant";
import type { AccessTokenService } from "../sessions/access-token";
import type { SessionEntity } from "../sessions/session.entity";
import type { NewSessionInput, SessionService } from "../sessions/session.service";
import type { UserEntity } from "../users/user.entity";
import { normalizeEmail, type UserService } from "../users/user.service";
import type { PasswordHasher } from "./password";
import type { PasswordCheck } from "./password-check";
import { assertNewPasswordAllowed } from "./password-policy";
import type { RegisterBudget } from "./register-budget";

export interface SignedIn {
  user: UserEntity;
  session: SessionEntity;
  refreshToken: string;
  accessToken: string;
  accessTokenExpiresAt: Date;
}

export const UNIQUE_VIOLATION = "23505";

/** What register and login take besides the password; `deviceId` already validated by the transport. */
export interface SignInInput {
  email: string;
  password: string;
  deviceName?: string | null;
  /** Default true. */
  rememberMe?: boolean | null;
  deviceId?: string | null;
}

/** Sign-up, sign-in and refresh: the flows that mint or spend credentials. */
export class AuthService {
  constructor(
    private readonly transactions: Transactions,
    private readonly users: UserService,
    private readonly sessions: SessionService,
    private readonly passwords: PasswordHasher,
    private readonly passwordCheck: PasswordCheck,
    private readonly accessTokens: AccessTokenService,
    private readonly registerBudget: RegisterBudget,
  ) {}

  async register(input: SignInInput, actor: Actor) {
    const email = normalizeEmail(input.email);
    // A refused password spends nothing: no budget, no hash.
    assertNewPasswordAllowed("password", input.password, { email });
    // Before the hash: past its budget, an IP costs the server one counter update, no scrypt.
    await this.registerBudget.spend(actor.ipAddress);
    const passwordHash = await this.passwords.hash(input.password);
    try {
      // One transaction: a failure creating the session leaves no account (and no log entry) behind.
      return await this.transactions.run(async (tx) => {
        await setActor(tx, actor);
        const user = await this.users.createUser(tx, { id: randomUUID(), email, passwordHash });
        const { session, refreshToken } = await this.sessions.createSession(tx, newSession(user.id, input, actor));
        return this.signedIn(user, session, refreshToken);
      });
    } catch (error) {
      if ((error as { code?: string }).code === UNIQUE_VIOLATION) throw appError("EMAIL_TAKEN");
      throw error;
    }
  }

  async login(input: SignInInput, actor: Actor) {
    const email = normalizeEmail(input.email);
    const user = await this.users.findByEmail(email);
    // OWASP device cookies: a device this account has signed in on before has a budget of
    // its own, so nobody elsewhere can lock its owner out by failing on purpose.
    const trustedDevice =
      user && input.deviceId && (await this.sessions.isKnownDevice(user.id, input.deviceId)) ? input.deviceId : null;
    await this.passwordCheck.verify(user, email, input.password, actor, { trustedDevice });
    invariant(user, "a password check passed without a user");
    const { session, refreshToken } = await this.transactions.run(async (tx) => {
      await setActor(tx, actor);
      // Locked while the hash was computed: the same answer as a wrong password, as PasswordCheck gives.
      if (!(await this.users.holdForSignIn(tx, user.id))) throw appError("INVALID_CREDENTIALS");
      return this.sessions.createSession(tx, newSession(user.id, input, actor));
    });
    return this.signedIn(user, session, refreshToken);
  }

  async refresh(refreshToken: string, actor: Actor): Promise<SignedIn> {
    const result = await this.sessions.rotateRefreshToken(refreshToken, actor);
    if (!result.ok) {
      if (result.reason === "REFRESH_TOKEN_ROTATED") throw appError("REFRESH_TOKEN_ROTATED");
      throw unauthenticated(result.reason);
    }
    const [user] = await this.users.loadUsers([result.session.userId]);
    if (!user) throw unauthenticated("SESSION_NOT_FOUND");
    return this.signedIn(user, result.session, result.refreshToken);
  }

  private signedIn(user: UserEntity, session: SessionEntity, refreshToken: string): SignedIn {
    const { token, expiresAt } = this.accessTokens.sign(
      { userId: user.id, sessionId: session.id },
      this.sessions.expiresAt(session),
    );
    return { user, session, refreshToken, accessToken: token, accessTokenExpiresAt: expiresAt };
  }
}

function newSession(userId: string, input: SignInInput, actor: Actor): NewSessionInput {
  return {
    userId,
    deviceName: input.deviceName ?? null,
    actor,
    deviceId: input.deviceId ?? null,
    rememberMe: input.rememberMe ?? true,
  };
}
