import { CloseCode, type ForbiddenCloseReason, type TooManyConnectionsReason } from "../errors/close-codes";
import type { Logger } from "../lib/logger";
import type {
  RevocationConsumer,
  RevokedEventPayload,
  SessionCreated,
  SessionRevocation,
} from "../sessions/revocation/revocation";
import type { RevocationReason } from "../sessions/revocation/revocation-reason";
import type { SessionService } from "../sessions/session.service";
import { EventQueue } from "./event-queue";

/** The part of a WebSocket the registry needs. */
export interface ClosableSocket {
  close(code: number, reason: string): void;
}

/** One acknowledged WebSocket: it belongs to exactly one session, fixed at connection_init. */
export class LiveConnection {
  readonly subscriptions = new Set<EventQueue<RevokedEventPayload>>();
  /** sessionCreated subscriptions: news only, so an ending socket does not wait for them to drain. */
  readonly createdSubscriptions = new Set<EventQueue<SessionCreated>>();
  ending = false;

  constructor(
    readonly userId: string,
    readonly sessionId: string,
    readonly socket: ClosableSocket,
  ) {}
}

/**
 * The 4403 reason for a session that ended while its socket was open: what the context builder
 * would now answer for its token, so a refusal at subscribe and a close say the same thing.
 */
function closeReason(reason: RevocationReason): ForbiddenCloseReason {
  return reason === "EXPIRED" ? "SESSION_EXPIRED" : "SESSION_REVOKED";
}

const MAX_TIMER_MS = 2 ** 31 - 1;
/** How long delivered revocations are remembered, to drop repeats (resync, sweeper, timers). */
const REMEMBER_MS = 10 * 60_000;

/**
 * The open sockets of this instance, by user and by session. Revocations from the fan-out
 * (any instance) are delivered here: every socket of the user hears the event, and the ended
 * session's own sockets are closed with 4403 once the event has been written to them.
 * Each session with an open socket also has a timer at its expiry, so a socket closes when
 * its session expires even if nobody published anything.
 */
export class LiveConnections implements RevocationConsumer {
  private readonly byUser = new Map<string, Set<LiveConnection>>();
  private readonly bySession = new Map<string, { userId: string; connections: Set<LiveConnection>; timer?: NodeJS.Timeout }>();
  /** Sessions whose end was delivered: when, and the 4403 reason their sockets were closed with. */
  private readonly delivered = new Map<string, { at: number; reason: ForbiddenCloseReason }>();
  private readonly pruneTimer: NodeJS.Timeout;
  private stopped = false;
  /** Revocations heard but not yet delivered: they go out together (see deliver). */
  private pending: SessionRevocation[] = [];
  /** Told of each ended session whose event went to at least one socket here (the metrics time it). */
  onDelivered: ((revocation: SessionRevocation) => void) | undefined;
  /** Cap checks so far (`admit`), one per acknowledged socket (the benchmark shows requests make none). */
  capChecks = 0;

  constructor(
    private readonly sessions: SessionService,
    private readonly logger: Logger,
    /** Open sockets allowed per session and per user (WS_MAX_PER_SESSION, WS_MAX_PER_USER). */
    private readonly caps: { perSession: number; perUser: number } = { perSession: Infinity, perUser: Infinity },
    /** Longest wait for a slow reader to take its last event before its socket is closed anyway. */
    private readonly closeGraceMs = 2000,
    /**
     * How long an ended socket stays open after its last event was written, before the close.
     * Events first, teardown after: closing a socket (close frames both ways, FIN, the kernel's
     * and ws's teardown) costs both ends several times what its event does, and in a burst
     * (logoutAllDevices) the closes of the first sockets would hold up the events of the
     * rest. The session is already dead meanwhile: the socket hears nothing more, and any
     * subscribe or operation on it is refused by the session check. `npm run bench:live`
     * shows the effect on a burst's delivery latency.
     */
    private readonly closeDelayMs = 100,
  ) {
    this.pruneTimer = setInterval(() => this.prune(), 60_000).unref();
  }

  get size(): number {
    let n = 0;
    for (const set of this.byUser.values()) n += set.size;
    return n;
  }

  /** Active subscriptions on the open sockets (read when metrics are scraped). */
  get subscriptionCount(): number {
    let n = 0;
    for (const set of this.byUser.values()) for (const connection of set) n += connection.subscriptions.size;
    return n;
  }

