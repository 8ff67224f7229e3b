import { randomUUID } from "node:crypto";
import { CLOCK_DRIFT } from "./instance-leases";
import type { SessionRevocation } from "./revocation";

/**
 * The session verifiers (`@session-api/backend`) connected to this instance, and their leases:
 * the same contract as the instances' own (instance-leases.ts), one level further out.
 *
 * 1. This instance writes every revocation it hears (any instance's, in commit order) onto
 *    every verifier's stream, numbered (`seq`), and the verifier acknowledges the numbers it
 *    has processed.
 * 2. A verifier renews its lease by asking for a renewal; this instance answers on the stream
 *    once a renewal of its own lease, sent after the request arrived, has come back
 *    (`RevocationFanout.renewedAfterNow`): by then every revocation committed before the
 *    request is on the stream ahead of the answer. The verifier trusts its memory until the
 *    time it sent the request plus V·(1-ρ) on its clock, and only after it has processed
 *    everything ahead of the answer. So a verifier that hears nothing stops answering from
 *    memory at most V after the fault began.
 * 3. A revocation is settled here once every verifier that may hold a lease has acknowledged
 *    it, or that lease has certainly run out: V·(1+ρ) after the latest renewal this instance
 *    answered it, on this instance's clock. This instance acknowledges the revocation to the
 *    other instances only then (`RevocationFanout.gateAcknowledgements`), and a revoking call
 *    made here waits for it too.
 * Why the other instances' bounded wait still covers this instance's verifiers: a verifier's
 * lease started (its request was sent) before this instance sent the renewal that answered
 * it, and any other instance heard that renewal before a revocation committed after it, and
 * waits up to L·(1+ρ) after hearing it. With V ≤ L the verifier's lease has run out by then.
 * So V is this instance's own lease, L, and no revoking call waits longer than it does today.
 *
 * A stream that closes without a goodbye (a crash, a cut connection) keeps its lease here until
 * it has certainly run out: the verifier may not have noticed yet.
 */

export interface RevokedEvent {
  seq: number;
  sessions: { sessionId: string; userId: string; reason: string; revokedAt: string }[];
}

/** What a stream is told, in order. The transport writes these as server-sent events. */
export type StreamEvent =
  | { type: "hello"; stream: string; leaseMs: number; seq: number }
  | { type: "revoked"; data: RevokedEvent }
  | { type: "renewed"; renewal: number }
  /** This instance lost its own view (its listening connection): forget everything, lease included. */
  | { type: "reset" };

interface Stream {
  send(event: StreamEvent): void;
  open: boolean;
  acked: number;
  /** On this instance's clock, when the verifier's lease has certainly run out (0: it never had one). */
  runsOut: number;
}

interface Waiter {
  seq: number;
  pending: Map<string, number>;
  timer?: NodeJS.Timeout;
  done(): void;
}

export class VerifierLeases {
  private readonly streams = new Map<string, Stream>();
  private readonly waiters = new Set<Waiter>();
  private seq = 0;
  /** The seq of each revocation NOTIFY published recently, by its last session id. */
  private seqs = new Map<string, number>();
  private olderSeqs = new Map<string, number>();
  private seqsSince = performance.now();

  /**
   * @param leaseMs V: how long a verifier trusts a renewal (this instance's own lease, L).
   * @param renewedAfterNow resolves once every revocation committed before the call has been published.
   */
  constructor(
    readonly leaseMs: number,
    private readonly renewedAfterNow: () => Promise<void>,
  ) {}

  /** How many verifiers are connected now (for health and tests). */
  get connected(): number {
    let n = 0;
    for (const stream of this.streams.values()) if (stream.open) n++;
    return n;
  }

  /** A verifier's stream opened; answers its id. Nothing is trusted until its first renewal. */
  open(send: (event: StreamEvent) => void): string {
    const id = randomUUID();
    this.streams.set(id, { send, open: true, acked: this.seq, runsOut: 0 });
    send({ type: "hello", stream: id, leaseMs: this.leaseMs, seq: this.seq });
    return id;
  }

