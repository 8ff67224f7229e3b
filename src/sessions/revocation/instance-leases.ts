/**
 * Leases and acknowledgements: what makes a revocation exact across instances.
 *
 * The contract (L = REVOCATION_LEASE_MS, ρ = CLOCK_DRIFT):
 * 1. When a revoking call returns on any instance, every instance has either dropped the
 *    revoked sessions from memory (it acknowledged them) or has stopped answering from memory,
 *    and answers from memory again only after it has processed that revocation. A request that
 *    reaches any instance after the call returned is therefore refused.
 * 2. An instance answers from memory only within L of sending a lease renewal that it has
 *    heard come back, timed on its own monotonic clock. So one that can no longer hear
 *    revocations (a partition that resets nothing, a dead listener, a stalled process) stops
 *    answering from memory at most L after the fault began, and then reads the database.
 * 3. A revoking call waits for the acknowledgement of every instance that may hold a lease,
 *    and for one it cannot confirm, until that instance's lease has certainly run out: in all
 *    at most L·(1+ρ) after its commit, never longer.
 * It assumes that every instance's monotonic clock runs within ±ρ of real time, and that
 * PostgreSQL delivers notifications in commit order (a single queue, read in order, stopping
 * at the first uncommitted entry). It assumes nothing about wall clocks or their agreement.
 *
 * Why it holds. A renewal is a NOTIFY on the control channel, sent by the instance on its own
 * listening connection; the instance extends its lease only when it hears that NOTIFY back,
 * to t0 + L·(1-ρ) on its clock, where t0 is when it sent the renewal. Hearing it means every
 * notification committed before it has been processed, the revocations among them (their
 * sessions dropped). So a lease extended by a renewal that committed after a revocation is
 * harmless; the renewals that matter committed before it, were sent before it, and give leases
 * that end, in real time, less than L after the revocation committed, and less than L after
 * any other instance heard them (it heard them after they were sent). The revoker heard
 * those renewals before its own revocation's NOTIFY (same order), each at local time h, and
 * waits for that instance's acknowledgement no longer than h + L·(1+ρ) on its own clock (at
 * least L in real time). An instance that just started listening cannot have heard earlier
 * renewals: it reads the instance_leases table after LISTEN and treats every row renewed in
 * the last minute (by the database's clock: the one use of it, with a margin of a minute
 * over the longest lease) as renewed then.
 *
 * What it does not cover: a request that passed the session check before the revoking call
 * returned may still be answered after it (it was concurrent with the revocation). Clocks that
 * run faster or slower than ±ρ shorten the margin by the difference.
 *
 * An acknowledgement names the last revocation NOTIFY the instance has processed; since every
 * instance hears them in the same order, the revoker compares places in its own order. After
 * an instance loses its listening connection it empties its cache, so what it acknowledges on
 * the next one covers the revocations it never heard, too.
 */

/** How far any instance's monotonic clock may run from real time, as a rate (0.1 %). */
export const CLOCK_DRIFT = 0.001;

/** The durations derived from the lease. */
export interface LeaseTimes {
  leaseMs: number;
  /** How long an instance trusts its memory after sending a renewal it heard back, on its clock. */
  ownMs: number;
  /** How long another instance counts that renewal as possibly live, after hearing it, on its clock. */
  peerMs: number;
  /** How often an instance renews (four chances per lease). */
  renewEveryMs: number;
}

export function leaseTimes(leaseMs: number): LeaseTimes {
  return { leaseMs, ownMs: leaseMs * (1 - CLOCK_DRIFT), peerMs: leaseMs * (1 + CLOCK_DRIFT), renewEveryMs: leaseMs / 4 };
}

/** This instance's own lease: renewals sent, and until when memory may be trusted. */
export class OwnLease {
  private readonly sent = new Map<number, number>();
  private next = 1;
  private until = 0;

  constructor(
    private readonly ownMs: number,
    private readonly renewed: (trustedUntil: number, renewal: number) => void,
  ) {}

  /** The number the next renewal will carry: one heard at or past it was sent after now. */
  get upcoming(): number {
    return this.next;
  }

  /** Numbers a renewal about to be sent, and notes when. */
  sending(): number {
    const n = this.next++;
    this.sent.set(n, performance.now());
    return n;
  }

  /** Renewal `n` came back: every notification committed before it has been processed. */
  heard(n: number): void {
    const sentAt = this.sent.get(n);
    if (sentAt === undefined) return;
    for (const k of this.sent.keys()) if (k <= n) this.sent.delete(k);
    this.until = Math.max(this.until, sentAt + this.ownMs);
    this.renewed(this.until, n);
  }

  /** The connection they were sent on is gone: renewals in flight no longer count. */
  lost(): void {
    this.sent.clear();
    this.until = 0;
  }
}

