import { type Actor, setActor } from "../audit-log/request-actor";
import type { Transaction, Transactions } from "../db/transaction";
import { appError, unauthenticated } from "../errors/error-codes";
import { invariant } from "../lib/invariant";
import type { SessionEventSink } from "../sessions/revocation/revocation";
import type { RevocationReason } from "../sessions/revocation/revocation-reason";
import type { SessionService } from "../sessions/session.service";
import type { SessionCheck } from "../sessions/validate-session";
import type { UserEntity } from "../users/user.entity";
import { normalizeEmail, type UserService } from "../users/user.service";
import { UNIQUE_VIOLATION } from "./auth.service";
import type { PasswordHasher } from "./password";
import type { PasswordCheck } from "./password-check";
import { assertNewPasswordAllowed } from "./password-policy";

export interface SignedInViewer {
  userId: string;
  sessionId: string;
}

const WRONG_CURRENT_PASSWORD = "The current password is not correct.";

/**
 * Sensitive account changes. The guards stack: a live session (the context builder), then
 * the session re-read from the database (the resolver's requireAuthoritativeViewer), then
 * proof of a recent sign-in. For changePassword and changeEmail that proof is the current
 * password they take (throttled like a login), so a stale session is not asked for it twice,
 * and the session is fresh afterwards. Ending other sessions takes no password, so it needs a
 * session that is already fresh (requireFreshViewer).
 */
export class AccountService {
  constructor(
    private readonly transactions: Transactions,
    private readonly users: UserService,
    private readonly sessions: SessionService,
    private readonly passwords: PasswordHasher,
    private readonly passwordCheck: PasswordCheck,
    private readonly events: SessionEventSink,
  ) {}

  /** Checks the password and makes this session fresh again. */
  async reauthenticate(viewer: SignedInViewer, password: string, actor: Actor): Promise<boolean> {
    const user = await this.currentUser(viewer);
    // A signed-in session is a browser that signed in: it has a budget of its own.
    await this.passwordCheck.verify(user, user.email, password, actor, { trustedDevice: `session:${viewer.sessionId}` });
    if (!(await this.sessions.markAuthenticated(viewer.sessionId, actor))) throw unauthenticated("SESSION_REVOKED");
    return true;
  }

  /** Checks the current password, sets the new one and ends every other session, atomically. */
  async changePassword(viewer: SignedInViewer, currentPassword: string, newPassword: string, actor: Actor) {
    const user = await this.currentUser(viewer);
    // Before the password check: a refused new password costs no hash and no throttle attempt.
    assertNewPasswordAllowed("newPassword", newPassword, { email: user.email, currentPassword });
    await this.passwordCheck.verify(user, user.email, currentPassword, actor, {
      failureMessage: WRONG_CURRENT_PASSWORD,
      trustedDevice: `session:${viewer.sessionId}`,
    });
    const passwordHash = await this.passwords.hash(newPassword);
    return this.changeAndRevokeOthers(viewer, actor, "PASSWORD_CHANGED", (tx) =>
      this.users.updatePasswordHash(tx, user.id, passwordHash),
    );
  }

  /** Checks the password, changes the sign-in email and ends every other session, atomically. */
  async changeEmail(viewer: SignedInViewer, newEmail: string, currentPassword: string, actor: Actor) {
    const user = await this.provePassword(viewer, currentPassword, actor);
    const email = normalizeEmail(newEmail);
    try {
      return await this.changeAndRevokeOthers(viewer, actor, "EMAIL_CHANGED", async (tx) => {
        await this.users.updateEmail(tx, user.id, email);
        tx.afterCommit(() => this.events.userChanged(user.id));
      });
    } catch (error) {
      if ((error as { code?: string }).code === UNIQUE_VIOLATION) throw appError("EMAIL_TAKEN");
      throw error;
    }
  }

  private async currentUser(viewer: SignedInViewer): Promise<UserEntity> {
    const [user] = await this.users.loadUsers([viewer.userId]);
    if (!user) throw unauthenticated("SESSION_NOT_FOUND");
    return user;
  }

  /**
   * The current password, whatever the session's freshness. Wrong: INVALID_CREDENTIALS,
   * counted by the login throttle.
   */
  private async provePassword(viewer: SignedInViewer, password: string, actor: Actor): Promise<UserEntity> {
    const user = await this.currentUser(viewer);
    await this.passwordCheck.verify(user, user.email, password, actor, {
      failureMessage: WRONG_CURRENT_PASSWORD,
      trustedDevice: `session:${viewer.sessionId}`,
    });
    return user;
  }

  private async changeAndRevokeOthers(
    viewer: SignedInViewer,
    actor: Actor,
    reason: RevocationReason,
    change: (tx: Transaction) => Promise<void>,
  ): Promise<number> {
    const revoked = await this.transactions.run(async (tx) => {
      await setActor(tx, actor);
      // Before the row lock: revocations of a user's sessions as a whole take their locks in one order.
      await this.sessions.lockUserSessions(tx, viewer.userId);
      // Again, under a row lock: the session may have been revoked while the hash was computed.
      assertAlive(await this.sessions.validateSession({ session: viewer }, { lockIn: tx }));
      // The password was just proved on this session: it is as fresh as after reauthenticate.
      await this.sessions.markFresh(tx, viewer.sessionId);
      await change(tx);
      return this.sessions.revokeUserSessions(viewer.userId, reason, { exceptSessionId: viewer.sessionId, tx });
    });
    return revoked.length;
  }
}

function assertAlive(check: SessionCheck): void {
  if (check.ok) return;
  invariant(check.reason !== "SESSION_NOT_FRESH", "freshness was not asked for");
  throw unauthenticated(check.reason);
}
