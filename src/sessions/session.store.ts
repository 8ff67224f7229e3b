import type { Pool } from "pg";
import { reauthenticatedEntry, revocationEntries } from "../audit-log/audit-entries.sql";
import type { Actor } from "../audit-log/request-actor";
import { poolRunner, type SqlRunner } from "../db/pg-pool";
import { joinSql, param, rawSql, type Sql, sql } from "../db/sql";
import type { Transaction } from "../db/transaction";
import { invariant } from "../lib/invariant";
import { UserEntity } from "../users/user.entity";
import type { UserRole } from "../users/user-role";
import type { RevocationTarget, SessionRevocation } from "./revocation/revocation";
import { notifyBatchSql, notifyCreatedSql, SESSIONS_PER_NOTIFY } from "./revocation/revocation-channel";
import type { RevocationReason } from "./revocation/revocation-reason";
import { SessionEntity } from "./session.entity";

/**
 * Session storage: every SQL statement on `sessions` (Lucia's adapter, better-auth's
 * DBAdapter). Each method states what it guarantees under concurrent calls. Methods that take
 * `tx` run inside the caller's transaction and see its locks; the others are statements of
 * their own on the pool.
 */
export interface SessionStore {
  /**
   * Sessions with their users, by id, in the order asked (null where none). No secrets are
   * read. A plain read: a revocation may commit the moment it returns.
   */
  getSessionsAndUsers(ids: readonly string[]): Promise<(SessionEntity | null)[]>;
  /**
   * One page of a user's live sessions: `currentSessionId` first (on the first page), then by
   * last activity, most recent first (ties by creation, then id). `after` is the last id of the
   * previous page, a keyset cursor; one that is not this user's session gives an empty page. A
   * plain read: a session active between two pages moves up, and may be seen twice or skipped.
   */
  listUserSessions(
    userId: string,
    idleTtl: number,
    page: { first: number; after: string | null; currentSessionId: string | null },
  ): Promise<SessionEntity[]>;
  /**
   * Inserts a session in the caller's transaction and NOTIFYs it (sessionCreated) in the same
   * statement. Ids are random UUIDs: concurrent creates never collide.
   */
  createSession(tx: Transaction, session: SessionEntity): Promise<void>;
  /**
   * Takes the user's sign-in lock (a transaction-scoped advisory lock) until `tx` ends: concurrent
   * sign-ins of one user then count and evict one at a time (the session limit), while sign-ins
   * of others and reads never wait. A lock of its own, not lockUserSessions: a sign-in holds the
   * user's row FOR SHARE first, which a password change then waits on while holding the other.
   */
  lockUserSignIns(tx: Transaction, userId: string): Promise<void>;
  /** Records that the user signed in on this device (keyed hash); true the first time. Idempotent. */
  rememberDevice(tx: Transaction, userId: string, deviceHash: Buffer): Promise<boolean>;
  /** Whether the user has ever signed in on this device. A plain read. */
  isKnownDevice(userId: string, deviceHash: Buffer): Promise<boolean>;
  /**
   * One session with its secrets. With `lock`, its row stays locked until `tx` ends: of
   * concurrent lockers exactly one proceeds at a time, and a revocation waits behind it.
   */
  getSession(id: string, options?: { tx?: Transaction; lock?: boolean }): Promise<SessionEntity | null>;
  /**
   * Replaces the refresh secret of a session the caller holds locked in `tx`; the spent one
   * (`previousHash`) joins the session's spent secrets for good.
   */
  rotateSecret(tx: Transaction, id: string, secret: { hash: Buffer; previousHash: Buffer; rotatedAt: Date }): Promise<void>;
  /** Whether `hash` is a refresh secret this session once issued and has since spent. A plain read. */
  isSpentSecret(tx: Transaction, id: string, hash: Buffer): Promise<boolean>;
  /**
   * Marks a session the caller holds locked in `tx` as having just proved the password, with
   * no log entry of its own (the change that proved it is the record).
   */
  markFresh(tx: Transaction, id: string): Promise<void>;
  /**
   * Takes the user's revocation lock until `tx` ends. Every statement that ends a user's
   * sessions as a whole (logoutAllDevices, a password or email change) takes it first, so two
   * of them run one after the other: each finds the other's acting session as it left it, and
   * they never wait on each other's rows in opposite orders (a deadlock).
   */
  lockUserSessions(tx: Transaction, userId: string): Promise<void>;
  /** Records activity on live sessions. Idempotent; an ended session is left as it ended. */
  touchSessions(ids: readonly string[]): Promise<void>;
  /**
   * Marks a live session as having just proved the password and logs it, in one statement;
   * false if the session is no longer alive (a concurrent revocation wins).
   */
  markAuthenticated(id: string, actor: Actor): Promise<boolean>;
  /**
   * Ends the live sessions `target` names, writes their audit-log entry and NOTIFYs them, in
   * one statement. Under concurrent calls each session is ended, and reported, by exactly one.
   */
  revoke(target: RevocationTarget, reason: RevocationReason, tx?: Transaction): Promise<SessionRevocation[]>;
  /** Sessions of these users ended at or after `since`. A plain read. */
  listRevokedSince(userIds: readonly string[], since: Date): Promise<SessionRevocation[]>;
  /**
   * Deletes up to `limit` rows of sessions that ended more than `retention` seconds ago;
   * returns how many. Concurrent callers never wait on or delete the same row (SKIP LOCKED).
   */
  deleteExpiredSessions(policy: { retention: number; idleTtl: number; limit: number }): Promise<number>;
  /** Deletes up to `limit` remembered devices last seen more than `unseenFor` seconds ago; returns how many. */
  forgetUnseenDevices(policy: { unseenFor: number; limit: number }): Promise<number>;
}

