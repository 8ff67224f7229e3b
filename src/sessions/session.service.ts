import { randomUUID } from "node:crypto";
import { DataSource, EntityManager, In } from "typeorm";
import { parseDevice } from "./device";
import { formatRefreshToken, generateSecret, parseRefreshToken, secretMatches } from "./refresh-token";
import { SessionEntity, type RevocationReason } from "./session.entity";
import { revokeAndNotifySql } from "../live/revocation-channel";
import type { SessionEventSink, SessionRevocation } from "./session-events";

export interface ClientInfo {
  userAgent: string | null;
  ipAddress: string | null;
}

export interface SessionPolicy {
  idleTtl: number;
  maxTtl: number;
  refreshReuseGrace: number;
}

export type SessionInvalidReason = "SESSION_NOT_FOUND" | "SESSION_REVOKED" | "SESSION_EXPIRED";

export type RefreshResult =
  | { ok: true; session: SessionEntity; refreshToken: string }
  | { ok: false; reason: SessionInvalidReason | "REFRESH_TOKEN_INVALID" | "REFRESH_TOKEN_REUSE" | "REFRESH_TOKEN_ROTATED" };

/** Session storage and lifecycle. Every method that ends sessions reports them after commit. */
export class SessionService {
  constructor(
    private readonly db: DataSource,
    private readonly policy: SessionPolicy,
    private readonly events: SessionEventSink,
  ) {}

  /** Creates a session inside the caller's transaction; returns it with its refresh token. */
  async createSession(
    manager: EntityManager,
    input: { userId: string; deviceName: string | null; client: ClientInfo },
  ): Promise<{ session: SessionEntity; refreshToken: string }> {
    const now = new Date();
    const { secret, hash } = generateSecret();
    const session = manager.create(SessionEntity, {
      id: randomUUID(),
      userId: input.userId,
      secretHash: hash,
      previousSecretHash: null,
      secretRotatedAt: null,
      deviceName: input.deviceName,
      userAgent: input.client.userAgent?.slice(0, 512) ?? null,
      ...parseDevice(input.client.userAgent),
      ipAddress: input.client.ipAddress,
      createdAt: now,
      lastActiveAt: now,
      authenticatedAt: now,
      expiresAt: new Date(now.getTime() + this.policy.maxTtl * 1000),
      revokedAt: null,
      revokedReason: null,
    });
    await manager.insert(SessionEntity, session);
    return { session, refreshToken: formatRefreshToken(session.id, secret) };
  }

  /** Loads sessions by id, in the order asked, for the per-request DataLoader. */
  async loadSessions(ids: readonly string[]): Promise<(SessionEntity | null)[]> {
    const rows = await this.db.getRepository(SessionEntity).findBy({ id: In([...ids]) });
    const byId = new Map(rows.map((s) => [s.id, s]));
    return ids.map((id) => byId.get(id) ?? null);
  }

  /** Why a session may not be used now, or null when it is alive. */
  invalidReason(session: SessionEntity | null, now = Date.now()): SessionInvalidReason | null {
    if (!session) return "SESSION_NOT_FOUND";
    // The sweeper marks expired sessions revoked (EXPIRED); they still answer as expired.
    if (session.revokedAt) return session.revokedReason === "EXPIRED" ? "SESSION_EXPIRED" : "SESSION_REVOKED";
    if (now >= this.expiresAt(session).getTime()) return "SESSION_EXPIRED";
    return null;
  }

  /** The earlier of the absolute cap and the idle deadline. */
  expiresAt(session: SessionEntity): Date {
    const idle = session.lastActiveAt.getTime() + this.policy.idleTtl * 1000;
    return new Date(Math.min(session.expiresAt.getTime(), idle));
  }

  /** The user's live sessions, most recently active first. */
  async listUserSessions(userId: string): Promise<SessionEntity[]> {
    const now = new Date();
    return this.db
      .getRepository(SessionEntity)
      .createQueryBuilder("s")
      .where("s.user_id = :userId AND s.revoked_at IS NULL AND s.expires_at > :now", { userId, now })
      .andWhere("s.last_active_at > :idleCutoff", { idleCutoff: new Date(now.getTime() - this.policy.idleTtl * 1000) })
      .orderBy("s.last_active_at", "DESC")
      .addOrderBy("s.created_at", "DESC")
      .getMany();
  }

  /**
   * Rotates a refresh token. The row lock makes parallel refreshes with one token queue up:
   * the first rotates, the others find their secret already spent. A spent secret within
   * `refreshReuseGrace` seconds is a racing tab and is told so without harm; later, it is a
   * replay, and the whole session is revoked (theft detection, RFC 9700 §4.14.2).
   */
  async rotateRefreshToken(token: string): Promise<RefreshResult> {
    const parsed = parseRefreshToken(token);
    if (!parsed) return { ok: false, reason: "REFRESH_TOKEN_INVALID" };
    const { result, revoked } = await this.db.transaction(async (m) => {
      const session = await m
        .getRepository(SessionEntity)
        .createQueryBuilder("s")
        .setLock("pessimistic_write")
        .where("s.id = :id", { id: parsed.sessionId })
        .getOne();
      const invalid = this.invalidReason(session);
      if (invalid || !session) return { result: { ok: false, reason: invalid ?? "SESSION_NOT_FOUND" } as const };
      const now = new Date();
      if (secretMatches(parsed.secret, session.secretHash)) {
        const { secret, hash } = generateSecret();
        session.previousSecretHash = session.secretHash;
        session.secretHash = hash;
        session.secretRotatedAt = now;
        session.lastActiveAt = now;
        await m.update(
          SessionEntity,
          { id: session.id },
          { previousSecretHash: session.previousSecretHash, secretHash: hash, secretRotatedAt: now, lastActiveAt: now },
        );
        return { result: { ok: true, session, refreshToken: formatRefreshToken(session.id, secret) } as const };
      }
      if (secretMatches(parsed.secret, session.previousSecretHash)) {
        const spentFor = now.getTime() - (session.secretRotatedAt?.getTime() ?? 0);
        if (spentFor < this.policy.refreshReuseGrace * 1000) {
          return { result: { ok: false, reason: "REFRESH_TOKEN_ROTATED" } as const };
        }
        const revoked = await this.revokeWhere(m, "REFRESH_TOKEN_REUSE", { id: session.id });
        return { result: { ok: false, reason: "REFRESH_TOKEN_REUSE" } as const, revoked };
      }
      return { result: { ok: false, reason: "REFRESH_TOKEN_INVALID" } as const };
    });
    if (revoked) this.events.sessionsRevoked(revoked);
    return result;
  }

