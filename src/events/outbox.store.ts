import type { SqlRunner } from "../db/pg-pool";
import { sql } from "../db/sql";

/** What the outbox holds (and what webhooks and the feed send): no token, hash or password ever. */
export interface OutboxEvent {
  /** Stable: the same event always has this id (the webhook-id, the receiver's dedup key). */
  id: string;
  type: string;
  occurredAt: Date;
  userId: string;
  data: Record<string, unknown>;
  /** Where this event sits in the feed; pass it as `after` to read what follows. */
  cursor: string;
}

/** A position in the feed: the writing transaction's id (xid8) and the row's sequence number. */
export interface OutboxPosition {
  xid: string;
  seq: string;
}

const START: OutboxPosition = { xid: "0", seq: "0" };

/** Cursors are opaque to clients: base64url of "xid:seq". */
export function encodeCursor(position: OutboxPosition): string {
  return Buffer.from(`${position.xid}:${position.seq}`).toString("base64url");
}

/** The position of a cursor, or null when it is not one of ours. */
export function decodeCursor(cursor: string): OutboxPosition | null {
  const text = Buffer.from(cursor, "base64url").toString();
  const match = /^(\d{1,20}):(\d{1,19})$/.exec(text);
  return match ? { xid: match[1], seq: match[2] } : null;
}

interface OutboxRow {
  id: string;
  type: string;
  occurred_at: Date;
  user_id: string;
  data: Record<string, unknown>;
  xid: string;
  seq: string;
}

/**
 * Reads the outbox in its one order, (xid, seq), and only rows whose transaction is older
 * than the reader's snapshot xmin (the watermark). Every transaction below the xmin has ended,
 * committed or rolled back, so nothing can later appear before a position a reader has
 * passed: a cursor never skips an event that committed late with an early number, and a
 * rolled-back transaction's rows never exist. Rows of a transaction still open (or younger
 * than the oldest open one) wait for the next read: a delay, never a gap.
 */
export class OutboxStore {
  /** The pool, or the webhook worker's own connection. */
  constructor(private readonly pool: SqlRunner) {}

  /** The position after the last event a reader can see now: where a new webhook endpoint starts. */
  async end(): Promise<OutboxPosition> {
    const rows = await this.pool.rows<{ xid: string; seq: string }>(
      sql`SELECT o.xid::text AS xid, o.seq::text AS seq FROM outbox_events o
          WHERE o.xid < pg_snapshot_xmin(pg_current_snapshot())
          ORDER BY o.xid DESC, o.seq DESC LIMIT 1`,
    );
    return rows[0] ?? START;
  }

  async after(position: OutboxPosition | null, limit: number): Promise<OutboxEvent[]> {
    const from = position ?? START;
    const rows = await this.pool.rows<OutboxRow>(
      // Qualified names throughout: the output columns are text, and ORDER BY xid would sort
      // by the text ("100" before "99"), not by the numbers.
      sql`SELECT o.id, o.type, o.occurred_at, o.user_id, o.data, o.xid::text AS xid, o.seq::text AS seq
          FROM outbox_events o
          WHERE (o.xid, o.seq) > (${from.xid}::xid8, ${from.seq}::bigint)
            AND o.xid < pg_snapshot_xmin(pg_current_snapshot())
          ORDER BY o.xid, o.seq
          LIMIT ${limit}`,
    );
    return rows.map((row) => ({
      id: row.id,
      type: row.type,
      occurredAt: row.occurred_at,
      userId: row.user_id,
      data: row.data,
      cursor: encodeCursor({ xid: row.xid, seq: row.seq }),
    }));
  }

  /**
   * Deletes events older than `retentionSeconds`, delivered or not: a dead endpoint never
   * holds rows back, so the outbox stays bounded by the retention window. Batched.
   */
  async purge(retentionSeconds: number): Promise<number> {
    let total = 0;
    for (;;) {
      const rows = await this.pool.rows<{ n: string }>(
        sql`WITH gone AS (
              DELETE FROM outbox_events WHERE ctid IN (
                SELECT ctid FROM outbox_events WHERE occurred_at < now() - make_interval(secs => ${retentionSeconds}) LIMIT 5000)
              RETURNING 1)
            SELECT count(*)::text AS n FROM gone`,
      );
      const n = Number(rows[0]?.n ?? 0);
      total += n;
      if (n < 5000) return total;
    }
  }

  /** The readiness detail and the metrics: how many events are kept, and the oldest one not yet delivered to every endpoint. */
  async stats(): Promise<{ events: number; oldestUndeliveredSeconds: number | null }> {
    const rows = await this.pool.rows<{ events: string; oldest: number | null }>(
      sql`SELECT (SELECT count(*) FROM outbox_events)::text AS events,
                 (SELECT extract(epoch FROM now() - min(first.occurred_at))::float8
                  FROM webhook_endpoints e
                  CROSS JOIN LATERAL (
                    SELECT o.occurred_at FROM outbox_events o
                    WHERE (o.xid, o.seq) > (coalesce(e.after_xid, '0'::xid8), coalesce(e.after_seq, 0))
                    ORDER BY o.xid, o.seq LIMIT 1) first) AS oldest`,
    );
    const oldest = rows[0]?.oldest;
    return { events: Number(rows[0]?.events ?? 0), oldestUndeliveredSeconds: oldest == null ? null : Math.max(0, oldest) };
  }
}
