import { Client } from "pg";
import { Webhook } from "standardwebhooks";
import type { SqlRunner } from "../db/pg-pool";
import { render, sql } from "../db/sql";
import type { Logger } from "../lib/logger";
import type { Metrics } from "../metrics/metrics";
import { decodeCursor, type OutboxEvent, OutboxStore } from "./outbox.store";

export interface OutboxWorkerOptions {
  /** A direct connection (not a transaction pooler): the endpoint locks are session advisory locks. */
  databaseUrl: string | undefined;
  dbSchema?: string;
  logger: Logger;
  /** WEBHOOK_URLS; none: the worker only applies the retention. */
  urls: readonly string[];
  /** WEBHOOK_SECRET (whsec_…). */
  secret: string | undefined;
  timeoutMs: number;
  /** The first retry waits this long, each next one twice as long, up to maxBackoffMs. */
  backoffMs: number;
  maxBackoffMs: number;
  pollMs: number;
  retentionSeconds: number;
  /** Where the backlog gauges and the delivery counter are registered. */
  metrics?: Metrics;
}

/** At most this many events are sent per endpoint per turn (then the other endpoints get theirs). */
const BATCH = 100;
const PURGE_EVERY_MS = 60_000;
/** The backlog figures for the metrics are read this often (a scrape reads the last ones). */
const STATS_EVERY_MS = 5_000;

/**
 * Delivers the outbox to every webhook endpoint, after commit, in order, at least once.
 *
 * - Each endpoint has a row in `webhook_endpoints` with its cursor (the last position it
 *   acknowledged with a 2xx) and its retry state. An instance delivers to an endpoint only while
 *   it holds that endpoint's session advisory lock (pg_try_advisory_lock on its own
 *   connection): several instances never send to one endpoint at once, so never the same
 *   event at once, and a crashed instance's lock goes with its connection (a kill -9 closes
 *   the socket and PostgreSQL releases it).
 * - Events go one at a time in the feed's order; the cursor moves after each 2xx. A crash
 *   between the 2xx and the cursor update sends that event again, with the same webhook-id
 *   (the event's id): at least once, and receivers deduplicate by id.
 * - A failure (non-2xx, timeout, refused connection) stops the endpoint where it is and retries
 *   the same event after backoffMs·2^(attempts−1), capped by maxBackoffMs: nothing later
 *   overtakes it, and a receiver that was down gets everything, in order, once it answers.
 * - Retention: events older than OUTBOX_RETENTION are deleted whether delivered or not, so a
 *   dead endpoint cannot grow the outbox; its cursor simply points before the oldest row kept.
 */
export class OutboxWorker {
  private client: Client | null = null;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private lastPurge = 0;
  private lastStats = 0;
  private backlog = { events: 0, oldestUndeliveredSeconds: 0 };
  private readonly webhook: Webhook | null;
  private readonly deliveries: { inc(labels: { outcome: string }): void } | undefined;

  constructor(
    private readonly poolOutbox: OutboxStore,
    private readonly options: OutboxWorkerOptions,
  ) {
    this.webhook = options.urls.length > 0 && options.secret ? new Webhook(options.secret) : null;
    const metrics = options.metrics;
    if (metrics) {
      metrics.gauge({
        name: "outbox_events",
        help: "Events kept in the outbox (the feed and pending webhooks).",
        collect: () => this.backlog.events,
      });
      metrics.gauge({
        name: "outbox_oldest_undelivered_seconds",
        help: "Age of the oldest event some webhook endpoint has not acknowledged (0: none waiting).",
        collect: () => this.backlog.oldestUndeliveredSeconds,
      });
      this.deliveries = metrics.counter({
        name: "webhook_deliveries_total",
        help: "Webhook attempts by outcome (delivered, failed).",
        labelNames: ["outcome"],
      });
    }
  }

