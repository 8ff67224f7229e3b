import { type DataSource, type EntityManager, In } from "typeorm";
import { transactionRunner } from "../db/pg-pool";
import { sql } from "../db/sql";
import { UserEntity } from "./user.entity";

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
  async holdForSignIn(tx: EntityManager, userId: string): Promise<boolean> {
    const [row] = await transactionRunner(tx).rows<{ locked: boolean }>(
      sql`SELECT locked_at IS NOT NULL AS locked FROM users WHERE id = ${userId}::uuid FOR SHARE`,
    );
    return row !== undefined && !row.locked;
  }

  async updatePasswordHash(manager: EntityManager, userId: string, passwordHash: string): Promise<void> {
    await manager.update(UserEntity, { id: userId }, { passwordHash });
  }

  /** Sets an already-normalized email; a taken one fails with the unique violation (23505). */
  async updateEmail(manager: EntityManager, userId: string, email: string): Promise<void> {
    await manager.update(UserEntity, { id: userId }, { email });
  }
}
