import { randomUUID } from "node:crypto";
import type { Pool } from "pg";
import { DataSource, EntityManager } from "typeorm";
import type { PostgresDriver } from "typeorm/driver/postgres/PostgresDriver";
import { setActor, type Actor } from "../security/request-actor";
import { UserEntity } from "../users/user.entity";
import { parseDevice } from "./device";
import { formatRefreshToken, generateSecret, hashSecret, parseRefreshToken, secretMatches } from "./refresh-token";
import { SessionEntity, type RevocationReason } from "./session.entity";
import { revokeAndNotifySql, revokedFromBatches } from "../live/revocation-channel";
import type { SessionEventSink, SessionRevocation } from "./session-events";

/** Which sessions a revoking statement ends: conditions ANDed; `sql` numbers its parameters from $2. */
interface RevocationTarget {
  id?: string;
  userId?: string;
  exceptId?: string;
  sql?: string;
  params?: unknown[];
}

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

/** Whether a session may perform a sensitive action (password or email change). */
export type SensitiveCheck = { ok: true } | { ok: false; reason: SessionInvalidReason | "SESSION_NOT_FRESH" };

export type RefreshResult =
  | { ok: true; session: SessionEntity; refreshToken: string }
  | { ok: false; reason: SessionInvalidReason | "REFRESH_TOKEN_INVALID" | "REFRESH_TOKEN_REUSE" | "REFRESH_TOKEN_ROTATED" };

const SESSION_COLUMNS = `
  s.id, s.user_id, s.device_name, s.user_agent, s.browser, s.os, s.device_type, s.ip_address,
  s.created_at, s.last_active_at, s.authenticated_at, s.expires_at, s.revoked_at, s.revoked_reason,
  u.email AS user_email, u.created_at AS user_created_at, u.updated_at AS user_updated_at`;

const LOAD_SESSIONS = `
  SELECT ${SESSION_COLUMNS} FROM sessions s JOIN users u ON u.id = s.user_id
  WHERE s.id = ANY($1::uuid[])`;

// Uses the index sessions_user_idx (ended rows kept for SESSION_RETENTION are filtered). Only
// what the Session type shows: no user join, no timestamps nobody reads. The timestamps come as
// epoch milliseconds (a float8, read with parseFloat): pg's text parser for timestamptz, a
// regular expression per value, was ~2 ms of a 1,000-session list (CPU profile).
const LIST_USER_SESSIONS = `
  SELECT s.id, s.user_id, s.device_name, s.user_agent, s.browser, s.os, s.device_type, s.ip_address,
         date_part('epoch', s.created_at) * 1000 AS created_ms,
         date_part('epoch', s.last_active_at) * 1000 AS last_active_ms,
         date_part('epoch', s.expires_at) * 1000 AS expires_ms
  FROM sessions s
  WHERE s.user_id = $1 AND s.revoked_at IS NULL AND s.expires_at > now()
    AND s.last_active_at > now() - make_interval(secs => $2)
  ORDER BY s.last_active_at DESC, s.created_at DESC`;

interface SessionUserRow {
  id: string;
  user_id: string;
  device_name: string | null;
  user_agent: string | null;
  browser: string | null;
  os: string | null;
  device_type: string | null;
  ip_address: string | null;
  created_at: Date;
  last_active_at: Date;
  authenticated_at: Date;
  expires_at: Date;
  revoked_at: Date | null;
  revoked_reason: RevocationReason | null;
  user_email: string;
  user_created_at: Date;
  user_updated_at: Date;
}

type DeviceColumns = Pick<SessionUserRow, "id" | "user_id" | "device_name" | "user_agent" | "browser" | "os" | "device_type" | "ip_address">;

interface ListedSessionRow extends DeviceColumns {
  created_ms: number;
  last_active_ms: number;
  expires_ms: number;
}

/** The columns every read of a session shows (the list reads only these). */
function listedSession(row: DeviceColumns, createdAt: Date, lastActiveAt: Date, expiresAt: Date): SessionEntity {
  return Object.assign(new SessionEntity(), {
    id: row.id,
    userId: row.user_id,
    deviceName: row.device_name,
    userAgent: row.user_agent,
    browser: row.browser,
    os: row.os,
    deviceType: row.device_type,
    ipAddress: row.ip_address,
    createdAt,
    lastActiveAt,
    expiresAt,
    revokedAt: null,
    revokedReason: null,
  });
}

