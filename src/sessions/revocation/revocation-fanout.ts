import { randomUUID } from "node:crypto";
import { Client, type Notification, type QueryResult, type QueryResultRow } from "pg";
import { render, type Sql } from "../../db/sql";
import type { Logger } from "../../lib/logger";
import { type LeaseTimes, leaseTimes, OwnLease, PeerLeases } from "./instance-leases";
import type { SessionCreated, SessionRevocation } from "./revocation";
import {
  acknowledgeStatement,
  CHANNEL_SQL,
  CONTROL_CHANNEL_SQL,
  decodeControl,
  decodeRevocations,
  decodeSessionCreated,
  encodeControl,
  leaseHoldersStatement,
  leaveLeaseStatement,
  renewLeaseStatement,
} from "./revocation-channel";

export type RevocationListener = (revocations: SessionRevocation[]) => void;
/** Called after the listening connection came back: revocations since `since` may have been missed. */
export type ResyncListener = (since: Date) => Promise<void> | void;
/**
 * Holds this instance's acknowledgement of the revocation NOTIFY whose last session is `key`
 * until what it returns settles (undefined: nothing to wait for). The session verifiers
 * connected here use it: an instance acknowledges only what its verifiers have acknowledged
 * too, or whose leases have run out.
 */
export type AcknowledgementGate = (key: string) => Promise<void> | undefined;

export interface FanoutOptions {
  databaseUrl: string;
  dbSchema?: string;
  logger: Logger;
  /** REVOCATION_LEASE_MS (see instance-leases.ts); default 2000. */
  leaseMs?: number;
  /**
   * A listening connection whose lease renewal (or set-up step) has not been answered this
   * long is treated as lost and replaced: a partition that resets nothing never ends it.
   */
  heartbeatMs?: number;
  /** Reconnect delays grow from `min` to `max`, doubling, with jitter. */
  backoffMs?: { min: number; max: number };
}

/** Resolves with `promise`, or with "timeout" after `ms`. */
function within<T>(promise: Promise<T>, ms: number): Promise<T | "timeout"> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), ms).unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Like `within`, for set-up steps: a timeout is an error. */
async function answered<T>(promise: Promise<T>, ms: number, step: string): Promise<T> {
  const result = await within(promise, ms);
  if (result === "timeout") throw new Error(`revocation listener: ${step} unanswered after ${ms} ms`);
  return result;
}

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

type Query = <R extends QueryResultRow>(text: string, values?: unknown[]) => Promise<QueryResult<R>>;

/** A statement as the arguments of a query: its text and its values. */
function rendered(statement: Sql): [string, unknown[]] {
  const { text, values } = render(statement);
  return [text, values];
}

/**
 * Queries on one connection, one after another: renewals, acknowledgements and stalls are
 * sent independently, and pg refuses (deprecates) a query while another one runs.
 */
function serialized(client: Client): Query {
  let tail: Promise<unknown> = Promise.resolve();
  return <R extends QueryResultRow>(text: string, values?: unknown[]) => {
    const next = tail.then(() => client.query<R>(text, values));
    tail = next.catch(() => undefined);
    return next;
  };
}

/**
 * Revocations made by any instance, heard through PostgreSQL LISTEN on a dedicated pg Client
 * (not the TypeORM pool: a pooled connection is handed to other work and its LISTEN would
 * be lost). Every instance hears its own NOTIFYs too, so there is one delivery path.
 *
 * The same connection carries this instance's lease: it renews it (a NOTIFY on the control
 * channel) every quarter lease, acknowledges every revocation it has processed, and hears the
 * other instances do the same; `confirm` is what a revoking call waits on (instance-leases.ts
 * has the contract).
 *
 * When the connection drops, or a renewal goes unanswered for `heartbeatMs`, it reconnects
 * with backoff and then tells `onResync` listeners from when to re-read revocations: the last
 * time the old connection was known alive, minus a margin for transactions that took `now()`
 * earlier than they committed.
 */