  /**
   * The cap a new socket of this session would pass, or null when it may open. Called in the
   * same turn as `open`, so two sockets acknowledged at once cannot both take the last place.
   */
  admit(userId: string, sessionId: string): Extract<TooManyConnectionsReason, "SESSION_LIMIT" | "USER_LIMIT"> | null {
    this.capChecks++;
    if ((this.bySession.get(sessionId)?.connections.size ?? 0) >= this.caps.perSession) return "SESSION_LIMIT";
    if ((this.byUser.get(userId)?.size ?? 0) >= this.caps.perUser) return "USER_LIMIT";
    return null;
  }

  /** Registers an acknowledged socket whose session was just checked alive until `expiresAt`. */
  open(userId: string, sessionId: string, expiresAt: Date, socket: ClosableSocket): LiveConnection {
    const connection = new LiveConnection(userId, sessionId, socket);
    // Ended between the context builder's read and now: its event has come and gone.
    const ended = this.delivered.get(sessionId);
    if (ended) {
      this.end(connection, ended.reason);
      return connection;
    }
    let users = this.byUser.get(userId);
    if (!users) this.byUser.set(userId, (users = new Set()));
    users.add(connection);
    let entry = this.bySession.get(sessionId);
    if (!entry) {
      this.bySession.set(sessionId, (entry = { userId, connections: new Set() }));
      this.scheduleExpiry(sessionId, expiresAt);
    }
    entry.connections.add(connection);
    return connection;
  }

  /** The socket closed, for whatever reason. */
  closed(connection: LiveConnection): void {
    this.unregister(connection);
  }

  /** A subscription's event stream; the topic is the connection's user, never an argument. */
  subscribe(connection: LiveConnection): AsyncIterableIterator<RevokedEventPayload> {
    const queue: EventQueue<RevokedEventPayload> = new EventQueue(() => connection.subscriptions.delete(queue));
    if (connection.ending) void queue.return();
    else connection.subscriptions.add(queue);
    return queue;
  }

  /** A sessionCreated stream; like `subscribe`, the topic is the connection's user. */
  subscribeCreated(connection: LiveConnection): AsyncIterableIterator<SessionCreated> {
    const queue: EventQueue<SessionCreated> = new EventQueue(() => connection.createdSubscriptions.delete(queue));
    if (connection.ending) void queue.return();
    else connection.createdSubscriptions.add(queue);
    return queue;
  }

  /**
   * A new session of a user with sockets here: every one of them hears it but the new
   * session's own (it knows), and none of another user's. One event object for all of them
   * (shared-subscribe executes it once per distinct operation).
   */
  deliverCreated(created: SessionCreated): void {
    const connections = this.byUser.get(created.userId);
    if (!connections) return;
    for (const connection of connections) {
      if (connection.sessionId === created.session.id || connection.ending) continue;
      for (const queue of connection.createdSubscriptions) queue.push(created);
    }
  }

  /**
   * Delivers ended sessions to this instance's sockets; repeats of one session are dropped.
   *
   * Revocations heard in one turn of the event loop go out together, on the next tick: one
   * logoutAllDevices of N sessions arrives as several NOTIFYs read at once. First every
   * socket whose own session ended gets that one event (`current: true`) and is closed; then
   * the sockets still open get one `current: false` event per ended session. A socket that is
   * itself being signed out has no use for the events about its siblings, so the burst costs
   * one message per ended socket plus N per surviving socket, instead of N per socket.
   */
  deliver(revocations: readonly SessionRevocation[]): void {
    if (this.pending.length === 0) process.nextTick(() => this.flush());
    // A loop, not push(...revocations): a bulk revocation can outnumber a call's arguments.
    for (const revocation of revocations) this.pending.push(revocation);
  }

  private flush() {
    const now = Date.now();
    const fresh: SessionRevocation[] = [];
    for (const revocation of this.pending) {
      if (this.delivered.has(revocation.sessionId)) continue;
      this.delivered.set(revocation.sessionId, { at: now, reason: closeReason(revocation.reason) });
      fresh.push(revocation);
    }
    this.pending = [];
    /** Sessions whose event is already timed (their own sockets heard it). */
    const timed = new Set<string>();
    for (const revocation of fresh) {
      const entry = this.bySession.get(revocation.sessionId);
      if (!entry) continue;
      const event = {
        sessionId: revocation.sessionId,
        reason: revocation.reason,
        revokedAt: revocation.revokedAt,
        current: true,
      };
      for (const connection of [...entry.connections]) {
        for (const queue of connection.subscriptions) queue.push(event);
        this.end(connection, closeReason(revocation.reason));
      }
      timed.add(revocation.sessionId);
      this.onDelivered?.(revocation);
    }
    // end() unregistered the ended sockets: whoever is left stays signed in.
    for (const revocation of fresh) {
      const connections = this.byUser.get(revocation.userId);
      if (!connections) continue;
      const event = {
        sessionId: revocation.sessionId,
        reason: revocation.reason,
        revokedAt: revocation.revokedAt,
        current: false,
      };
      for (const connection of connections) {
        for (const queue of connection.subscriptions) queue.push(event);
      }
      if (!timed.has(revocation.sessionId)) this.onDelivered?.(revocation);
    }
  }

