import type { DataSource } from "typeorm";
import { AuditEventType } from "./audit-event-type";
import type { Actor } from "./request-actor";

/** One row of the append-only `security_events` table. */
export interface SecurityEventRow {
  id: string;
  cursor: string;
  userId: string | null;
  sessionId: string | null;
  /** The sessions one action ended, when it ended several (sessionId is then null): the first MAX_SESSION_IDS_PER_EVENT. */
  sessionIds: string[] | null;
  /** How many sessions sessionIds held before it was cut (null with it). */
  sessionCount: number | null;
  type: AuditEventType;
  occurredAt: Date;
  ipAddress: string | null;
  userAgent: string | null;
  /** The name given to the session concerned, while its row is kept (SESSION_RETENTION). */
  deviceName: string | null;
  details: Record<string, unknown>;
}

export interface SecurityEventPage {
  rows: SecurityEventRow[];
  hasNextPage: boolean;
}

/** Why a password check failed, as logged; a locked account's client is told INVALID_CREDENTIALS all the same. */
export type FailedLoginReason = "INVALID_CREDENTIALS" | "RATE_LIMITED" | "ACCOUNT_LOCKED";

/** Most events a page may hold, whatever `first` asks for. */
export const MAX_PAGE_SIZE = 100;

/**
 * Most session ids one event shows: one logoutAllDevices may end 10,000 sessions, and a page of
 * such events must stay small. `sessionCount` tells how many there were.
 */
export const MAX_SESSION_IDS_PER_EVENT = 50;

/** A page position: the event's time in microseconds since the epoch (PostgreSQL's precision; a Date would lose it) and its id. */
export interface EventCursor {
  micros: string;
  id: string;
}

/** The opaque cursor: base64url of `<time in µs>|<id>`, the keyset the pages are ordered by. */
export function encodeCursor(position: EventCursor): string {
  return Buffer.from(`${position.micros}|${position.id}`, "utf8").toString("base64url");
}

export function decodeCursor(cursor: string): EventCursor | null {
  const match = /^(\d{1,17})\|(\d{1,18})$/.exec(Buffer.from(cursor, "base64url").toString("utf8"));
  return match ? { micros: match[1], id: match[2] } : null;
}

/**
 * Reads the security activity log. Events are written by the statement or trigger that makes
 * the change they record, in its transaction: triggers on `users` and on new sessions (see the
 * SecurityEventsAndThrottle migration), the revoking statement for ended sessions
 * (revokeStatement in session.store.ts) and SessionService.markAuthenticated for reauthentication. Only events
 * that change no row, such as a failed sign-in, are inserted here.
 */
export class AuditLogService {
  constructor(private readonly db: DataSource) {}

  /** A refused sign-in or reauthentication. `userId` is null for an unknown email; no email or password is kept. */
  async recordFailedLogin(userId: string | null, actor: Actor, reason: FailedLoginReason): Promise<void> {
    await this.db.query(
      `INSERT INTO security_events (user_id, session_id, type, ip_address, user_agent, details)
       VALUES ($1, $2, $3, $4, $5, jsonb_build_object('reason', $6::text))`,
      [userId, actor.sessionId, AuditEventType.LOGIN_FAILED, actor.ipAddress, actor.userAgent?.slice(0, 512) ?? null, reason],
    );
  }

  /** The user's events, newest first, `first` at a time after the `after` cursor. */
  async listUserEvents(userId: string, first: number, after: EventCursor | null): Promise<SecurityEventPage> {
    const limit = Math.min(Math.max(first, 0), MAX_PAGE_SIZE);
    const params: unknown[] = [userId, limit + 1];
    let keyset = "";
    if (after) {
      params.push(after.micros, after.id);
      keyset = "AND (occurred_at, id) < (timestamptz 'epoch' + $3::bigint * interval '1 microsecond', $4::bigint)";
    }
    const raw = (await this.db.query(
      `SELECT id::text AS id, (extract(epoch FROM occurred_at) * 1000000)::bigint::text AS micros, user_id, session_id, session_ids[1:${MAX_SESSION_IDS_PER_EVENT}] AS session_ids, cardinality(session_ids) AS session_count, type, occurred_at, ip_address, user_agent, details,
              (SELECT s.device_name FROM sessions s WHERE s.id = security_events.session_id) AS device_name
         FROM security_events
        WHERE user_id = $1 ${keyset}
        ORDER BY occurred_at DESC, id DESC
        LIMIT $2`,
      params,
    )) as {
      id: string;
      micros: string;
      user_id: string | null;
      session_id: string | null;
      session_ids: string[] | null;
      session_count: number | null;
      type: AuditEventType;
      occurred_at: Date;
      ip_address: string | null;
      user_agent: string | null;
      device_name: string | null;
      details: Record<string, unknown>;
    }[];
    const rows = raw.slice(0, limit).map((r) => ({
      id: r.id,
      cursor: encodeCursor({ micros: r.micros, id: r.id }),
      userId: r.user_id,
      sessionId: r.session_id,
      sessionIds: r.session_ids,
      sessionCount: r.session_count,
      type: r.type,
      occurredAt: new Date(r.occurred_at),
      ipAddress: r.ip_address,
      userAgent: r.user_agent,
      deviceName: r.device_name,
      details: r.details,
    }));
    return { rows, hasNextPage: raw.length > limit };
  }
}