/** The advisory-lock namespace of lockUserSessions (the first of the two int4 keys). */
const USER_SESSIONS_LOCK = 17_001;

const SESSION_COLUMNS = sql`
  s.id, s.user_id, s.device_name, s.user_agent, s.browser, s.os, s.device_type, s.ip_address, s.new_device, s.persistent,
  s.created_at, s.last_active_at, s.authenticated_at, s.expires_at, s.revoked_at, s.revoked_reason`;

interface DeviceColumns {
  id: string;
  user_id: string;
  device_name: string | null;
  user_agent: string | null;
  browser: string | null;
  os: string | null;
  device_type: string | null;
  ip_address: string | null;
  new_device: boolean;
  persistent: boolean;
}

interface SessionRow extends DeviceColumns {
  created_at: Date;
  last_active_at: Date;
  authenticated_at: Date;
  expires_at: Date;
  revoked_at: Date | null;
  revoked_reason: RevocationReason | null;
}

interface SessionUserRow extends SessionRow {
  user_email: string;
  user_created_at: Date;
  user_updated_at: Date;
  user_role: UserRole;
}

interface SecretRow extends SessionRow {
  secret_hash: Buffer;
  previous_secret_hash: Buffer | null;
  secret_rotated_at: Date | null;
}

interface ListedSessionRow extends DeviceColumns {
  created_ms: number;
  last_active_ms: number;
  expires_ms: number;
}

/** One row per NOTIFY the revoking statement sent: `ids` is a JSON array of session ids. */
interface RevokedBatchRow {
  user_id: string;
  revoked_at: Date;
  ids: string;
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
    newDevice: row.new_device,
    persistent: row.persistent,
    createdAt,
    lastActiveAt,
    expiresAt,
    revokedAt: null,
    revokedReason: null,
  });
}

function toSession(row: SessionRow): SessionEntity {
  return Object.assign(listedSession(row, row.created_at, row.last_active_at, row.expires_at), {
    authenticatedAt: row.authenticated_at,
    revokedAt: row.revoked_at,
    revokedReason: row.revoked_reason,
  });
}

/** A session as the request path needs it, with its user: no secret hashes are read at all. */
function toSessionAndUser(row: SessionUserRow): SessionEntity {
  const user = Object.assign(new UserEntity(), {
    id: row.user_id,
    email: row.user_email,
    createdAt: row.user_created_at,
    updatedAt: row.user_updated_at,
    role: row.user_role,
  });
  return Object.assign(toSession(row), { user });
}

