/**
 * The verifier's end of the session API's revocation stream (server-sent events on
 * `GET /sessions/stream`, opened with a service key of scope `sessions:stream`), and its lease.
 *
 * The lease, as the API's instances hold theirs: every quarter lease the verifier asks for a
 * renewal (numbered, its send time noted on this process's monotonic clock). The instance
 * answers on the stream only once every revocation committed before the request is ahead of
 * the answer, so when the answer is processed those revocations have been applied, and memory
 * may be trusted until the request's send time plus the lease, less the clock drift allowed.
 * A stream that goes silent (cut, black-holed, a stalled instance) answers no renewal: memory
 * stops being trusted at most one lease after the fault began, and a renewal unanswered for a
 * whole lease makes the verifier drop the connection and open a new one. The instance holds
 * revoking calls until this verifier acknowledges each revocation or its lease has run out.
 */

/** How far this process's monotonic clock may run from real time (the API assumes the same). */
export const CLOCK_DRIFT = 0.001;

export interface RevokedSession {
  sessionId: string;
  userId: string;
  /** The API's revocation reason: LOGOUT, REVOKED, PASSWORD_CHANGED, EXPIRED, ... */
  reason: string;
  revokedAt: Date;
}

export interface StreamHandlers {
  /** A new stream is open: memory from before it is void (revocations may have been missed). */
  opened(): void;
  /** Revocations, in commit order; applied before they are acknowledged. */
  revoked(sessions: RevokedSession[]): void;
  /** Memory may be trusted until `until` (performance.now()). */
  renewed(until: number): void;
  /** Memory can no longer be trusted (the stream is gone, or the instance lost its own view). */
  lapsed(): void;
  error(error: unknown): void;
}

interface StreamOptions {
  baseUrl: string;
  serviceKey: string;
  fetch: typeof fetch;
  handlers: StreamHandlers;
  backoffMs?: { min: number; max: number };
}

export class RevocationStream {
  private abort: AbortController | null = null;
  private streamId: string | null = null;
  private leaseMs = 0;
  private readonly renewals = new Map<number, number>();
  private nextRenewal = 1;
  private renewTimer: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private attempt = 0;
  private lastSeq = 0;
  private ackScheduled = false;
  private closed = false;
  private helloTimer: NodeJS.Timeout | undefined;
  static readonly HELLO_TIMEOUT_MS = 5000;

  constructor(private readonly options: StreamOptions) {}

  /** The open stream's id, or null (tests and status). */
  get id(): string | null {
    return this.streamId;
  }

  start(): void {
    void this.connect();
  }

