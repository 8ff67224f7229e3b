import { randomUUID } from "node:crypto";
import type { DataSource } from "typeorm";
import { appError, unauthenticated } from "../errors/error-codes";
import type { SessionEntity } from "../sessions/session.entity";
import type { SessionEventSink } from "../sessions/session-events";
import type { ClientInfo, SessionService } from "../sessions/session.service";
import { UserEntity } from "../users/user.entity";
import { normalizeEmail, type UserService } from "../users/user.service";
import type { AccessTokenService } from "./access-token";
import type { PasswordHasher } from "./password";

export interface SignedIn {
  user: UserEntity;
  session: SessionEntity;
  refreshToken: string;
  accessToken: string;
  accessTokenExpiresAt: Date;
}

const UNIQUE_VIOLATION = "23505";

/** Sign-up, sign-in, refresh and password change: the flows that mint or spend credentials. */
export class AuthService {
  /** Verified against when the email is unknown, so both failures cost one hash. */
  private readonly decoyHash: Promise<string>;

  constructor(
    private readonly db: DataSource,
    private readonly users: UserService,
    private readonly sessions: SessionService,
    private readonly passwords: PasswordHasher,
    private readonly accessTokens: AccessTokenService,
    private readonly events: SessionEventSink,
  ) {
    this.decoyHash = passwords.hash(randomUUID());
  }

  async register(input: { email: string; password: string; deviceName?: string | null }, client: ClientInfo) {
    const email = normalizeEmail(input.email);
    const passwordHash = await this.passwords.hash(input.password);
    try {
      // One transaction: a failure creating the session leaves no account behind.
      return await this.db.transaction(async (m) => {
        const user = m.create(UserEntity, { id: randomUUID(), email, passwordHash });
        await m.insert(UserEntity, user);
        const saved = await m.findOneByOrFail(UserEntity, { id: user.id });
        const { session, refreshToken } = await this.sessions.createSession(m, {
          userId: user.id,
          deviceName: input.deviceName ?? null,
          client,
        });
        return this.signedIn(saved, session, refreshToken);
      });
    } catch (error) {
      if ((error as { code?: string }).code === UNIQUE_VIOLATION) throw appError("EMAIL_TAKEN");
      throw error;
    }
  }

  async login(input: { email: string; password: string; deviceName?: string | null }, client: ClientInfo) {
    const user = await this.users.findByEmail(input.email);
    // Unknown email and wrong password: same error, and both pay for one hash verification.
    const ok = await this.passwords.verify(user?.passwordHash ?? (await this.decoyHash), input.password);
    if (!user || !ok) throw appError("INVALID_CREDENTIALS");
    const { session, refreshToken } = await this.sessions.createSession(this.db.manager, {
      userId: user.id,
      deviceName: input.deviceName ?? null,
      client,
    });
    return this.signedIn(user, session, refreshToken);
  }

  async refresh(refreshToken: string): Promise<SignedIn> {
    const result = await this.sessions.rotateRefreshToken(refreshToken);
    if (!result.ok) {
      if (result.reason === "REFRESH_TOKEN_ROTATED") throw appError("REFRESH_TOKEN_ROTATED");
      throw unauthenticated(result.reason);
    }
    const [user] = await this.users.loadUsers([result.session.userId]);
    if (!user) throw unauthenticated("SESSION_NOT_FOUND");
    return this.signedIn(user, result.session, result.refreshToken);
  }

  /** Checks the current password, sets the new one and ends every other session, atomically. */
  async changePassword(viewer: { userId: string; sessionId: string }, currentPassword: string, newPassword: string) {
    const [user] = await this.users.loadUsers([viewer.userId]);
    if (!user || !(await this.passwords.verify(user.passwordHash, currentPassword))) {
      throw appError("INVALID_CREDENTIALS", { message: "The current password is not correct." });
    }
    const passwordHash = await this.passwords.hash(newPassword);
    const revoked = await this.db.transaction(async (m) => {
      await this.users.updatePasswordHash(m, user.id, passwordHash);
      return this.sessions.revokeUserSessions(user.id, "PASSWORD_CHANGED", {
        exceptSessionId: viewer.sessionId,
        manager: m,
      });
    });
    this.events.sessionsRevoked(revoked);
    return revoked.length;
  }

  private signedIn(user: UserEntity, session: SessionEntity, refreshToken: string): SignedIn {
    const { token, expiresAt } = this.accessTokens.sign(
      { userId: user.id, sessionId: session.id },
      this.sessions.expiresAt(session),
    );
    return { user, session, refreshToken, accessToken: token, accessTokenExpiresAt: expiresAt };
  }
}
