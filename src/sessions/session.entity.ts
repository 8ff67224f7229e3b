import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from "typeorm";
import { UserEntity } from "../users/user.entity";
import type { RevocationReason } from "./revocation/revocation-reason";

/**
 * One login on one device. The client holds `<id>.<secret>` as its refresh token; only
 * SHA-256 of the secret is stored (the secret has 256 random bits, so a slow hash adds
 * nothing). `previousSecretHash` remembers the secret spent by the last rotation, which is
 * how a replayed refresh token is recognised (RFC 9700 §4.14.2).
 *
 * A session is alive while `revokedAt` is null, `now < expiresAt` (the absolute cap, never
 * extended) and `now < lastActiveAt + SESSION_IDLE_TTL`.
 */
@Entity({ name: "sessions" })
// Not partial on revoked_at: revocations stay HOT updates (migration SessionsHotRevocation).
@Index("sessions_user_idx", ["userId"])
export class SessionEntity {
  @PrimaryColumn("uuid")
  id!: string;

  @Column({ name: "user_id", type: "uuid" })
  userId!: string;

  @ManyToOne(() => UserEntity, { onDelete: "CASCADE" })
  @JoinColumn({ name: "user_id", foreignKeyConstraintName: "FK_sessions_user" })
  user?: UserEntity;

  @Column({ name: "secret_hash", type: "bytea" })
  secretHash!: Buffer;

  @Column({ name: "previous_secret_hash", type: "bytea", nullable: true })
  previousSecretHash!: Buffer | null;

  @Column({ name: "secret_rotated_at", type: "timestamptz", nullable: true })
  secretRotatedAt!: Date | null;

  @Column({ name: "device_name", type: "varchar", length: 100, nullable: true })
  deviceName!: string | null;

  @Column({ name: "user_agent", type: "varchar", length: 512, nullable: true })
  userAgent!: string | null;

  @Column({ type: "varchar", length: 100, nullable: true })
  browser!: string | null;

  @Column({ type: "varchar", length: 100, nullable: true })
  os!: string | null;

  @Column({ name: "device_type", type: "varchar", length: 30, nullable: true })
  deviceType!: string | null;

  @Column({ name: "ip_address", type: "varchar", length: 45, nullable: true })
  ipAddress!: string | null;

  @Column({ name: "created_at", type: "timestamptz" })
  createdAt!: Date;

  @Column({ name: "last_active_at", type: "timestamptz" })
  lastActiveAt!: Date;

  /** Last time this session proved the password (login, register, reauthentication). */
  @Column({ name: "authenticated_at", type: "timestamptz" })
  authenticatedAt!: Date;

  @Column({ name: "expires_at", type: "timestamptz" })
  expiresAt!: Date;

  @Column({ name: "revoked_at", type: "timestamptz", nullable: true })
  revokedAt!: Date | null;

  @Column({ name: "revoked_reason", type: "varchar", length: 32, nullable: true })
  revokedReason!: RevocationReason | null;

  /** Signed in from a device this user had not signed in on before (user_devices). */
  @Column({ name: "new_device", type: "boolean", default: true })
  newDevice!: boolean;

  /** False when "keep me signed in" was off: SESSION_SHORT_TTL, and a browser-session cookie. */
  @Column({ type: "boolean", default: true })
  persistent!: boolean;
}