export class RevocationFanout {
  /** This process's name in the lease table and on the control channel. */
  readonly instanceId = randomUUID();
  private client: Client | null = null;
  /** `client`'s queries, in order. */
  private query: Query | null = null;
  private channels = { revocations: "", control: "" };
  private readonly listeners = new Set<RevocationListener>();
  private readonly createdListeners = new Set<(created: SessionCreated) => void>();
  private readonly resyncListeners = new Set<ResyncListener>();
  private readonly connectionListeners = new Set<(connected: boolean) => void>();
  private readonly leaseListeners = new Set<(trustedUntil: number) => void>();
  /** Revoking calls waiting for their own NOTIFY, by its last session id. */
  private readonly echoes = new Map<string, Set<(place: number | null) => void>>();
  private readonly times: LeaseTimes;
  private readonly own: OwnLease;
  private readonly peers: PeerLeases;
  private trustedUntil = 0;
  /** The last session id of the last revocation NOTIFY processed: what an acknowledgement names. */
  private processed: string | undefined;
  /** Its place (acknowledgements held by the gate may settle out of order). */
  private processedPlace = 0;
  private gate: AcknowledgementGate | null = null;
  /** Calls waiting for a renewal sent after they asked, by the first renewal number that counts. */
  private readonly renewalWaiters = new Set<{ from: number; done: () => void }>();
  /** The connection an acknowledgement is due on (one per turn of the event loop). */
  private acknowledgeOn: Query | null = null;
  private renewal: NodeJS.Timeout | undefined;
  private renewing = false;
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
    this.times = leaseTimes(options.leaseMs ?? 2000);
    this.own = new OwnLease(this.times.ownMs, (until, renewal) => {
      this.trustedUntil = until;
      for (const listener of this.leaseListeners) listener(until);
      for (const waiter of this.renewalWaiters) {
        if (renewal >= waiter.from) {
          this.renewalWaiters.delete(waiter);
          waiter.done();
        }
      }
    });
    this.peers = new PeerLeases(this.instanceId, this.times.peerMs);
  }

  /** Subscribes to every revocation, from any instance; returns the unsubscribe function. */
  onRevoked(listener: RevocationListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Subscribes to every new session, from any instance; returns the unsubscribe function. */
  onCreated(listener: (created: SessionCreated) => void): () => void {
    this.createdListeners.add(listener);
    return () => this.createdListeners.delete(listener);
  }

  /**
   * Told `false` the moment the listening connection is lost (revocations may now be missed)
   * and `true` once it is back and the resync has run. Memory from before either is void.
   */
  onConnectionChange(listener: (connected: boolean) => void): () => void {
    this.connectionListeners.add(listener);
    return () => this.connectionListeners.delete(listener);
  }

  /**
   * Told, on this process's monotonic clock (`performance.now()`), until when memory may be
   * trusted, each time a renewal of this instance's lease comes back.
   */
  onLeaseRenewed(listener: (trustedUntil: number) => void): () => void {
    this.leaseListeners.add(listener);
    return () => this.leaseListeners.delete(listener);
  }

  /** See AcknowledgementGate; one gate per instance. */
  gateAcknowledgements(gate: AcknowledgementGate): void {
    this.gate = gate;
  }

  /**
   * Resolves once a lease renewal sent after this call has come back: by then every revocation
   * committed before the call has been processed (delivered to every onRevoked listener). It
   * rides on the periodic renewal (at most a quarter lease away), so it costs no statement of
   * its own; it waits across a reconnect.
   */
  renewedAfterNow(): Promise<void> {
    return new Promise((done) => this.renewalWaiters.add({ from: this.own.upcoming, done }));
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
   * What a revoking call waits on after its commit (`committedAt`, this process's clock):
   * its own NOTIFYs coming back, then the acknowledgement of every other instance that may
   * hold a lease, or that lease certainly running out. At most the lease bound after the
   * commit (instance-leases.ts); it never fails the call.
   *
   * Only the last session is waited for: PostgreSQL delivers one transaction's notifications
   * in the order they were sent, and the last one sent carries the last session answered.
   * For 10,000 sessions that is one lookup instead of 10,000 set operations.
   */
  async confirm(revocations: readonly SessionRevocation[], committedAt = performance.now()): Promise<void> {
    const last = revocations.at(-1)?.sessionId;
    if (last === undefined) return;
    const deadline = committedAt + this.times.peerMs;
    const place = await this.echo(last, deadline);
    const unconfirmed = place === null ? null : await this.peers.waitForAcknowledgements(place, deadline);
    if (unconfirmed === null || unconfirmed.length > 0) {
      this.options.logger.warn(
        {
          instances: unconfirmed ?? "unknown",
          sessions: revocations.length,
          waitedMs: Math.round(performance.now() - committedAt),
        },
        "a revocation was not acknowledged by every instance; answered once their leases had run out",
      );
    }
  }

  /** The place of this instance's own NOTIFY whose last session is `key`, once heard (null: not by `deadline`). */
  private echo(key: string, deadline: number): Promise<number | null> {
    // A NOTIFY can arrive before the revoking call asks (it is sent at commit, while the
    // COMMIT's answer is still on its way).
    const place = this.peers.placeOf(key);
    if (place !== undefined) return Promise.resolve(place);
    return new Promise((resolve) => {
      let waiters = this.echoes.get(key);
      if (!waiters) this.echoes.set(key, (waiters = new Set()));
      let timer: NodeJS.Timeout | undefined;
      const done = (heard: number | null) => {
        clearTimeout(timer);
        waiters.delete(done);
        if (waiters.size === 0 && this.echoes.get(key) === waiters) this.echoes.delete(key);
        resolve(heard);
      };
      // Timers can fire early on this clock: re-checked against it.
      const check = () => {
        const left = deadline - performance.now();
        if (left <= 0) done(null);
        else timer = setTimeout(check, Math.max(1, left));
      };
      waiters.add(done);
      check();
    });
  }

  /** The listening backend's pid, or null until a connection is back and renewing (tests terminate it). */
  get backendPid(): number | null {
    return this.pid;
  }

  /**
   * Keeps the listening connection busy with a query of `ms` milliseconds: PostgreSQL hands a
   * listener its notifications only between queries, so nothing is heard meanwhile (what a
   * slow listener looks like; tests of the echo wait use it). No-op while not listening.
   */
  async stall(ms: number): Promise<void> {
    await this.query?.("SELECT pg_sleep($1)", [ms / 1000]);
  }

  /** Connects, LISTENs and takes a first lease; start-up fails if the database cannot be reached. */
  async start(): Promise<void> {
    await this.connect();
    if (this.trustedUntil > performance.now()) return;
    await new Promise<void>((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        off();
        resolve();
      };
      const timer = setTimeout(finish, this.heartbeatMs);
      const off = this.onLeaseRenewed(finish);
    });
  }

  /** Stops answering from memory, tells the others it has gone (so nobody waits for it), disconnects. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.renewal);
    clearTimeout(this.reconnectTimer);
    this.own.lost();
    this.setConnected(false);
    const { client, query } = this;
    this.client = null;
    this.query = null;
    this.pid = null;
    if (!client || !query) return;
    const goodbye = encodeControl({ instanceId: this.instanceId, leaving: true });
    await within(query(...rendered(leaveLeaseStatement(this.instanceId, goodbye))), 1000).catch(() => undefined);
    await client.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const client = new Client({
      connectionString: this.options.databaseUrl,
      keepAlive: true,
      connectionTimeoutMillis: this.heartbeatMs,
      ...(this.options.dbSchema ? { options: `-c search_path=${this.options.dbSchema}` } : {}),
    });
    const query = serialized(client);
    let lost = false;
    /** Once per client: what it carried (the lease, the others' renewals) is void. */
    const release = () => {
      lost = true;
      if (this.client === client) {
        this.client = null;
        this.query = null;
        this.pid = null;
        clearInterval(this.renewal);
        this.own.lost();
        this.peers.lost();
        this.setConnected(false);
      }
      client.end().catch(() => undefined);
    };
    // Both fire when the backend goes away; reconnect once per client.
    const onLost = (error?: Error) => {
      if (lost) return;
      release();
      if (this.closed) return;
      this.options.logger.warn({ err: error }, "revocation listener lost its connection; reconnecting");
      this.scheduleReconnect();
    };
    client.on("error", onLost);
    client.on("end", () => onLost());
    client.on("notification", (message: Notification) => this.dispatch(query, message));
    try {
      await answered(client.connect(), this.heartbeatMs, "connect");
      const [{ channel, control, pid, now }] = (
        await answered(
          query<{ channel: string; control: string; pid: number; now: Date }>(
            `SELECT ${CHANNEL_SQL} AS channel, ${CONTROL_CHANNEL_SQL} AS control, pg_backend_pid() AS pid, now() AS now`,
          ),
          this.heartbeatMs,
          "channel names",
        )
      ).rows;
      this.channels = { revocations: channel, control };
      await answered(query(`LISTEN ${quoteIdent(channel)}; LISTEN ${quoteIdent(control)}`), this.heartbeatMs, "LISTEN");
      // After LISTEN, so that any renewal is either heard from now on or already in the table.
      const holders = await answered(
        query<{ instance_id: string }>(...rendered(leaseHoldersStatement(this.instanceId))),
        this.heartbeatMs,
        "lease holders",
      );
      if (this.closed) {
        await client.end();
        return;
      }
      this.peers.seed(holders.rows.map((row) => row.instance_id));
      const previousAliveAt = this.lastAliveAt;
      this.client = client;
      this.query = query;
      this.lastAliveAt = now;
      this.attempt = 0;
      if (previousAliveAt) await this.resync(new Date(previousAliveAt.getTime() - RevocationFanout.RESYNC_MARGIN_MS));
      if (lost) return;
      this.setConnected(true);
      this.renewal = setInterval(() => void this.renew(client, query), this.times.renewEveryMs).unref();
      await this.renew(client, query);
      // Known as back (tests wait for this) once the first renewal has been answered.
      if (this.client === client) this.pid = pid;
    } catch (error) {
      if (!lost) release();
      if (this.lastAliveAt === null) throw error; // first start: report it
      this.options.logger.warn({ err: error }, "revocation listener could not reconnect");
      this.scheduleReconnect();
    }
  }

  private scheduleReconnect() {
    if (this.closed || this.reconnectTimer) return;
    const delay = Math.min(this.backoff.max, this.backoff.min * 2 ** this.attempt++);
    this.reconnectTimer = setTimeout(
      () => {
        this.reconnectTimer = undefined;
        void this.connect();
      },
      delay * (0.75 + Math.random() / 2),
    );
    this.reconnectTimer.unref();
  }

  /** One lease renewal; the lease is extended when its NOTIFY comes back (dispatchControl). */
  private async renew(client: Client, query: Query) {
    if (this.renewing || this.client !== client) return;
    this.renewing = true;
    const message = encodeControl({ instanceId: this.instanceId, renewal: this.own.sending(), acknowledged: this.processed });
    try {
      const result = await within(
        query<{ now: Date }>(...rendered(renewLeaseStatement(this.instanceId, message))),
        this.heartbeatMs,
      );
      // A connection that silently stopped answering (a partition, no RST) would never fire
      // 'end': one that leaves a renewal unanswered is treated as lost.
      if (result === "timeout") client.emit("error", new Error("revocation listener missed a lease renewal"));
      else this.lastAliveAt = result.rows[0].now;
    } catch {
      // The error/end handlers reconnect.
    } finally {
      this.renewing = false;
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

  private dispatch(query: Query, message: Notification) {
    if (message.channel === this.channels.control) return this.dispatchControl(message.payload);
    // A new session is news, not a revocation: nothing waits for it, nothing acknowledges it.
    const created = decodeSessionCreated(message.payload);
    if (created) {
      for (const listener of this.createdListeners) {
        try {
          listener(created);
        } catch (error) {
          this.options.logger.error({ err: error }, "sessionCreated listener failed");
        }
      }
      return;
    }
    const revocations = decodeRevocations(message.payload);
    if (!revocations) {
      this.options.logger.warn("ignored a malformed revocation notification");
      return;
    }
    for (const listener of this.listeners) {
      try {
        listener(revocations);
      } catch (error) {
        this.options.logger.error({ err: error }, "revocation listener failed");
      }
    }
    // One payload is one NOTIFY: its last session names it, for echoes and acknowledgements.
    const last = revocations.at(-1)?.sessionId;
    if (last === undefined) return;
    const place = this.peers.revocationHeard(last);
    for (const done of this.echoes.get(last) ?? []) done(place);
    const held = this.gate?.(last);
    if (!held) return this.processedUpTo(query, last, place);
    void held.then(() => this.processedUpTo(query, last, place));
  }

  private processedUpTo(query: Query, key: string, place: number) {
    if (place <= this.processedPlace) return;
    this.processedPlace = place;
    this.processed = key;
    this.acknowledge(query);
  }

  /** One acknowledgement per turn of the event loop: a bulk revocation's NOTIFYs arrive together. */
  private acknowledge(query: Query) {
    if (this.acknowledgeOn === query) return;
    this.acknowledgeOn = query;
    queueMicrotask(() => {
      this.acknowledgeOn = null;
      const message = encodeControl({ instanceId: this.instanceId, acknowledged: this.processed });
      query(...rendered(acknowledgeStatement(message))).catch(() => undefined); // a lost connection reconnects
    });
  }

  private dispatchControl(payload: string | undefined) {
    const message = decodeControl(payload);
    if (!message) {
      this.options.logger.warn("ignored a malformed lease notification");
      return;
    }
    if (message.instanceId === this.instanceId) {
      if (message.renewal !== undefined) this.own.heard(message.renewal);
      return;
    }
    if (message.leaving) return this.peers.left(message.instanceId);
    if (message.renewal !== undefined) this.peers.renewalHeard(message.instanceId);
    if (message.acknowledged !== undefined) this.peers.acknowledged(message.instanceId, message.acknowledged);
  }
}
