import type { SessionRevocation } from "./revocation";
import { isRevocationReason, type RevocationReason } from "./revocation-reason";

/**
 * The wire format of the cross-instance fan-out: PostgreSQL NOTIFY on one channel per schema
 * (tests run many schemas in one database). Writer (SQL, below) and reader (`decodeRevocations`)
 * live together so they cannot drift apart.
 *
 * One payload is `{"r": reason, "t": revokedAt, "u": userId, "s": [sessionId, ...]}`: one
 * statement ends sessions with one reason at one `now()`, so only the session ids repeat. At
 * about 39 bytes per id, `SESSIONS_PER_NOTIFY` ids keep a payload well under PostgreSQL's
 * 8000-byte limit; logoutAllDevices of 10,000 sessions is ~56 NOTIFYs, all sent by the one
 * UPDATE statement (no round trip per session).
 */
export const SESSIONS_PER_NOTIFY = 180;

/** The channel name, computed by the database on both sides (63 bytes is NAMEDATALEN - 1). */
export const CHANNEL_SQL = `left('session_revoked:' || current_schema(), 63)`;

/**
 * Ends the sessions matching `where` (a condition on `sessions`; `$1` is the reason, further
 * parameters are the caller's), writes their security-log entry and NOTIFYs them, all in the
 * same statement. It is the only SQL that ends sessions, so nothing ends one unlogged or
 * unannounced (see the RevocationsLoggedByTheirStatement migration for why not a trigger).
 *
 * Why NOTIFY inside the revoking statement rather than after commit: pg_notify is
 * transactional, so the events are delivered exactly when the revocation commits, and never
 * when it rolls back. A process killed between commit and a separate NOTIFY would leave other
 * instances' sockets open on a revoked session; here that gap does not exist. Inside a
 * caller's transaction (changePassword, refresh-token reuse) the same holds for its commit.
 *
 * It answers one row per NOTIFY, `{ user_id, revoked_at, ids }` with `ids` a JSON array, rather
 * than a row per session: for 10,000 sessions, 56 rows instead of 10,000 (`revokedFromBatches`).
 */
export function revokeAndNotifySql(where: string): string {
  return `
    WITH revoked AS (
      UPDATE sessions SET revoked_at = now(), revoked_reason = $1
      WHERE revoked_at IS NULL AND (${where})
      RETURNING id, user_id, revoked_at
    ), logged AS (
      -- The security log: one entry per user per statement (one action), in this statement.
      -- PostgreSQL runs a data-modifying CTE once whether or not it is read. The actor comes
      -- from setActor (set_config, local to the transaction).
      INSERT INTO security_events (user_id, session_id, type, ip_address, user_agent, details, session_ids)
      SELECT user_id,
             CASE WHEN count(*) = 1 THEN (array_agg(id))[1] END,
             CASE $1::text WHEN 'LOGOUT' THEN 'LOGOUT' WHEN 'REFRESH_TOKEN_REUSE' THEN 'REFRESH_TOKEN_REUSE' ELSE 'SESSION_REVOKED' END,
             security_event_setting('app.ip'),
             security_event_setting('app.user_agent'),
             jsonb_strip_nulls(jsonb_build_object(
               'reason', $1::text,
               'bySessionId', security_event_setting('app.session_id'),
               'sessionCount', CASE WHEN count(*) > 1 THEN count(*) END)),
             CASE WHEN count(*) > 1 THEN array_agg(id) END
      FROM revoked
      GROUP BY user_id
    ), batches AS (
      SELECT user_id, revoked_at, json_agg(id)::text AS ids
      FROM (
        SELECT id, user_id, revoked_at,
               (row_number() OVER (PARTITION BY user_id) - 1) / ${SESSIONS_PER_NOTIFY} AS batch
        FROM revoked
      ) numbered
      GROUP BY user_id, revoked_at, batch
    )
    SELECT user_id, revoked_at, ids,
           pg_notify(${CHANNEL_SQL}, json_build_object('r', $1::text, 't', revoked_at, 'u', user_id, 's', ids::json)::text)
    FROM batches`;
}

/** The rows of `revokeAndNotifySql`, one per NOTIFY, as one revocation per session. */
export function revokedFromBatches(
  rows: readonly { user_id: string; revoked_at: Date; ids: string }[],
  reason: RevocationReason,
): SessionRevocation[] {
  return rows.flatMap((row) => {
    const revokedAt = new Date(row.revoked_at);
    return (JSON.parse(row.ids) as string[]).map((sessionId) => ({ sessionId, userId: row.user_id, reason, revokedAt }));
  });
}

interface Payload {
  r: string;
  t: string;
  u: string;
  s: string[];
}

/** Reads one NOTIFY payload; anything malformed yields nothing (and is the caller's to log). */
export function decodeRevocations(payload: string | undefined): SessionRevocation[] | null {
  if (!payload) return null;
  let parsed: Payload;
  try {
    parsed = JSON.parse(payload) as Payload;
  } catch {
    return null;
  }
  const reason = parsed.r;
  if (!isRevocationReason(reason) || typeof parsed.u !== "string" || !Array.isArray(parsed.s)) return null;
  const revokedAt = new Date(parsed.t);
  if (Number.isNaN(revokedAt.getTime())) return null;
  return parsed.s.map((sessionId) => ({ sessionId, userId: parsed.u, reason, revokedAt }));
}