  /** Says goodbye (so no revoking call waits for this verifier's lease) and disconnects. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    const id = this.streamId;
    this.drop();
    if (id) await this.post(id, { leave: true }, 1000).catch(() => undefined);
  }

  private drop() {
    clearTimeout(this.helloTimer);
    clearInterval(this.renewTimer);
    this.renewals.clear();
    this.abort?.abort();
    this.abort = null;
    this.streamId = null;
    this.options.handlers.lapsed();
  }

  private async connect(): Promise<void> {
    const abort = new AbortController();
    this.abort = abort;
    // A stream whose hello does not arrive (a black hole accepts and never answers) is given up.
    const helloTimer = setTimeout(() => abort.abort(), RevocationStream.HELLO_TIMEOUT_MS);
    helloTimer.unref();
    this.helloTimer = helloTimer;
    try {
      const response = await this.options.fetch(`${this.options.baseUrl}/sessions/stream`, {
        headers: { authorization: `ApiKey ${this.options.serviceKey}`, accept: "text/event-stream" },
        signal: abort.signal,
      });
      if (!response.ok || !response.body) {
        await response.body?.cancel().catch(() => undefined);
        throw new Error(`session verifier: the revocation stream was refused (${response.status})`);
      }
      await this.read(response.body, abort);
      if (!abort.signal.aborted) throw new Error("session verifier: the revocation stream ended");
    } catch (error) {
      if (abort.signal.aborted && this.abort !== abort) return; // replaced or closed on purpose
      if (!this.closed) this.options.handlers.error(error);
    }
    if (this.abort === abort) this.drop();
    this.scheduleReconnect();
  }

  private scheduleReconnect() {
    if (this.closed || this.reconnectTimer) return;
    const { min, max } = this.options.backoffMs ?? { min: 100, max: 5000 };
    const delay = Math.min(max, min * 2 ** this.attempt++) * (0.75 + Math.random() / 2);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      void this.connect();
    }, delay);
    this.reconnectTimer.unref();
  }

  /** Reads server-sent events until the body ends or `abort` fires. */
  private async read(body: ReadableStream<Uint8Array>, abort: AbortController) {
    const decoder = new TextDecoder();
    let buffer = "";
    for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
      if (abort.signal.aborted) return;
      buffer += decoder.decode(chunk, { stream: true });
      let end = buffer.indexOf("\n\n");
      while (end !== -1) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let event = "message";
        let data = "";
        for (const line of block.split("\n")) {
          if (line.startsWith("event: ")) event = line.slice(7);
          else if (line.startsWith("data: ")) data += line.slice(6);
        }
        this.dispatch(event, data, abort);
        end = buffer.indexOf("\n\n");
      }
    }
  }

  private dispatch(event: string, data: string, abort: AbortController) {
    if (this.abort !== abort) return;
    const message = JSON.parse(data) as Record<string, unknown>;
    switch (event) {
      case "hello": {
        clearTimeout(this.helloTimer);
        this.streamId = message.stream as string;
        this.leaseMs = message.leaseMs as number;
        this.lastSeq = message.seq as number;
        this.attempt = 0;
        this.options.handlers.opened();
        clearInterval(this.renewTimer);
        this.renewTimer = setInterval(() => this.renew(), this.leaseMs / 4);
        this.renewTimer.unref();
        this.renew();
        return;
      }
      case "revoked": {
        const sessions = (message.sessions as { sessionId: string; userId: string; reason: string; revokedAt: string }[]).map(
          (s) => ({ ...s, revokedAt: new Date(s.revokedAt) }),
        );
        this.options.handlers.revoked(sessions);
        this.lastSeq = message.seq as number;
        this.acknowledge();
        return;
      }
      case "renewed": {
        const n = message.renewal as number;
        const sentAt = this.renewals.get(n);
        if (sentAt === undefined) return;
        for (const k of this.renewals.keys()) if (k <= n) this.renewals.delete(k);
        this.options.handlers.renewed(sentAt + this.leaseMs * (1 - CLOCK_DRIFT));
        return;
      }
      case "reset":
        this.renewals.clear();
        this.options.handlers.lapsed();
        return;
    }
  }

  /** One acknowledgement per turn of the event loop: a bulk revocation arrives as several events. */
  private acknowledge() {
    if (this.ackScheduled) return;
    this.ackScheduled = true;
    setImmediate(() => {
      this.ackScheduled = false;
      const id = this.streamId;
      if (id) this.post(id, { ack: this.lastSeq }).catch((error) => this.lost(id, error));
    });
  }

  private renew() {
    const id = this.streamId;
    if (!id) return;
    const now = performance.now();
    // A renewal unanswered for a whole lease: the stream is silent (black-holed, stalled).
    const oldest = this.renewals.values().next().value;
    if (oldest !== undefined && now - oldest > this.leaseMs) {
      this.lost(id, new Error("session verifier: the revocation stream answered no renewal within the lease"));
      return;
    }
    const n = this.nextRenewal++;
    this.renewals.set(n, now);
    this.post(id, { ack: this.lastSeq, renew: n }).catch((error) => this.lost(id, error));
  }

  /** Drops stream `id`, if it is still the open one, and opens a new one. */
  private lost(id: string, error: unknown) {
    if (this.closed || this.streamId !== id) return;
    this.options.handlers.error(error);
    this.drop();
    this.scheduleReconnect();
  }

  private async post(id: string, body: object, timeoutMs = this.leaseMs || 2000): Promise<void> {
    const response = await this.options.fetch(`${this.options.baseUrl}/sessions/stream/${id}`, {
      method: "POST",
      headers: { authorization: `ApiKey ${this.options.serviceKey}`, "content-type": "application/json" },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    await response.body?.cancel().catch(() => undefined);
    if (response.status === 404) throw new Error("session verifier: the stream is not held by the instance this url reaches");
    if (!response.ok) throw new Error(`session verifier: the stream message was refused (${response.status})`);
  }
}
