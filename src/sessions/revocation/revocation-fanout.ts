import { Client, type Notification } from "pg";
import type { Logger } from "../../lib/logger";
import type { SessionRevocation } from "./revocation";
import { CHANNEL_SQL, decodeRevocations } from "./revocation-channel";

export type RevocationListener = (revocations: SessionRevocation[]) => void;
/** Called after the listening connection came back: revocations since `since` may have been missed. */
export type ResyncListener = (since: Date) => Promise<void> | void;

export interface FanoutOptions {
  databaseUrl: string;
  dbSchema?: string;
  logger: Logger;
  /** How often the listening connection proves it is alive (and records a safe resync point). */
  heartbeatMs?: number;
  /** Reconnect delays grow from `min` to `max`, doubling, with jitter. */
  backoffMs?: { min: number; max: number };
}

/**
 * Revocations made by any instance, heard through PostgreSQL LISTEN on a dedicated pg Client
 * (not the TypeORM pool: a pooled connection is handed to other work and its LISTEN would
 * be lost). Every instance hears its own NOTIFYs too, so there is one delivery path.
 *
 * When the connection drops it reconnects with backoff and then tells `onResync` listeners
 * from when to re-read revocations: the last time the old connection was known alive, minus a
 * margin for transactions that took `now()` earlier than they committed.
 */
export class RevocationFanout {
  private client: Client | null = null;
  private readonly listeners = new Set<RevocationListener>();
  private readonly resyncListeners = new Set<ResyncListener>();
  private readonly connectionListeners = new Set<(connected: boolean) => void>();
  private readonly echoes = new Map<string, Set<() => void>>();
  /**
   * The last session id of each NOTIFY heard in the last 5–10 s: a NOTIFY can arrive before
   * the revoking call gets to ask for its echo (it is sent at commit, while the COMMIT's
   * answer is still on its way).
   */
  private heard = new Set<string>();
  private heardBefore = new Set<string>();
  private heardSince = Date.now();
  private heartbeat: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private attempt = 0;
  private closed = false;
  private isConnected = false;
  private lastAliveAt: Date | null = null;
  private pid: number | null = null;
  private readonly heartbeatMs: number;
  private readonly backoff: { min: number; max: number };
  static readonly RESYNC_MARGIN_MS = 30_000;

  constructor(private readonly options: FanoutOptions) {
    this.heartbeatMs = options.heartbeatMs ?? 5000;
    this.backoff = options.backoffMs ?? { min: 100, max: 5000 };
  }

