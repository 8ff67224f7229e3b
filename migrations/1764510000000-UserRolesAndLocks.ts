import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * Roles and account locks, for the admin API (src/admin/).
 *
 * - `role`: USER or ADMIN (src/users/user-role.ts). Admins are made and unmade only by
 *   `npm run admin -- grant|revoke <email>`; the admin fields read it from the database on
 *   every call (never from a cached session), so a revoked role binds at once.
 * - `locked_at`, `locked_reason`: set by `adminLockUser`, in the transaction that ends every
 *   session of the user. Sign-in takes a share lock on the user's row before creating a
 *   session, so a login racing a lock either commits first (and its session is ended by the
 *   lock) or sees the lock and is refused; no session of a locked account can survive.
 *
 * The partial index serves the last-admin rule, which counts the active admins under a row
 * lock. The existing trigger on `users` fires only on email and password changes, so none of
 * these columns writes an event by itself: the statements that change them log themselves
 * (src/audit-log/audit-entries.sql.ts).
 */
export class UserRolesAndLocks1764510000000 implements MigrationInterface {
  name = "UserRolesAndLocks1764510000000";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE "users"
        ADD COLUMN "role" character varying(16) NOT NULL DEFAULT 'USER',
        ADD COLUMN "locked_at" TIMESTAMP WITH TIME ZONE,
        ADD COLUMN "locked_reason" character varying(500),
        ADD CONSTRAINT "users_role_check" CHECK ("role" IN ('USER', 'ADMIN'))`);
    await q.query(`CREATE INDEX "users_active_admins_idx" ON "users" ("id") WHERE "role" = 'ADMIN' AND "locked_at" IS NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX "users_active_admins_idx"`);
    await q.query(`
      ALTER TABLE "users"
        DROP CONSTRAINT "users_role_check",
        DROP COLUMN "locked_reason",
        DROP COLUMN "locked_at",
        DROP COLUMN "role"`);
  }
}