function toSessionWithSecrets(row: SecretRow): SessionEntity {
  return Object.assign(toSession(row), {
    secretHash: row.secret_hash,
    previousSecretHash: row.previous_secret_hash,
    secretRotatedAt: row.secret_rotated_at,
  });
}

/** The one rendering of a revocation target as a condition on `sessions`. */
function targetCondition(target: RevocationTarget): Sql {
  switch (target.kind) {
    case "owned-session":
      return sql`id = ${target.sessionId}::uuid AND user_id = ${target.userId}::uuid`;
    case "logout": {
      const { session, refresh } = target;
      const proofs: Sql[] = [];
      if (session) proofs.push(sql`(id = ${session.sessionId}::uuid AND user_id = ${session.userId}::uuid)`);
      if (refresh) {
        const hash = param(refresh.secretHash);
        proofs.push(sql`(id = ${refresh.sessionId}::uuid
          AND expires_at > now() AND last_active_at > now() - make_interval(secs => ${refresh.idleTtl})
          AND (secret_hash = ${hash}
            OR (previous_secret_hash = ${hash} AND secret_rotated_at > now() - make_interval(secs => ${refresh.reuseGrace}))))`);
      }
      invariant(proofs.length > 0, "a logout target needs a session or a refresh token");
      return joinSql(proofs, " OR ");
    }
    case "locked-session":
    case "any-session":
      return sql`id = ${target.sessionId}::uuid`;
    case "user-sessions":
      return target.exceptSessionId === undefined
        ? sql`user_id = ${target.userId}::uuid`
        : sql`user_id = ${target.userId}::uuid AND id <> ${target.exceptSessionId}::uuid`;
    case "over-limit": {
      // The live sessions beyond the `keep - 1` most recently active others: the new one stays.
      const keepOthers = Math.max(0, target.keep - 1);
      return sql`id IN (
        SELECT id FROM sessions
        WHERE user_id = ${target.userId}::uuid AND revoked_at IS NULL AND id <> ${target.keepSessionId}::uuid
          AND expires_at > now() AND last_active_at > now() - make_interval(secs => ${target.idleTtl})
        ORDER BY last_active_at DESC, created_at DESC, id
        OFFSET ${keepOthers})`;
    }
    case "expired": {
      const only = target.sessionIds ? sql`AND id = ANY(${target.sessionIds}::uuid[])` : sql``;
      return sql`id IN (
        SELECT id FROM sessions
        WHERE revoked_at IS NULL ${only}
          AND (expires_at <= now() OR last_active_at <= now() - make_interval(secs => ${target.idleTtl}))
        ORDER BY id LIMIT ${target.limit} FOR UPDATE SKIP LOCKED)`;
    }
  }
}

/**
 * The only statement that ends sessions: it marks them, writes the audit-log entry and
 * NOTIFYs the fan-out, so nothing ends unlogged or unannounced (see the
 * RevocationsLoggedByTheirStatement migration for why not a trigger).
 *
 * NOTIFY inside the revoking statement rather than after commit: pg_notify is transactional,
 * so the events are delivered exactly when the revocation commits, and never when it rolls
 * back. A process killed between a commit and a separate NOTIFY would leave other instances'
 * sockets open on a revoked session; here that gap does not exist. Inside a caller's
 * transaction (changePassword, refresh-token reuse) the same holds for its commit.
 *
 * It answers one row per NOTIFY rather than one per session (`revokedFromBatches`).
 */
export function revokeStatement(target: RevocationTarget, reason: RevocationReason): Sql {
  const why = param(reason);
  return sql`
    WITH revoked AS (
      UPDATE sessions SET revoked_at = now(), revoked_reason = ${why}
      WHERE revoked_at IS NULL AND (${targetCondition(target)})
      RETURNING id, user_id, revoked_at
    ), logged AS (${revocationEntries(why)}
    ), announced AS (
      -- The outbox (src/events/): one session.revoked per session, committed with the revocation.
      INSERT INTO outbox_events (type, user_id, occurred_at, data)
      SELECT 'session.revoked', user_id, revoked_at, jsonb_build_object('sessionId', id, 'reason', ${why}::text)
      FROM revoked
    ), batches AS (
      SELECT user_id, revoked_at, json_agg(id)::text AS ids
      FROM (
        SELECT id, user_id, revoked_at,
               (row_number() OVER (PARTITION BY user_id) - 1) / ${rawSql(String(SESSIONS_PER_NOTIFY))} AS batch
        FROM revoked
      ) numbered
      GROUP BY user_id, revoked_at, batch
    )
    SELECT user_id, revoked_at, ids, ${notifyBatchSql(why)}
    FROM batches`;
}