interface Peer {
  /** Local time the latest renewal of this instance was heard (or it was read from the table). */
  heardAt: number;
  /** The highest place in our order of revocation NOTIFYs it has acknowledged. */
  acked: number;
}

interface Waiter {
  place: number;
  /** Peers yet to acknowledge, each with the time its lease has certainly run out. */
  pending: Map<string, number>;
  timer?: NodeJS.Timeout;
  done(): void;
}

/**
 * The other instances as this one hears them: their renewals, their acknowledgements, and
 * the revoking calls waiting for them. Places are counted in the order this instance hears
 * revocation NOTIFYs, which is every instance's order.
 */
export class PeerLeases {
  private readonly peers = new Map<string, Peer>();
  private readonly waiters = new Set<Waiter>();
  /** The last session id of each revocation NOTIFY heard recently, and its place. */
  private places = new Map<string, number>();
  private olderPlaces = new Map<string, number>();
  private placesSince = performance.now();
  private lastPlace = 0;
  /** False from a lost connection until the table has been read on the next one. */
  private complete = false;

  constructor(
    private readonly self: string,
    private readonly peerMs: number,
  ) {}

  /** A revocation NOTIFY whose last session is `key` was processed; answers its place. */
  revocationHeard(key: string): number {
    // Kept well past any wait (peerMs) so that an acknowledgement naming it can be placed.
    if (performance.now() - this.placesSince > Math.max(5000, 2 * this.peerMs)) {
      this.olderPlaces = this.places;
      this.places = new Map();
      this.placesSince = performance.now();
    }
    const place = ++this.lastPlace;
    this.places.set(key, place);
    return place;
  }

  placeOf(key: string): number | undefined {
    return this.places.get(key) ?? this.olderPlaces.get(key);
  }

  renewalHeard(instanceId: string): void {
    if (instanceId === this.self) return;
    const peer = this.peers.get(instanceId);
    if (peer) peer.heardAt = performance.now();
    else this.peers.set(instanceId, { heardAt: performance.now(), acked: 0 });
  }

  /** `instanceId` has processed every revocation NOTIFY up to the one whose last session is `key`. */
  acknowledged(instanceId: string, key: string): void {
    const place = this.placeOf(key);
    const peer = this.peers.get(instanceId);
    if (place === undefined || !peer || place <= peer.acked) return;
    peer.acked = place;
    for (const waiter of this.waiters) {
      if (waiter.pending.has(instanceId) && place >= waiter.place) {
        waiter.pending.delete(instanceId);
        this.settle(waiter);
      }
    }
  }

  /** It stopped (after it stopped answering): nothing more to wait for from it. */
  left(instanceId: string): void {
    this.peers.delete(instanceId);
    for (const waiter of this.waiters) if (waiter.pending.delete(instanceId)) this.settle(waiter);
  }

  /** Our listening connection is gone: renewals are being missed until the table is read again. */
  lost(): void {
    this.complete = false;
  }

  /** Right after LISTEN: every instance in the table may hold a lease we did not hear renewed. */
  seed(instanceIds: readonly string[]): void {
    for (const id of instanceIds) this.renewalHeard(id);
    this.complete = true;
  }

  /**
   * Resolves once every other instance that may hold a lease has acknowledged `place`, or its
   * lease has certainly run out, and never after `deadline`; answers the instances whose lease
   * ran out unacknowledged (or `null` when who may hold one is not known: then it waits until
   * `deadline`).
   */
  waitForAcknowledgements(place: number, deadline: number): Promise<string[] | null> {
    const now = performance.now();
    const pending = new Map<string, number>();
    if (this.complete) {
      for (const [id, peer] of this.peers) {
        const runsOut = peer.heardAt + this.peerMs;
        if (runsOut <= now) this.peers.delete(id);
        else if (peer.acked < place) pending.set(id, Math.min(runsOut, deadline));
      }
      if (pending.size === 0) return Promise.resolve([]);
    }
    const unknown = !this.complete;
    const expired: string[] = [];
    return new Promise((resolve) => {
      const waiter: Waiter = {
        place,
        pending: unknown ? new Map([["", deadline]]) : pending,
        done: () => {
          clearTimeout(waiter.timer);
          this.waiters.delete(waiter);
          resolve(unknown ? null : expired);
        },
      };
      const check = () => {
        const at = performance.now();
        for (const [id, runsOut] of waiter.pending) {
          if (runsOut <= at) {
            waiter.pending.delete(id);
            if (id) expired.push(id);
          }
        }
        if (waiter.pending.size === 0) return waiter.done();
        // Timers can fire early on this clock (theirs is the event loop's cached time): re-checked, then re-armed.
        waiter.timer = setTimeout(check, Math.max(1, Math.min(...waiter.pending.values()) - at));
      };
      this.waiters.add(waiter);
      check();
    });
  }

  private settle(waiter: Waiter) {
    if (waiter.pending.size === 0) waiter.done();
  }
}
