import { Check, Column, CreateDateColumn, Entity, Index, PrimaryColumn, UpdateDateColumn } from "typeorm";
import type { UserRole } from "./user-role";

/** An account. `email` is stored lower-cased; `passwordHash` is a PHC-style scrypt string. */
@Entity({ name: "users" })
@Check("users_role_check", `"role" IN ('USER', 'ADMIN')`)
// The last-admin rule counts the active admins under a row lock (UserRolesAndLocks migration).
@Index("users_active_admins_idx", ["id"], { where: `"role" = 'ADMIN' AND "locked_at" IS NULL` })
export class UserEntity {
  @PrimaryColumn("uuid")
  id!: string;

  @Column({ type: "varchar", length: 254, unique: true })
  email!: string;

  @Column({ name: "password_hash", type: "varchar", length: 255 })
  passwordHash!: string;

  @Column({ type: "varchar", length: 16, default: "USER" })
  role!: UserRole;

  /** Set by adminLockUser: sign-in is refused (as a wrong password is) until adminUnlockUser. */
  @Column({ name: "locked_at", type: "timestamptz", nullable: true })
  lockedAt!: Date | null;

  @Column({ name: "locked_reason", type: "varchar", length: 500, nullable: true })
  lockedReason!: string | null;

  @CreateDateColumn({ name: "created_at", type: "timestamptz" })
  createdAt!: Date;

  @UpdateDateColumn({ name: "updated_at", type: "timestamptz" })
  updatedAt!: Date;
}