/** The rows of `revokeStatement`, one per NOTIFY, as one revocation per session. */
function revokedFromBatches(rows: readonly RevokedBatchRow[], reason: RevocationReason): SessionRevocation[] {
  return rows.flatMap((row) => {
    const revokedAt = new Date(row.revoked_at);
    return (JSON.parse(row.ids) as string[]).map((sessionId) => ({ sessionId, userId: row.user_id, reason, revokedAt }));
  });
}

/** SessionStore on PostgreSQL: the pool for statements of their own, the caller's transaction otherwise. */
export class PgSessionStore implements SessionStore {
  private readonly pool: SqlRunner;

  constructor(pool: Pool, options: { preparedStatements?: boolean } = {}) {
    this.pool = poolRunner(pool, { prepared: options.preparedStatements });
  }

  private on(tx: Transaction | undefined): SqlRunner {
    return tx ?? this.pool;
  }

  // The request path on a cache miss: a named statement, prepared once per connection.
  async getSessionsAndUsers(ids: readonly string[]): Promise<(SessionEntity | null)[]> {
    const rows = await this.pool.rows<SessionUserRow>(
      sql`SELECT ${SESSION_COLUMNS}, u.email AS user_email, u.created_at AS user_created_at, u.updated_at AS user_updated_at,
                 u.role AS user_role
          FROM sessions s JOIN users u ON u.id = s.user_id
          WHERE s.id = ANY(${ids}::uuid[])`,
      "load_sessions",
    );
    const byId = new Map(rows.map((row) => [row.id, toSessionAndUser(row)]));
    return ids.map((id) => byId.get(id) ?? null);
  }

  // Uses the index sessions_user_idx (ended rows kept for SESSION_RETENTION are filtered). Only
  // what the Session type shows: no user join, no timestamps nobody reads. The timestamps come
  // as epoch milliseconds (a float8): pg's text parser for timestamptz, a regular expression
  // per value, is the largest cost of a long list otherwise.
  // The sort is a top-N heap over the user's rows: an index on last_active_at would cost every
  // activity write its HOT update (migration SessionsHotRevocation), for a read that is rare.
  async listUserSessions(
    userId: string,
    idleTtl: number,
    page: { first: number; after: string | null; currentSessionId: string | null },
  ): Promise<SessionEntity[]> {
    const user = param(userId);
    const current = param(page.currentSessionId);
    const after = param(page.after);
    const rows = await this.pool.rows<ListedSessionRow>(
      sql`SELECT s.id, s.user_id, s.device_name, s.user_agent, s.browser, s.os, s.device_type, s.ip_address,
                 s.new_device, s.persistent,
                 date_part('epoch', s.created_at) * 1000 AS created_ms,
                 date_part('epoch', s.last_active_at) * 1000 AS last_active_ms,
                 date_part('epoch', s.expires_at) * 1000 AS expires_ms
          FROM sessions s
          WHERE s.user_id = ${user}::uuid AND s.revoked_at IS NULL AND s.expires_at > now()
            AND s.last_active_at > now() - make_interval(secs => ${idleTtl})
            AND (${after}::uuid IS NULL OR s.id IS DISTINCT FROM ${current}::uuid)
            AND (${after}::uuid IS NULL OR ${after}::uuid = ${current}::uuid
              OR (s.last_active_at, s.created_at, s.id) <
                 (SELECT c.last_active_at, c.created_at, c.id FROM sessions c WHERE c.id = ${after}::uuid AND c.user_id = ${user}::uuid))
          ORDER BY s.id IS NOT DISTINCT FROM ${current}::uuid DESC, s.last_active_at DESC, s.created_at DESC, s.id DESC
          LIMIT ${page.first}`,
      "list_user_sessions_page",
    );
    return rows.map((row) =>
      listedSession(row, new Date(row.created_ms), new Date(row.last_active_ms), new Date(row.expires_ms)),
    );
  }

