import { randomUUID } from "node:crypto";
import type { DataSource } from "typeorm";
import { type Actor, setActor } from "../audit-log/request-actor";
import { appError, unauthenticated } from "../errors/error-codes";
import { invariant } from "../lib/invariant";
import type { AccessTokenService } from "../sessions/access-token";
import type { SessionEntity } from "../sessions/session.entity";
import type { SessionService } from "../sessions/session.service";
import { UserEntity } from "../users/user.entity";
import { normalizeEmail, type UserService } from "../users/user.service";
import type { PasswordHasher } from "./password";
import type { PasswordCheck } from "./password-check";
import type { RegisterBudget } from "./register-budget";

export interface SignedIn {
  user: UserEntity;
  session: SessionEntity;
  refreshToken: string;
  accessToken: string;
  accessTokenExpiresAt: Date;
}

export const UNIQUE_VIOLATION = "23505";

/** Sign-up, sign-in and refresh: the flows that mint or spend credentials. */
export class AuthService {
  constructor(
    private readonly db: DataSource,
    private readonly users: UserService,
    private readonly sessions: SessionService,
    private readonly passwords: PasswordHasher,
    private readonly passwordCheck: PasswordCheck,
    private readonly accessTokens: AccessTokenService,
    private readonly registerBudget: RegisterBudget,
  ) {}

  async register(input: { email: string; password: string; deviceName?: string | null }, actor: Actor) {
    const email = normalizeEmail(input.email);
    // Before the hash: past its budget, an IP costs the server one counter update, no scrypt.
    await this.registerBudget.spend(actor.ipAddress);
    const passwordHash = await this.passwords.hash(input.password);
    try {
      // One transaction: a failure creating the session leaves no account (and no log entry) behind.
      return await this.db.transaction(async (m) => {
        await setActor(m, actor);
        const user = m.create(UserEntity, { id: randomUUID(), email, passwordHash });
        await m.insert(UserEntity, user);
        const saved = await m.findOneByOrFail(UserEntity, { id: user.id });
        const { session, refreshToken } = await this.sessions.createSession(m, {
          userId: user.id,
          deviceName: input.deviceName ?? null,
          actor,
        });
        return this.signedIn(saved, session, refreshToken);
      });
    } catch (error) {
      if ((error as { code?: string }).code === UNIQUE_VIOLATION) throw appError("EMAIL_TAKEN");
      throw error;
    }
  }

  async login(input: { email: string; password: string; deviceName?: string | null }, actor: Actor) {
    const email = normalizeEmail(input.email);
    const user = await this.users.findByEmail(email);
    await this.passwordCheck.verify(user, email, input.password, actor);
    invariant(user, "a password check passed without a user");
    const { session, refreshToken } = await this.db.transaction(async (m) => {
      await setActor(m, actor);
      return this.sessions.createSession(m, { userId: user.id, deviceName: input.deviceName ?? null, actor });
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