  /**
   * After the fan-out lost its connection: re-reads the revocations of every user with an open
   * socket here since `since`, and delivers the ones not heard. Retries until it succeeds.
   */
  async resync(since: Date): Promise<void> {
    for (let attempt = 0; !this.stopped; attempt++) {
      const userIds = [...this.byUser.keys()];
      if (userIds.length === 0) return;
      try {
        this.deliver(await this.sessions.revokedSessionsSince(userIds, since));
        return;
      } catch (error) {
        this.logger.warn({ err: error }, "resync of live sockets failed; retrying");
        await new Promise((resolve) => setTimeout(resolve, Math.min(5000, 200 * 2 ** attempt)));
      }
    }
  }

  /** Stops the timers; the sockets themselves are closed by the WebSocket server. */
  stop(): void {
    this.stopped = true;
    clearInterval(this.pruneTimer);
    for (const entry of this.bySession.values()) clearTimeout(entry.timer);
  }

  private end(connection: LiveConnection, reason: ForbiddenCloseReason) {
    if (connection.ending) return;
    connection.ending = true;
    this.unregister(connection);
    const drained = Promise.all([...connection.subscriptions].map((queue) => queue.whenDrained()));
    let grace: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (grace = setTimeout(resolve, this.closeGraceMs)));
    void Promise.race([drained, timeout]).then(() => {
      clearTimeout(grace);
      setTimeout(() => connection.socket.close(CloseCode.Forbidden, reason), this.closeDelayMs);
    });
  }

  private unregister(connection: LiveConnection) {
    const users = this.byUser.get(connection.userId);
    users?.delete(connection);
    if (users?.size === 0) this.byUser.delete(connection.userId);
    const entry = this.bySession.get(connection.sessionId);
    entry?.connections.delete(connection);
    if (entry?.connections.size === 0) {
      clearTimeout(entry.timer);
      this.bySession.delete(connection.sessionId);
    }
  }

  private scheduleExpiry(sessionId: string, expiresAt: Date) {
    const entry = this.bySession.get(sessionId);
    if (!entry || this.stopped) return;
    clearTimeout(entry.timer);
    // Long sessions outlast a timer's range: wake early and look again.
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, expiresAt.getTime() - Date.now()) + 20);
    entry.timer = setTimeout(() => void this.checkExpiry(sessionId), delay);
    entry.timer.unref();
  }

  /** At the deadline: the idle part may have moved (activity over HTTP), so read it again. */
  private async checkExpiry(sessionId: string) {
    const entry = this.bySession.get(sessionId);
    if (!entry) return;
    try {
      const check = await this.sessions.validateSession(
        { session: { userId: entry.userId, sessionId } },
        { authoritative: true },
      );
      if (check.ok) return this.scheduleExpiry(sessionId, this.sessions.expiresAt(check.viewer.session));
      const session = check.session;
      if (session && !session.revokedAt) {
        // Marks it EXPIRED and publishes it, so the user's sockets on every instance hear it.
        const revoked = await this.sessions.revokeExpiredSessions({ sessionIds: [sessionId] });
        if (revoked.length > 0) return this.deliver(revoked);
      }
      this.deliver([
        {
          sessionId,
          userId: entry.userId,
          reason: session?.revokedReason ?? (check.reason === "SESSION_EXPIRED" ? "EXPIRED" : "REVOKED"),
          revokedAt: session?.revokedAt ?? new Date(),
        },
      ]);
    } catch (error) {
      // Cannot check now: look again shortly rather than guess either way.
      this.logger.warn({ err: error }, "checking a live session's expiry failed; retrying");
      const retry = setTimeout(() => void this.checkExpiry(sessionId), 5000);
      retry.unref();
      entry.timer = retry;
    }
  }

  private prune() {
    const cutoff = Date.now() - REMEMBER_MS;
    for (const [id, { at }] of this.delivered) if (at < cutoff) this.delivered.delete(id);
  }
}