/** A session as the request path needs it: no secret hashes are read at all. */
function toSession(row: SessionUserRow): SessionEntity {
  const user = Object.assign(new UserEntity(), {
    id: row.user_id,
    email: row.user_email,
    createdAt: row.user_created_at,
    updatedAt: row.user_updated_at,
  });
  return Object.assign(listedSession(row, row.created_at, row.last_active_at, row.expires_at), {
    user,
    authenticatedAt: row.authenticated_at,
    revokedAt: row.revoked_at,
    revokedReason: row.revoked_reason,
  });
}

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

  /**
   * Loads sessions, with their users, by id, in the order asked (a DataLoader batch function).
   * This is the per-request path on a cache miss, so it is one named (prepared once per
   * connection) statement on the pool, not a query built by the ORM each time.
   */
  async loadSessions(ids: readonly string[]): Promise<(SessionEntity | null)[]> {
    const { rows } = await this.pool().query<SessionUserRow>({ name: "load_sessions", text: LOAD_SESSIONS, values: [ids] });
    const byId = new Map(rows.map((row) => [row.id, toSession(row)]));
    return ids.map((id) => byId.get(id) ?? null);
  }

  /** Why a session may not be used now, or null when it is alive. */
  invalidReason(session: SessionEntity | null, now = Date.now()): SessionInvalidReason | null {
    if (!session) return "SESSION_NOT_FOUND";
    // The sweeper marks expired sessions revoked (EXPIRED); they still answer as expired.
    if (session.revokedAt) return session.revokedReason === "EXPIRED" ? "SESSION_EXPIRED" : "SESSION_REVOKED";
    if (now >= this.expiresAtMs(session)) return "SESSION_EXPIRED";
    return null;
  }

  /** The earlier of the absolute cap and the idle deadline. */
  expiresAt(session: SessionEntity): Date {
    return new Date(this.expiresAtMs(session));
  }

  private expiresAtMs(session: SessionEntity): number {
    return Math.min(session.expiresAt.getTime(), session.lastActiveAt.getTime() + this.policy.idleTtl * 1000);
  }

  /** The user's live sessions, most recently active first (one indexed, prepared query). */
  async listUserSessions(userId: string): Promise<SessionEntity[]> {
    const { rows } = await this.pool().query<ListedSessionRow>({
      name: "list_user_sessions",
      text: LIST_USER_SESSIONS,
      values: [userId, this.policy.idleTtl],
    });
    return rows.map((row) =>
      listedSession(row, new Date(row.created_ms), new Date(row.last_active_ms), new Date(row.expires_ms)),
    );
  }

  /**
   * Rotates a refresh token. The row lock makes parallel refreshes with one token queue up:
   * the first rotates, the others find their secret already spent. A spent secret within
   * `refreshReuseGrace` seconds is a racing tab and is told so without harm; later, it is a
   * replay, and the whole session is revoked (theft detection, RFC 9700 §4.14.2).
   */
  async rotateRefreshToken(token: string, actor: Actor): Promise<RefreshResult> {
    const parsed = parseRefreshToken(token);
    if (!parsed) return { ok: false, reason: "REFRESH_TOKEN_INVALID" };
    const { result, revoked } = await this.db.transaction(async (m) => {
      await setActor(m, actor);
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
    if (revoked) await this.events.sessionsRevoked(revoked);
    return result;
  }

  /**
   * Ends, with reason LOGOUT, every session a logout's credentials prove, in one statement:
   * - `session`, named by an access token the context builder has checked (signed in, or
   *   genuine but expired), and only if it belongs to that token's user;
   * - the session of `refreshToken`, if the token is that live session's current one or the
   *   one spent within `refreshReuseGrace` seconds (a tab that refreshed just before another
   *   logged out). One spent earlier, forged, unknown or malformed ends nothing: it proves
   *   nothing about the session now. The hashes are compared by the UPDATE itself, so a
   *   rotation racing this cannot leave the session alive with a token just logged out.
   * Sessions already ended are left as they are. Answers how many sessions ended.
   */
  async logout(
    credentials: { session?: { userId: string; sessionId: string } | null; refreshToken?: string | null },
    actor: Actor,
  ): Promise<number> {
    const params: unknown[] = [];
    // revokeWhere's `$1` is the reason: ours start at $2.
    const param = (value: unknown) => `$${params.push(value) + 1}`;
    const proofs: string[] = [];
    if (credentials.session) {
      proofs.push(`(id = ${param(credentials.session.sessionId)}::uuid AND user_id = ${param(credentials.session.userId)}::uuid)`);
    }
    const parsed = credentials.refreshToken ? parseRefreshToken(credentials.refreshToken) : null;
    if (parsed) {
      const hash = param(hashSecret(parsed.secret));
      proofs.push(`(id = ${param(parsed.sessionId)}::uuid
        AND expires_at > now() AND last_active_at > now() - make_interval(secs => ${param(this.policy.idleTtl)})
        AND (secret_hash = ${hash}
          OR (previous_secret_hash = ${hash} AND secret_rotated_at > now() - make_interval(secs => ${param(this.policy.refreshReuseGrace)}))))`);
    }
    if (proofs.length === 0) return 0;
    // Without an access token, the refresh token is the actor's proof of being that session.
    const by = credentials.session ? actor : { ...actor, sessionId: parsed?.sessionId ?? null };
    const revoked = await this.revokeAndPublish(by, "LOGOUT", { sql: proofs.join(" OR "), params });
    return revoked.length;
  }

  /**
   * Ends one of the viewer's sessions. Another user's session, a missing one and an ended
   * one all answer false and change nothing: the caller cannot tell them apart.
   */
  async revokeSession(viewerId: string, sessionId: string, reason: RevocationReason, actor: Actor): Promise<boolean> {
    const revoked = await this.revokeAndPublish(actor, reason, { id: sessionId, userId: viewerId });
    return revoked.length > 0;
  }

  /**
   * Ends all of a user's live sessions but `exceptSessionId`, in one statement. Given a
   * `manager`, it runs in the caller's transaction, whose actor the caller has set.
   */
  async revokeUserSessions(
    userId: string,
    reason: RevocationReason,
    options: { exceptSessionId?: string; manager?: EntityManager; actor?: Actor } = {},
  ): Promise<SessionRevocation[]> {
    const where = { userId, exceptId: options.exceptSessionId };
    // Inside a caller's transaction the caller publishes after its commit.
    if (options.manager) return this.revokeWhere(options.manager, reason, where);
    return this.revokeAndPublish(options.actor, reason, where);
  }

  /** revokeWhere in a transaction of its own, with `actor` for the security log; published after commit. */
  private async revokeAndPublish(
    actor: Actor | undefined,
    reason: RevocationReason,
    where: RevocationTarget,
  ): Promise<SessionRevocation[]> {
    const revoked = await this.db.transaction(async (m) => {
      if (actor) await setActor(m, actor);
      return this.revokeWhere(m, reason, where);
    });
    await this.events.sessionsRevoked(revoked);
    return revoked;
  }

  /**
   * Re-reads the session from the database (never a request's cached copy, which may predate a
   * revocation) and says whether it is alive and proved the password within `freshTtl`
   * seconds (`null`: alive is enough, the caller checks a password itself). With `lock`, the
   * row stays locked until the caller's transaction ends, so a revocation cannot slip in
   * between this check and the change it guards.
   */
  async checkSensitive(manager: EntityManager, sessionId: string, freshTtl: number | null, lock = false): Promise<SensitiveCheck> {
    const qb = manager.getRepository(SessionEntity).createQueryBuilder("s").where("s.id = :id", { id: sessionId });
    const session = await (lock ? qb.setLock("pessimistic_write") : qb).getOne();
    const invalid = this.invalidReason(session);
    if (invalid || !session) return { ok: false, reason: invalid ?? "SESSION_NOT_FOUND" };
    if (freshTtl !== null && Date.now() - session.authenticatedAt.getTime() >= freshTtl * 1000) {
      return { ok: false, reason: "SESSION_NOT_FRESH" };
    }
    return { ok: true };
  }

  /**
   * Marks the session as having just proved the password, inside the caller's transaction and
   * without a log entry of its own: the change that proved it (PASSWORD_CHANGED,
   * EMAIL_CHANGED) is the record.
   */
  async markFresh(manager: EntityManager, sessionId: string): Promise<void> {
    await manager.query("UPDATE sessions SET authenticated_at = now() WHERE id = $1", [sessionId]);
  }

  /**
   * Marks the session as having just proved the password again, and logs it in the same
   * statement; false if it is no longer alive.
   */
  async markAuthenticated(sessionId: string, actor: Actor): Promise<boolean> {
    const rows = (await this.db.query(
      `WITH marked AS (
         UPDATE sessions SET authenticated_at = now(), last_active_at = now()
         WHERE id = $1 AND revoked_at IS NULL AND expires_at > now()
         RETURNING id, user_id
       )
       INSERT INTO security_events (user_id, session_id, type, ip_address, user_agent)
       SELECT user_id, id, 'REAUTHENTICATED', $2, $3 FROM marked
       RETURNING id`,
      [sessionId, actor.ipAddress, actor.userAgent?.slice(0, 512) ?? null],
    )) as unknown[];
    return rows.length > 0;
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

  /** The pg pool under TypeORM, for the hot paths' named statements. */
  private pool(): Pool {
    return (this.db.driver as PostgresDriver).master as Pool;
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
    await this.events.sessionsRevoked(revoked);
    return revoked;
  }

  /**
   * The one way sessions end: an UPDATE that also NOTIFYs the live fan-out in the same
   * statement (see live/revocation-channel.ts for why), so no caller can forget to publish.
   */
  private async revokeWhere(
    manager: EntityManager,
    reason: RevocationReason,
    where: RevocationTarget,
  ): Promise<SessionRevocation[]> {
    // `where.sql` numbers its parameters from $2, so it comes alone.
    const params: unknown[] = [reason, ...(where.params ?? [])];
    const conditions: string[] = where.sql ? [where.sql] : [];
    if (where.id) conditions.push(`id = $${params.push(where.id)}::uuid`);
    if (where.userId) conditions.push(`user_id = $${params.push(where.userId)}::uuid`);
    if (where.exceptId) conditions.push(`id <> $${params.push(where.exceptId)}::uuid`);
    const rows = (await manager.query(revokeAndNotifySql(conditions.join(" AND ") || "true"), params)) as {
      user_id: string;
      revoked_at: Date;
      ids: string;
    }[];
    return revokedFromBatches(rows, reason);
  }
}
