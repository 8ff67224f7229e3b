import type { SessionCache } from "../session-cache";
import { CLOCK_DRIFT } from "./instance-leases";
import type { RevocationConsumer, SessionEvents, SessionRevocation } from "./revocation";
import type { RevocationFanout } from "./revocation-fanout";
import type { VerifierLeases } from "./verifier-leases";

/**
 * How a session ends, from the revoking statement to the last socket:
 * 1. One statement marks the rows revoked, writes their audit-log entry and NOTIFYs them, in
 *    the revoking transaction (SessionStore.revoke): nothing ends unlogged or unannounced.
 * 2. After the commit, the service reports them to `events`: this instance's cache drops them
 *    first, then the call waits (`fanout.confirm`) until every other instance has acknowledged
 *    them or can no longer answer from memory (instance-leases.ts): at most the lease.
 * 3. Every instance, this one included, hears the NOTIFY on its fanout: its cache drops the
 *    sessions, it acknowledges them, then its sockets hear the event and the ended sessions'
 *    sockets close.
 * 4. The session verifiers connected here (`@session-api/backend`) get every revocation on
 *    their streams; this instance acknowledges a revocation to the others only once its
 *    verifiers have, or their leases have run out, and a revoking call made here waits for its
 *    own verifiers too (verifier-leases.ts).
 * 5. Memory answers only within the lease the fanout renews. When the fanout's connection is
 *    lost the cache is emptied; once it is back, the sockets re-read what they may have
 *    missed (resync), and the next renewal lets the cache answer again.
 */
export function wireRevocations(parts: {
  events: SessionEvents;
  cache: SessionCache;
  /** Absent only where nothing else listens (a single in-process instance, the benchmark). */
  fanout?: RevocationFanout;
  sockets: RevocationConsumer;
  /** The verifiers' leases; present whenever `fanout` is. */
  verifiers?: VerifierLeases;
  /** The metrics (metrics/core-metrics.ts): counts and timings, nothing the path waits on. */
  observer?: {
    revoked(revocations: readonly SessionRevocation[]): void;
    confirmed(seconds: number): void;
  };
}): void {
  const { events, cache, fanout, sockets, verifiers, observer } = parts;
  events.onSessionsRevoked(async (revocations) => {
    const committedAt = performance.now();
    cache.invalidate(revocations.map((r) => r.sessionId));
    observer?.revoked(revocations);
    await fanout?.confirm(revocations, committedAt);
    const last = revocations.at(-1)?.sessionId;
    if (fanout && verifiers && last !== undefined) {
      await verifiers.settled(last, committedAt + verifiers.leaseMs * (1 + CLOCK_DRIFT));
    }
    observer?.confirmed((performance.now() - committedAt) / 1000);
  });
  events.onUserChanged((userId) => cache.invalidateUser(userId));
  if (!fanout) {
    cache.trustUntil(Infinity); // nobody else can revoke behind this process's back
    return;
  }
  fanout.onRevoked((revocations) => {
    cache.invalidate(revocations.map((r) => r.sessionId));
    verifiers?.publish(revocations);
    sockets.deliver(revocations);
  });
  if (verifiers) fanout.gateAcknowledgements((key) => verifiers.settled(key));
  fanout.onCreated((created) => sockets.deliverCreated(created));
  fanout.onResync((since) => sockets.resync(since));
  fanout.onConnectionChange((connected) => {
    cache.forget();
    if (!connected) verifiers?.reset();
  });
  fanout.onLeaseRenewed((until) => cache.trustUntil(until));
}