  // The INSERT and its NOTIFY in one statement, as the revoking statement does: the user's
  // other sockets hear of the session exactly when it commits, never for a rollback.
  async createSession(tx: Transaction, s: SessionEntity): Promise<void> {
    await tx.rows(
      sql`WITH created AS (
            INSERT INTO sessions (id, user_id, secret_hash, previous_secret_hash, secret_rotated_at, device_name, user_agent,
                                  browser, os, device_type, ip_address, new_device, persistent, created_at, last_active_at,
                                  authenticated_at, expires_at, revoked_at, revoked_reason)
            VALUES (${s.id}, ${s.userId}, ${s.secretHash}, ${s.previousSecretHash}, ${s.secretRotatedAt}, ${s.deviceName},
                    ${s.userAgent}, ${s.browser}, ${s.os}, ${s.deviceType}, ${s.ipAddress}, ${s.newDevice}, ${s.persistent},
                    ${s.createdAt}, ${s.lastActiveAt}, ${s.authenticatedAt}, ${s.expiresAt}, ${s.revokedAt}, ${s.revokedReason})
            RETURNING id, user_id, device_name, user_agent, browser, os, device_type, ip_address, new_device, persistent,
                      created_at, last_active_at, expires_at)
          SELECT ${notifyCreatedSql()} FROM created`,
    );
  }

  async lockUserSignIns(tx: Transaction, userId: string): Promise<void> {
    // An advisory lock, not a row lock: the sign-in already holds the user's row FOR SHARE
    // (holdForSignIn), and upgrading that in two sign-ins at once would deadlock.
    await tx.rows(sql`SELECT pg_advisory_xact_lock(hashtextextended(${userId}, 18))`);
  }

  async rememberDevice(tx: Transaction, userId: string, deviceHash: Buffer): Promise<boolean> {
    const [row] = await tx.rows<{ inserted: boolean }>(
      sql`INSERT INTO user_devices (user_id, device_hash) VALUES (${userId}::uuid, ${deviceHash})
          ON CONFLICT (user_id, device_hash) DO UPDATE SET last_seen_at = now()
          RETURNING (xmax = 0) AS inserted`,
    );
    return row.inserted;
  }

  async isKnownDevice(userId: string, deviceHash: Buffer): Promise<boolean> {
    const rows = await this.pool.rows(
      sql`SELECT 1 FROM user_devices WHERE user_id = ${userId}::uuid AND device_hash = ${deviceHash}`,
    );
    return rows.length > 0;
  }

  async getSession(id: string, options: { tx?: Transaction; lock?: boolean } = {}): Promise<SessionEntity | null> {
    invariant(!options.lock || options.tx, "a row lock needs the caller's transaction");
    const [row] = await this.on(options.tx).rows<SecretRow>(
      sql`SELECT ${SESSION_COLUMNS}, s.secret_hash, s.previous_secret_hash, s.secret_rotated_at
          FROM sessions s WHERE s.id = ${id}::uuid ${options.lock ? sql`FOR UPDATE` : sql``}`,
    );
    return row ? toSessionWithSecrets(row) : null;
  }

  async rotateSecret(
    tx: Transaction,
    id: string,
    secret: { hash: Buffer; previousHash: Buffer; rotatedAt: Date },
  ): Promise<void> {
    await tx.rows(
      sql`WITH spent AS (
            INSERT INTO spent_refresh_secrets (session_id, secret_hash) VALUES (${id}::uuid, ${secret.previousHash})
            ON CONFLICT DO NOTHING)
          UPDATE sessions
          SET previous_secret_hash = ${secret.previousHash}, secret_hash = ${secret.hash},
              secret_rotated_at = ${param(secret.rotatedAt)}, last_active_at = ${param(secret.rotatedAt)}
          WHERE id = ${id}::uuid`,
    );
  }