  /** Its connection closed without a goodbye: its lease stays until it has run out. */
  closed(id: string): void {
    const stream = this.streams.get(id);
    if (!stream) return;
    stream.open = false;
    if (stream.runsOut <= performance.now()) this.forget(id);
  }

  /** It said goodbye: it stopped answering from memory before it did. */
  left(id: string): void {
    this.forget(id);
  }

  /** False when the stream is unknown here (it belongs to another instance, or has gone). */
  acknowledged(id: string, seq: number): boolean {
    const stream = this.streams.get(id);
    if (!stream) return false;
    if (seq > stream.acked && seq <= this.seq) {
      stream.acked = seq;
      for (const waiter of this.waiters) {
        if (waiter.pending.has(id) && seq >= waiter.seq) {
          waiter.pending.delete(id);
          if (waiter.pending.size === 0) waiter.done();
        }
      }
    }
    return true;
  }

  /** A renewal request; answered on the stream once the revocations before it are there. False when unknown. */
  renew(id: string, renewal: number): boolean {
    if (!this.streams.get(id)?.open) return false;
    void this.renewedAfterNow().then(() => {
      const stream = this.streams.get(id);
      if (!stream?.open) return;
      stream.runsOut = performance.now() + this.leaseMs * (1 + CLOCK_DRIFT);
      stream.send({ type: "renewed", renewal });
    });
    return true;
  }

  /** Every revocation this instance hears, one NOTIFY at a time, in commit order. */
  publish(revocations: readonly SessionRevocation[]): void {
    const last = revocations.at(-1)?.sessionId;
    if (last === undefined) return;
    const seq = ++this.seq;
    if (performance.now() - this.seqsSince > Math.max(5000, 2 * this.leaseMs)) {
      this.olderSeqs = this.seqs;
      this.seqs = new Map();
      this.seqsSince = performance.now();
    }
    this.seqs.set(last, seq);
    if (this.streams.size === 0) return;
    const data: RevokedEvent = {
      seq,
      sessions: revocations.map((r) => ({
        sessionId: r.sessionId,
        userId: r.userId,
        reason: r.reason,
        revokedAt: r.revokedAt.toISOString(),
      })),
    };
    for (const stream of this.streams.values()) if (stream.open) stream.send({ type: "revoked", data });
  }

  /** This instance's own view lapsed: every verifier forgets its memory and its lease. */
  reset(): void {
    for (const stream of this.streams.values()) if (stream.open) stream.send({ type: "reset" });
  }

  /**
   * Undefined when the revocation whose last session is `key` needs no wait (no verifier may
   * hold a lease, or all have acknowledged it); otherwise resolves once each has, or its lease
   * has certainly run out, and never after `deadline` (this process's clock).
   */
  settled(key: string, deadline = Number.POSITIVE_INFINITY): Promise<void> | undefined {
    const seq = this.seqs.get(key) ?? this.olderSeqs.get(key);
    if (seq === undefined) return undefined;
    const now = performance.now();
    const pending = new Map<string, number>();
    for (const [id, stream] of this.streams) {
      if (stream.runsOut <= now) {
        if (!stream.open) this.forget(id);
        continue;
      }
      if (stream.acked < seq) pending.set(id, Math.min(stream.runsOut, deadline));
    }
    if (pending.size === 0) return undefined;
    return new Promise((resolve) => {
      const waiter: Waiter = {
        seq,
        pending,
        done: () => {
          clearTimeout(waiter.timer);
          this.waiters.delete(waiter);
          resolve();
        },
      };
      const check = () => {
        const at = performance.now();
        for (const [id, runsOut] of waiter.pending) if (runsOut <= at) waiter.pending.delete(id);
        if (waiter.pending.size === 0) return waiter.done();
        // Timers can fire early on this clock: re-checked, then re-armed.
        waiter.timer = setTimeout(check, Math.max(1, Math.min(...waiter.pending.values()) - at));
      };
      this.waiters.add(waiter);
      check();
    });
  }

  private forget(id: string) {
    this.streams.delete(id);
    for (const waiter of this.waiters) {
      if (waiter.pending.delete(id) && waiter.pending.size === 0) waiter.done();
    }
  }
}
