import { type DataSource, In } from "typeorm";
import type { SqlRunner } from "../db/pg-pool";
import { sql } from "../db/sql";
import { UserEntity } from "./user.entity";
import type { UserRole } from "./user-role";

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

export class UserService {
  constructor(private readonly db: DataSource) {}

  findByEmail(email: string): Promise<UserEntity | null> {
    return this.db.getRepository(UserEntity).findOneBy({ email: normalizeEmail(email) });
  }

  /** Loads users by id, in the order asked, for the per-request DataLoader. */
  async loadUsers(ids: readonly string[]): Promise<(UserEntity | null)[]> {
    const rows = await this.db.getRepository(UserEntity).findBy({ id: In([...ids]) });
    const byId = new Map(rows.map((u) => [u.id, u]));
    return ids.map((id) => byId.get(id) ?? null);
  }

  /**
   * Holds the user's row (FOR SHARE) until `tx` ends, for a sign-in about to create a session;
   * false if the account is locked. An adminLockUser in flight makes this wait for its commit
   * and then see the lock; one that comes later waits for this sign-in and then ends the
   * session it made. Either way no session of a locked account survives.
   */
  async holdForSignIn(tx: SqlRunner, userId: string): Promise<boolean> {
    const [row] = await tx.rows<{ locked: boolean }>(
      sql`SELECT locked_at IS NOT NULL AS locked FROM users WHERE id = ${userId}::uuid FOR SHARE`,
    );
    return row !== undefined && !row.locked;
  }

  /** Inserts an account (email already normalized); a taken email fails with the unique violation (23505). */
  async createUser(tx: SqlRunner, user: { id: string; email: string; passwordHash: string }): Promise<UserEntity> {
    const [row] = await tx.rows<{
      id: string;
      email: string;
      password_hash: string;
      role: UserRole;
      created_at: Date;
      updated_at: Date;
    }>(
      sql`INSERT INTO users (id, email, password_hash) VALUES (${user.id}, ${user.email}, ${user.passwordHash})
          RETURNING id, email, password_hash, role, created_at, updated_at`,
    );
    return Object.assign(new UserEntity(), {
      id: row.id,
      email: row.email,
      passwordHash: row.password_hash,
      role: row.role,
      lockedAt: null,
      lockedReason: null,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
    });
  }

  async updatePasswordHash(tx: SqlRunner, userId: string, passwordHash: string): Promise<void> {
    await tx.rows(sql`UPDATE users SET password_hash = ${passwordHash}, updated_at = now() WHERE id = ${userId}`);
  }

  /** Sets an already-normalized email; a taken one fails with the unique violation (23505). */
  async updateEmail(tx: SqlRunner, userId: string, email: string): Promise<void> {
    await tx.rows(sql`UPDATE users SET email = ${email}, updated_at = now() WHERE id = ${userId}`);
  }
}
