import { type Actor, setActor } from "../audit-log/request-actor";
import type { Transactions } from "../db/transaction";
import { normalizeEmail } from "../users/user.service";
import type { UserRole } from "../users/user-role";
import type { AdminResult } from "./admin.service";
import type { AdminUserRow, UserAdminStore } from "./user-admin.store";

/**
 * Who is an admin. Roles change only from the operator's command line (`npm run admin --
 * grant|revoke <email>`), never over the API: an admin cannot make another. Each change is
 * logged (ROLE_CHANGED) with its operator, and binds at the next request, since the admin
 * fields read the role from the database every time.
 */
export class UserRoles {
  constructor(
    private readonly transactions: Transactions,
    private readonly store: UserAdminStore,
  ) {}

  /**
   * Gives or takes ADMIN from the user with this email; answers the user and whether the role
   * changed. Taking it from the last active admin is refused (LAST_ADMIN).
   */
  async setRole(email: string, role: UserRole, actor: Actor): Promise<AdminResult<{ user: AdminUserRow; changed: boolean }>> {
    return this.transactions.run(async (tx) => {
      await setActor(tx, actor);
      const held = await this.store.lockForChange(tx, { email: normalizeEmail(email) });
      if (!held) return { ok: false, reason: "USER_NOT_FOUND" };
      if (role !== "ADMIN" && held.lastActiveAdmin) return { ok: false, reason: "LAST_ADMIN" };
      const changed = await this.store.setRole(tx, held.user.id, role, held.user.role);
      return { ok: true, value: { user: { ...held.user, role }, changed } };
    });
  }
}
