import { randomUUID } from "node:crypto";
import type { AuditLogService } from "../audit-log/audit-log.service";
import type { Actor } from "../audit-log/request-actor";
import { appError, rateLimited } from "../errors/error-codes";
import type { UserEntity } from "../users/user.entity";
import type { LoginThrottle } from "./login-throttle";
import type { PasswordHasher } from "./password";

/**
 * The one place a password is compared: login, reauthenticate, changePassword and
 * changeEmail all come through here, so all are throttled alike and all failures are logged.
 *
 * Order matters: the throttle is consulted before the hash, so during a lockout the answer
 * (RATE_LIMITED) cannot depend on the password; an unknown email costs one hash like a
 * wrong password does, and gets the same error. So does a locked account (adminLockUser),
 * even with the right password: the hash is computed, the attempt counts against the
 * throttle, and only the audit log says ACCOUNT_LOCKED.
 */
export class PasswordCheck {
  /** Verified against when the email is unknown, so both failures cost one hash. */
  private readonly decoyHash: Promise<string>;

  constructor(
    private readonly passwords: PasswordHasher,
    private readonly throttle: LoginThrottle,
    private readonly events: AuditLogService,
  ) {
    this.decoyHash = passwords.hash(randomUUID());
  }

  /**
   * Resolves when `password` is the user's; otherwise throws RATE_LIMITED or
   * INVALID_CREDENTIALS (with `failureMessage`). `accountKey` is the normalized email, the
   * throttle's key whether or not such a user exists. `trustedDevice`: a device that has
   * signed in on this account before, throttled on a budget of its own (see LoginThrottle).
   */
  async verify(
    user: UserEntity | null,
    accountKey: string,
    password: string,
    actor: Actor,
    options: { failureMessage?: string; trustedDevice?: string | null } = {},
  ): Promise<void> {
    const { failureMessage, trustedDevice } = options;
    const decision = await this.throttle.attempt(accountKey, actor.ipAddress, trustedDevice);
    if (!decision.allowed) {
      // Logged once per lockout, not per refused attempt: a flood must not flood the log.
      if (decision.lockoutStarted) await this.events.recordFailedLogin(user?.id ?? null, actor, "RATE_LIMITED");
      throw rateLimited(decision.retryAfterSeconds);
    }
    let ok: boolean;
    try {
      ok = await this.passwords.verify(user?.passwordHash ?? (await this.decoyHash), password);
    } catch (error) {
      // Not a guess (the hash queue was full, say): the attempt does not count against anyone.
      await this.throttle.refund(accountKey, actor.ipAddress);
      throw error;
    }
    if (!user || !ok || user.lockedAt) {
      const reason = user && ok ? "ACCOUNT_LOCKED" : "INVALID_CREDENTIALS";
      await this.events.recordFailedLogin(user?.id ?? null, actor, reason);
      throw appError("INVALID_CREDENTIALS", { message: failureMessage });
    }
    await this.throttle.succeeded(accountKey, actor.ipAddress, trustedDevice);
  }
}
