import type { AuditLogService, EventCursor, SecurityEventPage } from "../audit-log/audit-log.service";
import { type Actor, setActor } from "../audit-log/request-actor";
import type { Transactions } from "../db/transaction";
import type { SessionEntity } from "../sessions/session.entity";
import { MAX_SESSIONS_PAGE, type SessionService } from "../sessions/session.service";
import { normalizeEmail } from "../users/user.service";
import type { AdminUserRow, UserAdminStore } from "./user-admin.store";

/** Why an operator's change was refused; the resolver and the command line each say it their way. */
export type AdminRefusal = "USER_NOT_FOUND" | "LAST_ADMIN";

export type AdminResult<T> = { ok: true; value: T } | { ok: false; reason: AdminRefusal };

/**
 * What support staff (and the admin command line) do to other users' accounts. Every session
 * ends through SessionService, on the one revoking statement, and is published after commit
 * to caches, sockets and other instances; every change names its operator in the audit log
 * (the actor's `operator`).
 *
 * The last-admin rule: no change may leave no active (unlocked) admin, so the last one cannot
 * lock themselves out (nor give up the role: see UserRoles).
 */
export class AdminService {
  constructor(
    private readonly transactions: Transactions,
    private readonly store: UserAdminStore,
    private readonly sessions: SessionService,
    private readonly auditLog: AuditLogService,
  ) {}

  findUser(by: { id: string } | { email: string }): Promise<AdminUserRow | null> {
    return this.store.findUser("email" in by ? { email: normalizeEmail(by.email) } : by);
  }

  /** The user's most recently active sessions, one page of mySessions' size. */
  listUserSessions(userId: string): Promise<SessionEntity[]> {
    return this.sessions.listUserSessions({ userId, sessionId: null }, { first: MAX_SESSIONS_PAGE, after: null });
  }

  listSecurityEvents(userId: string, first: number, after: EventCursor | null): Promise<SecurityEventPage> {
    return this.auditLog.listUserEvents(userId, first, after);
  }

  /** Ends one session of any user (ADMIN_REVOKED); false if it was not a live session. */
  revokeSession(sessionId: string, actor: Actor): Promise<boolean> {
    return this.sessions.revokeAnySession(sessionId, "ADMIN_REVOKED", actor);
  }

  /** Ends every live session of the user (ADMIN_REVOKED); answers how many. */
  async revokeUserSessions(userId: string, actor: Actor): Promise<number> {
    return (await this.sessions.revokeUserSessions(userId, "ADMIN_REVOKED", { actor })).length;
  }

  /**
   * Locks the account and ends every session (ACCOUNT_LOCKED) in one transaction; answers how
   * many ended. Locking a locked account ends whatever is still alive and logs no second lock.
   */
  async lockUser(userId: string, reason: string | null, actor: Actor): Promise<AdminResult<number>> {
    // The sessions' events go out after the commit, with the transaction's after-commit queue.
    return this.transactions.run(async (tx) => {
      await setActor(tx, actor);
      const held = await this.store.lockForChange(tx, { id: userId });
      if (!held) return { ok: false, reason: "USER_NOT_FOUND" };
      if (held.lastActiveAdmin) return { ok: false, reason: "LAST_ADMIN" };
      await this.store.lock(tx, userId, reason);
      const ended = await this.sessions.revokeUserSessions(userId, "ACCOUNT_LOCKED", { tx });
      return { ok: true, value: ended.length };
    });
  }

  /** Unlocks the account; false if it was not locked. Its sessions stay ended: the user signs in again. */
  async unlockUser(userId: string, actor: Actor): Promise<AdminResult<boolean>> {
    return this.transactions.run(async (tx) => {
      await setActor(tx, actor);
      const held = await this.store.lockForChange(tx, { id: userId });
      if (!held) return { ok: false, reason: "USER_NOT_FOUND" };
      return { ok: true, value: await this.store.unlock(tx, userId) };
    });
  }
}
