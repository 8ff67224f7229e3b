import { rawSql, sql, type Param, type Sql } from "../../db/sql";
import type { SessionRevocation } from "./revocation";
import { isRevocationReason } from "./revocation-reason";

/**
 * The wire format of the cross-instance fan-out: PostgreSQL NOTIFY on one channel per schema
 * (tests run many schemas in one database). Writer (`notifyBatchSql`) and reader
 * (`decodeRevocations`) live together so they cannot drift apart.
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
 * The NOTIFY the revoking statement (SessionStore.revoke) sends for each row of its `batches`
 * (`user_id`, `revoked_at`, `ids` as JSON text): this is the writer `decodeRevocations` reads.
 */
export function notifyBatchSql(reason: Param): Sql {
  return sql`pg_notify(${rawSql(CHANNEL_SQL)}, json_build_object('r', ${reason}::text, 't', revoked_at, 'u', user_id, 's', ids::json)::text)`;
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
