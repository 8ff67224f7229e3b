import { type DataSource, type EntityManager, In } from "typeorm";
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

  async updatePasswordHash(manager: EntityManager, userId: string, passwordHash: string): Promise<void> {
    await manager.update(UserEntity, { id: userId }, { passwordHash });
  }

  /** Sets an already-normalized email; a taken one fails with the unique violation (23505). */
  async updateEmail(manager: EntityManager, userId: string, email: string): Promise<void> {
    await manager.update(UserEntity, { id: userId }, { email });
  }
}
