import type { Pool } from "pg";
import { accountChangeEntry } from "../audit-log/audit-entries.sql";
import { AuditEventType } from "../audit-log/audit-event-type";
import { poolRunner, type SqlRunner } from "../db/pg-pool";
import { type Sql, sql } from "../db/sql";
import type { UserRole } from "../users/user-role";

/** An account as support staff see it: no password hash is ever read. */
export interface AdminUserRow {
  id: string;
  email: string;
  role: UserRole;
  createdAt: Date;
  lockedAt: Date | null;
  lockedReason: string | null;
}

interface UserRow {
  id: string;
  email: string;
  role: UserRole;
  created_at: Date;
  locked_at: Date | null;
  locked_reason: string | null;
}

const USER_COLUMNS = sql`id, email, role, created_at, locked_at, locked_reason`;

function toAdminUser(row: UserRow): AdminUserRow {
  return {
    id: row.id,
    email: row.email,
    role: row.role,
    createdAt: new Date(row.created_at),
    lockedAt: row.locked_at ? new Date(row.locked_at) : null,
    lockedReason: row.locked_reason,
  };
}

/**
 * Every statement on `users` that support staff and the admin command line make. The ones
 * that change a row also write its audit entry in the same statement (accountChangeEntry),
 * with the actor the caller's transaction set (setActor), so no change goes unlogged.
 */
export class UserAdminStore {
  constructor(private readonly pool: Pool) {}

  /** One user by id or by (normalized) email; null if none. A plain read. */
  async findUser(by: { id: string } | { email: string }): Promise<AdminUserRow | null> {
    const where = "id" in by ? sql`id = ${by.id}::uuid` : sql`email = ${by.email}`;
    const [row] = await poolRunner(this.pool).rows<UserRow>(sql`SELECT ${USER_COLUMNS} FROM users WHERE ${where}`);
    return row ? toAdminUser(row) : null;
  }

  /**
   * The user, its row locked until `tx` ends, with whether it is an active admin that no
   * other active admin would outlast (the last-admin rule). The active admins are locked too,
   * in id order: of two transactions each removing an admin, the second waits and then counts
   * without the first's, so together they can never remove the last one.
   */
  async lockForChange(
    tx: SqlRunner,
    by: { id: string } | { email: string },
  ): Promise<{ user: AdminUserRow; lastActiveAdmin: boolean } | null> {
    const where = "id" in by ? sql`id = ${by.id}::uuid` : sql`email = ${by.email}`;
    const [row] = await tx.rows<UserRow>(sql`SELECT ${USER_COLUMNS} FROM users WHERE ${where} FOR UPDATE`);
    if (!row) return null;
    const user = toAdminUser(row);
    if (user.role !== "ADMIN" || user.lockedAt) return { user, lastActiveAdmin: false };
    const admins = await tx.rows<{ id: string }>(
      sql`SELECT id FROM users WHERE role = 'ADMIN' AND locked_at IS NULL ORDER BY id FOR UPDATE`,
    );
    return { user, lastActiveAdmin: admins.length === 1 && admins[0].id === user.id };
  }

  /** Locks the account and logs ACCOUNT_LOCKED; false (and no entry) if it was already locked. */
  async lock(tx: SqlRunner, userId: string, reason: string | null): Promise<boolean> {
    return this.change(
      tx,
      sql`UPDATE users SET locked_at = now(), locked_reason = ${reason} WHERE id = ${userId}::uuid AND locked_at IS NULL RETURNING id`,
      AuditEventType.ACCOUNT_LOCKED,
      sql`jsonb_build_object('reason', ${reason}::text)`,
    );
  }

  /** Unlocks the account and logs ACCOUNT_UNLOCKED; false (and no entry) if it was not locked. */
  async unlock(tx: SqlRunner, userId: string): Promise<boolean> {
    return this.change(
      tx,
      sql`UPDATE users SET locked_at = NULL, locked_reason = NULL WHERE id = ${userId}::uuid AND locked_at IS NOT NULL RETURNING id`,
      AuditEventType.ACCOUNT_UNLOCKED,
      sql`'{}'::jsonb`,
    );
  }

  /** Sets the role and logs ROLE_CHANGED; false (and no entry) if it already was that role. */
  async setRole(tx: SqlRunner, userId: string, role: UserRole, previousRole: UserRole): Promise<boolean> {
    return this.change(
      tx,
      sql`UPDATE users SET role = ${role} WHERE id = ${userId}::uuid AND role <> ${role} RETURNING id`,
      AuditEventType.ROLE_CHANGED,
      sql`jsonb_build_object('role', ${role}::text, 'previousRole', ${previousRole}::text)`,
    );
  }

  private async change(tx: SqlRunner, update: Sql, type: AuditEventType, details: Sql): Promise<boolean> {
    const rows = await tx.rows(
      sql`WITH changed AS (${update}), logged AS (${accountChangeEntry(type, details)}) SELECT id FROM changed`,
    );
    return rows.length > 0;
  }
}