  /**
   * Ends one of the viewer's sessions. Another user's session, a missing one and an ended
   * one all answer false and change nothing: the caller cannot tell them apart.
   */
  async revokeSession(viewerId: string, sessionId: string, reason: RevocationReason): Promise<boolean> {
    const revoked = await this.revokeWhere(this.db.manager, reason, { id: sessionId, userId: viewerId });
    this.events.sessionsRevoked(revoked);
    return revoked.length > 0;
  }

  /** Ends all of a user's live sessions but `exceptSessionId`, in one statement. */
  async revokeUserSessions(
    userId: string,
    reason: RevocationReason,
    options: { exceptSessionId?: string; manager?: EntityManager } = {},
  ): Promise<SessionRevocation[]> {
    const revoked = await this.revokeWhere(options.manager ?? this.db.manager, reason, {
      userId,
      exceptId: options.exceptSessionId,
    });
    // Inside a caller's transaction the caller publishes after its commit.
    if (!options.manager) this.events.sessionsRevoked(revoked);
    return revoked;
  }

  /** Sessions of these users ended at or after `since` (a live instance catching up after a gap). */
  async revokedSessionsSince(userIds: readonly string[], since: Date): Promise<SessionRevocation[]> {
    const rows = (await this.db.query(
      `SELECT id, user_id, revoked_reason, revoked_at FROM sessions
       WHERE user_id = ANY($1::uuid[]) AND revoked_at >= $2`,
      [userIds, since],
    )) as { id: string; user_id: string; revoked_reason: RevocationReason; revoked_at: Date }[];
    return rows.map((r) => ({ sessionId: r.id, userId: r.user_id, reason: r.revoked_reason, revokedAt: new Date(r.revoked_at) }));
  }

  /** Records activity; see LastActiveWriter for why this is not a write per request. */
  async touchSessions(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.db.query(
      "UPDATE sessions SET last_active_at = now() WHERE id = ANY($1::uuid[]) AND revoked_at IS NULL",
      [ids],
    );
  }

  /**
   * Marks up to `limit` sessions past their absolute or idle deadline as revoked (EXPIRED) and
   * publishes them, optionally only among `sessionIds`. Safe with several instances sweeping
   * at once: FOR UPDATE SKIP LOCKED lets each row be claimed by exactly one statement, and a
   * row locked by a concurrent logout is left to that logout (or the next sweep).
   */
  async revokeExpiredSessions(options: { limit?: number; sessionIds?: readonly string[] } = {}): Promise<SessionRevocation[]> {
    // $1 is the reason (see revokeWhere); ours start at $2.
    const params: unknown[] = [this.policy.idleTtl, options.limit ?? 5000];
    const onlyIds = options.sessionIds ? `AND id = ANY($${params.push(options.sessionIds) + 1}::uuid[])` : "";
    const revoked = await this.revokeWhere(this.db.manager, "EXPIRED", {
      sql: `id IN (
        SELECT id FROM sessions
        WHERE revoked_at IS NULL ${onlyIds}
          AND (expires_at <= now() OR last_active_at <= now() - make_interval(secs => $2))
        ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED)`,
      params,
    });
    this.events.sessionsRevoked(revoked);
    return revoked;
  }

  /**
   * The one way sessions end: an UPDATE that also NOTIFYs the live fan-out in the same
   * statement (see live/revocation-channel.ts for why), so no caller can forget to publish.
   */
  private async revokeWhere(
    manager: EntityManager,
    reason: RevocationReason,
    where: { id?: string; userId?: string; exceptId?: string; sql?: string; params?: unknown[] },
  ): Promise<SessionRevocation[]> {
    // `where.sql` numbers its parameters from $2, so it comes alone.
    const params: unknown[] = [reason, ...(where.params ?? [])];
    const conditions: string[] = where.sql ? [where.sql] : [];
    if (where.id) conditions.push(`id = $${params.push(where.id)}::uuid`);
    if (where.userId) conditions.push(`user_id = $${params.push(where.userId)}::uuid`);
    if (where.exceptId) conditions.push(`id <> $${params.push(where.exceptId)}::uuid`);
    const rows = (await manager.query(revokeAndNotifySql(conditions.join(" AND ") || "true"), params)) as {
      id: string;
      user_id: string;
      revoked_at: Date;
    }[];
    return rows.map((r) => ({ userId: r.user_id, sessionId: r.id, reason, revokedAt: new Date(r.revoked_at) }));
  }
}
