import type { SessionCache } from "../session-cache";
import type { RevocationConsumer, SessionEvents } from "./revocation";
import type { RevocationFanout } from "./revocation-fanout";

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
 * 4. Memory answers only within the lease the fanout renews. When the fanout's connection is
 *    lost the cache is emptied; once it is back, the sockets re-read what they may have
 *    missed (resync), and the next renewal lets the cache answer again.
 */
export function wireRevocations(parts: {
  events: SessionEvents;
  cache: SessionCache;
  /** Absent only where nothing else listens (a single in-process instance, the benchmark). */
  fanout?: RevocationFanout;
  sockets: RevocationConsumer;
}): void {
  const { events, cache, fanout, sockets } = parts;
  events.onSessionsRevoked(async (revocations) => {
    const committedAt = performance.now();
    cache.invalidate(revocations.map((r) => r.sessionId));
    await fanout?.confirm(revocations, committedAt);
  });
  events.onUserChanged((userId) => cache.invalidateUser(userId));
  if (!fanout) {
    cache.trustUntil(Infinity); // nobody else can revoke behind this process's back
    return;
  }
  fanout.onRevoked((revocations) => {
    cache.invalidate(revocations.map((r) => r.sessionId));
    sockets.deliver(revocations);
  });
  fanout.onCreated((created) => sockets.deliverCreated(created));
  fanout.onResync((since) => sockets.resync(since));
  fanout.onConnectionChange(() => cache.forget());
  fanout.onLeaseRenewed((until) => cache.trustUntil(until));
}