  start(): void {
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    await this.client?.end().catch(() => undefined);
    this.client = null;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.turn().finally(() => this.schedule(this.options.pollMs));
    }, ms);
    this.timer.unref();
  }

  private async turn(): Promise<void> {
    try {
      if (Date.now() - this.lastPurge >= PURGE_EVERY_MS) {
        this.lastPurge = Date.now();
        const purged = await this.poolOutbox.purge(this.options.retentionSeconds);
        if (purged > 0) this.options.logger.info({ purged }, "outbox events past their retention deleted");
      }
      if (this.options.metrics && Date.now() - this.lastStats >= STATS_EVERY_MS) {
        this.lastStats = Date.now();
        const stats = await this.poolOutbox.stats();
        this.backlog = { events: stats.events, oldestUndeliveredSeconds: stats.oldestUndeliveredSeconds ?? 0 };
      }
      if (!this.webhook) return;
      const runner = await this.connection();
      for (const url of this.options.urls) {
        if (this.stopped) return;
        await this.deliverTo(runner, url);
      }
    } catch (error) {
      this.options.logger.warn({ err: error }, "outbox worker turn failed; retrying");
      await this.client?.end().catch(() => undefined);
      this.client = null;
    }
  }

  private async connection(): Promise<SqlRunner> {
    if (!this.client) {
      const client = new Client({
        connectionString: this.options.databaseUrl,
        keepAlive: true,
        ...(this.options.dbSchema ? { options: `-c search_path=${this.options.dbSchema}` } : {}),
      });
      client.on("error", () => {
        if (this.client === client) this.client = null;
      });
      await client.connect();
      this.client = client;
    }
    const client = this.client;
    return {
      async rows(query) {
        const { text, values } = render(query);
        return (await client.query({ text, values })).rows;
      },
    };
  }

  private async deliverTo(db: SqlRunner, url: string): Promise<void> {
    const [locked] = await db.rows<{ ok: boolean }>(
      sql`SELECT pg_try_advisory_lock(hashtext(current_schema() || ' webhook ' || ${url})) AS ok`,
    );
    if (!locked?.ok) return; // another instance is delivering to this endpoint
    try {
      const outbox = new OutboxStore(db);
      // A new endpoint starts at the end of the feed as it is now (nothing before it was promised).
      const start = await outbox.end();
      await db.rows(
        sql`INSERT INTO webhook_endpoints (url, after_xid, after_seq) VALUES (${url}, ${start.xid}::xid8, ${start.seq}::bigint)
            ON CONFLICT (url) DO NOTHING`,
      );
      const [endpoint] = await db.rows<{ xid: string; seq: string; attempts: number; due: boolean }>(
        sql`SELECT after_xid::text AS xid, after_seq::text AS seq, attempts, next_attempt_at <= now() AS due
            FROM webhook_endpoints WHERE url = ${url}`,
      );
      if (!endpoint?.due) return;
      const events = await outbox.after({ xid: endpoint.xid, seq: endpoint.seq }, BATCH);
      for (const event of events) {
        if (this.stopped) return;
        const failure = await this.send(url, event);
        this.deliveries?.inc({ outcome: failure ? "failed" : "delivered" });
        if (failure) {
          const attempts = endpoint.attempts + 1;
          const waitMs = Math.min(this.options.maxBackoffMs, this.options.backoffMs * 2 ** (attempts - 1));
          await db.rows(
            sql`UPDATE webhook_endpoints
                SET attempts = ${attempts}, next_attempt_at = now() + make_interval(secs => ${waitMs / 1000}), last_error = ${failure}
                WHERE url = ${url}`,
          );
          this.options.logger.warn(
            { url, eventId: event.id, attempts, retryInMs: waitMs, error: failure },
            "webhook delivery failed",
          );
          return;
        }
        const position = decodeCursor(event.cursor);
        if (!position) return;
        await db.rows(
          sql`UPDATE webhook_endpoints
              SET after_xid = ${position.xid}::xid8, after_seq = ${position.seq}::bigint, attempts = 0, last_error = NULL
              WHERE url = ${url}`,
        );
        endpoint.attempts = 0;
      }
    } finally {
      await db.rows(sql`SELECT pg_advisory_unlock(hashtext(current_schema() || ' webhook ' || ${url}))`);
    }
  }

  /** Posts one event, signed; answers why it failed, or null on a 2xx. */
  private async send(url: string, event: OutboxEvent): Promise<string | null> {
    const webhook = this.webhook;
    if (!webhook) return "no secret";
    const payload = JSON.stringify(webhookPayload(event));
    const now = new Date();
    const signature = webhook.sign(event.id, now, payload);
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "webhook-id": event.id,
          "webhook-timestamp": String(Math.floor(now.getTime() / 1000)),
          "webhook-signature": signature,
        },
        body: payload,
        redirect: "manual",
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      await response.body?.cancel().catch(() => undefined);
      return response.ok ? null : `HTTP ${response.status}`;
    } catch (error) {
      return error instanceof Error ? error.name : "request failed";
    }
  }
}

/** The body of a webhook: the event as the feed shows it, without the cursor. */
export function webhookPayload(event: OutboxEvent): Omit<OutboxEvent, "cursor" | "occurredAt"> & { occurredAt: string } {
  return { id: event.id, type: event.type, occurredAt: event.occurredAt.toISOString(), userId: event.userId, data: event.data };
}
