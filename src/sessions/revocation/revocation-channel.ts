import { type Param, rawSql, type Sql, sql } from "../../db/sql";
import { SessionEntity } from "../session.entity";
import type { SessionCreated, SessionRevocation } from "./revocation";
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

/**
 * The NOTIFY a new session's INSERT sends (SessionStore.createSession), on the same channel as
 * revocations so that one listener hears both in commit order (a sign-in, then the session
 * it evicted). Its payload is `{"c": {...the session's listed columns}}`: no secret.
 */
export function notifyCreatedSql(): Sql {
  return sql`pg_notify(${rawSql(CHANNEL_SQL)}, json_build_object('c', json_build_object(
    'id', id, 'u', user_id, 'n', device_name, 'ua', user_agent, 'b', browser, 'o', os, 'dt', device_type,
    'ip', ip_address, 'nd', new_device, 'p', persistent, 'ca', created_at, 'la', last_active_at, 'ea', expires_at))::text)`;
}

interface CreatedPayload {
  id: string;
  u: string;
  n: string | null;
  ua: string | null;
  b: string | null;
  o: string | null;
  dt: string | null;
  ip: string | null;
  nd: boolean;
  p: boolean;
  ca: string;
  la: string;
  ea: string;
}

/** Reads a sessionCreated NOTIFY; null when the payload is not one (a revocation, or malformed). */
export function decodeSessionCreated(payload: string | undefined): SessionCreated | null {
  if (!payload?.startsWith('{"c"')) return null;
  let c: CreatedPayload;
  try {
    c = (JSON.parse(payload) as { c: CreatedPayload }).c;
  } catch {
    return null;
  }
  if (typeof c?.id !== "string" || typeof c.u !== "string") return null;
  const session = Object.assign(new SessionEntity(), {
    id: c.id,
    userId: c.u,
    deviceName: c.n,
    userAgent: c.ua,
    browser: c.b,
    os: c.o,
    deviceType: c.dt,
    ipAddress: c.ip,
    newDevice: c.nd === true,
    persistent: c.p !== false,
    createdAt: new Date(c.ca),
    lastActiveAt: new Date(c.la),
    expiresAt: new Date(c.ea),
    revokedAt: null,
    revokedReason: null,
  });
  if ([session.createdAt, session.lastActiveAt, session.expiresAt].some((d) => Number.isNaN(d.getTime()))) return null;
  return { userId: c.u, session };
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

/**
 * The control channel, beside the revocation channel of the same schema: lease renewals and
 * acknowledgements (see instance-leases.ts). PostgreSQL keeps one queue for all channels, so
 * a listener on both hears them in one commit order.
 */
export const CONTROL_CHANNEL_SQL = `left('session_leases:' || current_schema(), 63)`;

/**
 * One control message: from instance `i`; `n` when it renews its lease (the renewal's number),
 * `k` the last session id of the last revocation NOTIFY it has processed (its
 * acknowledgement), `bye` when it has stopped answering for good.
 */
export interface ControlMessage {
  instanceId: string;
  renewal?: number;
  acknowledged?: string;
  leaving?: boolean;
}

export function encodeControl(message: ControlMessage): string {
  return JSON.stringify({
    i: message.instanceId,
    n: message.renewal,
    k: message.acknowledged,
    bye: message.leaving || undefined,
  });
}

export function decodeControl(payload: string | undefined): ControlMessage | null {
  if (!payload) return null;
  let parsed: { i?: unknown; n?: unknown; k?: unknown; bye?: unknown };
  try {
    parsed = JSON.parse(payload) as typeof parsed;
  } catch {
    return null;
  }
  if (typeof parsed.i !== "string") return null;
  return {
    instanceId: parsed.i,
    renewal: typeof parsed.n === "number" ? parsed.n : undefined,
    acknowledged: typeof parsed.k === "string" ? parsed.k : undefined,
    leaving: parsed.bye === true,
  };
}

const CONTROL_CHANNEL = rawSql(CONTROL_CHANNEL_SQL);

/** A lease renewal: the row and the NOTIFY commit together. */
export function renewLeaseStatement(instanceId: string, message: string): Sql {
  return sql`
    WITH renewed AS (
      INSERT INTO instance_leases (instance_id) VALUES (${instanceId})
      ON CONFLICT (instance_id) DO UPDATE SET renewed_at = now()
      RETURNING renewed_at
    )
    SELECT renewed_at AS now, pg_notify(${CONTROL_CHANNEL}, ${message}) FROM renewed`;
}

/** An acknowledgement of the revocations processed so far. */
export function acknowledgeStatement(message: string): Sql {
  return sql`SELECT pg_notify(${CONTROL_CHANNEL}, ${message})`;
}

/** Stopping: the row goes with the goodbye message. */
export function leaveLeaseStatement(instanceId: string, goodbye: string): Sql {
  return sql`
    WITH gone AS (DELETE FROM instance_leases WHERE instance_id = ${instanceId})
    SELECT pg_notify(${CONTROL_CHANNEL}, ${goodbye})`;
}

/**
 * Right after LISTEN: the instances that may hold a lease. A row not renewed within the last
 * minute, by the database's own clock, is an instance that died without deleting it (a lease
 * is at most a minute); after an hour it goes.
 */
export function leaseHoldersStatement(instanceId: string): Sql {
  return sql`
    WITH forgotten AS (DELETE FROM instance_leases WHERE renewed_at < now() - interval '1 hour')
    SELECT instance_id FROM instance_leases WHERE instance_id <> ${instanceId} AND renewed_at >= now() - interval '1 minute'`;
}