  /** Subscribes to every revocation, from any instance; returns the unsubscribe function. */
  onRevoked(listener: RevocationListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Told `false` the moment the listening connection is lost (revocations may now be missed)
   * and `true` once it is back and the resync has run. The session cache trusts memory only
   * in between.
   */
  onConnectionChange(listener: (connected: boolean) => void): () => void {
    this.connectionListeners.add(listener);
    return () => this.connectionListeners.delete(listener);
  }

  /** True while listening, and caught up since the last reconnect (what onConnectionChange last said). */
  get connected(): boolean {
    return this.isConnected;
  }

  private setConnected(connected: boolean) {
    this.isConnected = connected;
    for (const listener of this.connectionListeners) listener(connected);
  }

  onResync(listener: ResyncListener): () => void {
    this.resyncListeners.add(listener);
    return () => this.resyncListeners.delete(listener);
  }

  /**
   * Resolves once this instance has heard its own NOTIFYs for `revocations`, the sessions
   * one revoking transaction ended in the order its statements answered them (or after
   * `timeoutMs`, or at once while not listening). PostgreSQL signals every listener at the
   * same commit, so by the time our own echo is back the other instances have theirs: a
   * revoking mutation that waits for it answers only when their caches have dropped the
   * sessions too (measured by `npm run bench`). It never fails the mutation.
   *
   * Only the last session is waited for: PostgreSQL delivers one transaction's notifications
   * in the order they were sent, and the last one sent carries the last session answered.
   * For 10,000 sessions that is one lookup instead of 10,000 set operations per step.
   */
  echo(revocations: readonly SessionRevocation[], timeoutMs = 250): Promise<void> {
    const last = revocations.at(-1)?.sessionId;
    if (last === undefined || this.heard.has(last) || this.heardBefore.has(last) || !this.client) return Promise.resolve();
    return new Promise((resolve) => {
      let waiters = this.echoes.get(last);
      if (!waiters) this.echoes.set(last, (waiters = new Set()));
      const done = () => {
        clearTimeout(timer);
        waiters.delete(done);
        if (waiters.size === 0 && this.echoes.get(last) === waiters) this.echoes.delete(last);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      waiters.add(done);
    });
  }

  /** The listening backend's pid, or null while reconnecting (tests terminate it). */
  get backendPid(): number | null {
    return this.pid;
  }

  /**
   * Keeps the listening connection busy with a query of `ms` milliseconds: PostgreSQL hands a
   * listener its notifications only between queries, so nothing is heard meanwhile (what a
   * slow listener looks like; tests of the echo wait use it). No-op while not listening.
   */
  async stall(ms: number): Promise<void> {
    await this.client?.query("SELECT pg_sleep($1)", [ms / 1000]);
  }

  /** Connects and LISTENs; start-up fails if the database cannot be reached. */
  async start(): Promise<void> {
    await this.connect();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.heartbeat);
    clearTimeout(this.reconnectTimer);
    const client = this.client;
    this.client = null;
    this.pid = null;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const client = new Client({
      connectionString: this.options.databaseUrl,
      keepAlive: true,
      ...(this.options.dbSchema ? { options: `-c search_path=${this.options.dbSchema}` } : {}),
    });
    // Both fire when the backend goes away; reconnect once per client.
    let lost = false;
    const onLost = (error?: Error) => {
      if (lost) return;
      lost = true;
      if (this.client === client) {
        this.client = null;
        this.pid = null;
      }
      clearInterval(this.heartbeat);
      this.setConnected(false);
      client.end().catch(() => undefined);
      if (this.closed) return;
      this.options.logger.warn({ err: error }, "revocation listener lost its connection; reconnecting");
      this.scheduleReconnect();
    };
    client.on("error", onLost);
    client.on("end", () => onLost());
    client.on("notification", (message: Notification) => this.dispatch(message.payload));
    try {
      await client.connect();
      const [{ channel, pid, now }] = (
        await client.query<{ channel: string; pid: number; now: Date }>(
          `SELECT ${CHANNEL_SQL} AS channel, pg_backend_pid() AS pid, now() AS now`,
        )
      ).rows;
      await client.query(`LISTEN "${channel.replace(/"/g, '""')}"`);
      if (this.closed) {
        await client.end();
        return;
      }
      const previousAliveAt = this.lastAliveAt;
      this.client = client;
      this.pid = pid;
      this.lastAliveAt = now;
      this.attempt = 0;
      this.heartbeat = setInterval(() => void this.beat(client), this.heartbeatMs).unref();
      if (previousAliveAt) await this.resync(new Date(previousAliveAt.getTime() - RevocationFanout.RESYNC_MARGIN_MS));
      if (!lost) this.setConnected(true);
    } catch (error) {
      lost = true;
      client.end().catch(() => undefined);
      if (this.lastAliveAt === null) throw error; // first start: report it
      this.options.logger.warn({ err: error }, "revocation listener could not reconnect");
      this.scheduleReconnect();
    }
  }

  private scheduleReconnect() {
    if (this.closed || this.reconnectTimer) return;
    const delay = Math.min(this.backoff.max, this.backoff.min * 2 ** this.attempt++);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      void this.connect();
    }, delay * (0.75 + Math.random() / 2));
    this.reconnectTimer.unref();
  }

  private async beat(client: Client) {
    // A connection that silently stopped answering (a partition, no RST) would never fire
    // 'end': one that misses a heartbeat is treated as lost.
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), this.heartbeatMs).unref();
    });
    try {
      const result = await Promise.race([client.query<{ now: Date }>("SELECT now() AS now"), timeout]);
      if (result === "timeout") {
        client.emit("error", new Error("revocation listener missed a heartbeat"));
        return;
      }
      this.lastAliveAt = result.rows[0].now;
    } catch {
      // The error/end handlers reconnect.
    } finally {
      clearTimeout(timer);
    }
  }

  private async resync(since: Date) {
    for (const listener of this.resyncListeners) {
      try {
        await listener(since);
      } catch (error) {
        this.options.logger.error({ err: error }, "resync after reconnect failed");
      }
    }
  }

  private dispatch(payload: string | undefined) {
    const revocations = decodeRevocations(payload);
    if (!revocations) {
      this.options.logger.warn("ignored a malformed revocation notification");
      return;
    }
    if (Date.now() - this.heardSince > 5000) {
      this.heardBefore = this.heard;
      this.heard = new Set();
      this.heardSince = Date.now();
    }
    // One payload is one NOTIFY: its last session is what an echo waits for.
    const last = revocations.at(-1)?.sessionId;
    if (last !== undefined) {
      this.heard.add(last);
      for (const done of this.echoes.get(last) ?? []) done();
    }
    for (const listener of this.listeners) {
      try {
        listener(revocations);
      } catch (error) {
        this.options.logger.error({ err: error }, "revocation listener failed");
      }
    }
  }
}