  async isSpentSecret(tx: Transaction, id: string, hash: Buffer): Promise<boolean> {
    const rows = await tx.rows(sql`SELECT 1 FROM spent_refresh_secrets WHERE session_id = ${id}::uuid AND secret_hash = ${hash}`);
    return rows.length > 0;
  }

  // A transaction-scoped advisory lock in a namespace of its own (the two-key form): nothing to
  // release, gone with the transaction; two users whose ids hash alike only wait in turn.
  async lockUserSessions(tx: Transaction, userId: string): Promise<void> {
    await tx.rows(sql`SELECT pg_advisory_xact_lock(${rawSql(String(USER_SESSIONS_LOCK))}, hashtext(${userId}))`);
  }

  async markFresh(tx: Transaction, id: string): Promise<void> {
    await tx.rows(sql`UPDATE sessions SET authenticated_at = now() WHERE id = ${id}`);
  }

  async touchSessions(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.pool.rows(sql`UPDATE sessions SET last_active_at = now() WHERE id = ANY(${ids}::uuid[]) AND revoked_at IS NULL`);
  }

  async markAuthenticated(id: string, actor: Actor): Promise<boolean> {
    const rows = await this.pool.rows(
      sql`WITH marked AS (
            UPDATE sessions SET authenticated_at = now(), last_active_at = now()
            WHERE id = ${id} AND revoked_at IS NULL AND expires_at > now()
            RETURNING id, user_id
          )
          ${reauthenticatedEntry(actor)}
          RETURNING id`,
    );
    return rows.length > 0;
  }

  async revoke(target: RevocationTarget, reason: RevocationReason, tx?: Transaction): Promise<SessionRevocation[]> {
    return revokedFromBatches(await this.on(tx).rows<RevokedBatchRow>(revokeStatement(target, reason)), reason);
  }

  async listRevokedSince(userIds: readonly string[], since: Date): Promise<SessionRevocation[]> {
    const rows = await this.pool.rows<{ id: string; user_id: string; revoked_reason: RevocationReason; revoked_at: Date }>(
      sql`SELECT id, user_id, revoked_reason, revoked_at FROM sessions
          WHERE user_id = ANY(${userIds}::uuid[]) AND revoked_at >= ${since}`,
    );
    return rows.map((r) => ({ sessionId: r.id, userId: r.user_id, reason: r.revoked_reason, revokedAt: new Date(r.revoked_at) }));
  }

  async deleteExpiredSessions(policy: { retention: number; idleTtl: number; limit: number }): Promise<number> {
    const retention = param(policy.retention);
    const [{ deleted }] = await this.pool.rows<{ deleted: number }>(
      sql`WITH gone AS (
            DELETE FROM sessions WHERE id IN (
              SELECT id FROM sessions
               WHERE (revoked_at IS NOT NULL AND revoked_at < now() - make_interval(secs => ${retention}))
                  OR expires_at < now() - make_interval(secs => ${retention})
                  OR last_active_at < now() - make_interval(secs => ${retention} + ${policy.idleTtl})
               LIMIT ${policy.limit}
               FOR UPDATE SKIP LOCKED)
            RETURNING 1)
          SELECT count(*)::int AS deleted FROM gone`,
    );
    return deleted;
  }

  async forgetUnseenDevices(policy: { unseenFor: number; limit: number }): Promise<number> {
    // No index on last_seen_at: every sign-in updates it, and an index would cost each of
    // those its HOT update. The hourly purge scans instead.
    const [{ deleted }] = await this.pool.rows<{ deleted: number }>(
      sql`WITH gone AS (
            DELETE FROM user_devices WHERE (user_id, device_hash) IN (
              SELECT user_id, device_hash FROM user_devices
               WHERE last_seen_at < now() - make_interval(secs => ${param(policy.unseenFor)})
               LIMIT ${policy.limit}
               FOR UPDATE SKIP LOCKED)
            RETURNING 1)
          SELECT count(*)::int AS deleted FROM gone`,
    );
    return deleted;
  }
}
