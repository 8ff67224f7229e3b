import type { Pool } from "pg";
import type { LiveConnections } from "../live/live-connections";
import type { SessionRevocation } from "../sessions/revocation/revocation";
import type { RevocationFanout } from "../sessions/revocation/revocation-fanout";
import type { VerifierLeases } from "../sessions/revocation/verifier-leases";
import type { SessionCache } from "../sessions/session-cache";
import type { Metrics } from "./metrics";

/** What the revocation path reports (sessions/revocation/wire-revocations.ts calls it). */
export interface RevocationObserver {
  /** Sessions this instance's call ended, after the commit. */
  revoked(revocations: readonly SessionRevocation[]): void;
  /** How long the revoking call waited for the other instances' acknowledgements (or their leases). */
  confirmed(seconds: number): void;
  /** An ended session's event was queued on this instance's sockets. */
  delivered(revocation: SessionRevocation): void;
}

/**
 * The metrics of the session core: revocations, the cache, sockets, the listener and its
 * lease, the backend verifiers streaming from this instance, the pool. Sizes are read at scrape time; the paths only count.
 */
export function registerCoreMetrics(
  metrics: Metrics,
  parts: { cache: SessionCache; live: LiveConnections; pool: Pool; fanout?: RevocationFanout; verifiers?: VerifierLeases },
): RevocationObserver {
  const { cache, live, pool, fanout, verifiers } = parts;
  const revocations = metrics.counter({
    name: "sessions_revoked_total",
    help: "Sessions ended by this instance's calls and sweeps, by reason (LOGOUT, REFRESH_TOKEN_REUSE, EXPIRED, ...).",
    labelNames: ["reason"],
  });
  const confirmWait = metrics.histogram({
    name: "revocation_confirm_wait_seconds",
    help: "How long a revoking call waited, after its commit, for every other instance's acknowledgement (or for their leases to run out).",
  });
  const delivery = metrics.histogram({
    name: "revocation_delivery_seconds",
    help: "From the revoking transaction (revoked_at, the database's clock) to the event queued on this instance's sockets; observed by every instance that delivers it.",
  });

  metrics.counter({ name: "session_cache_hits_total", help: "Session checks answered from memory.", collect: () => cache.hits });
  metrics.counter({
    name: "session_cache_misses_total",
    help: "Session checks memory could not answer (absent, or memory not trusted): read from the database.",
    collect: () => cache.misses,
  });
  metrics.gauge({ name: "session_cache_entries", help: "Sessions held in the cache.", collect: () => cache.size });
  metrics.gauge({ name: "live_sockets", help: "Open, acknowledged WebSockets on this instance.", collect: () => live.size });
  metrics.gauge({
    name: "live_subscriptions",
    help: "Active subscriptions on this instance's WebSockets.",
    collect: () => live.subscriptionCount,
  });

  metrics.gauge({
    name: "db_pool_connections",
    help: "Connections in the pool (busy and idle).",
    collect: () => pool.totalCount,
  });
  metrics.gauge({ name: "db_pool_idle_connections", help: "Idle connections in the pool.", collect: () => pool.idleCount });
  metrics.gauge({
    name: "db_pool_waiting_requests",
    help: "Requests waiting for a pool connection (sustained > 0: the pool or the database is the bottleneck).",
    collect: () => pool.waitingCount,
  });

  if (fanout) {
    let trustedUntil = 0;
    fanout.onLeaseRenewed((until) => (trustedUntil = until));
    fanout.onConnectionChange((connected) => {
      if (!connected) trustedUntil = 0;
    });
    metrics.gauge({
      name: "revocation_lease_held",
      help: "1 while this instance's lease holds (it heard its last renewal back in time and may answer from memory), else 0.",
      collect: () => (performance.now() < trustedUntil ? 1 : 0),
    });
    metrics.gauge({
      name: "revocation_listener_connected",
      help: "1 while the revocation listener (LISTEN) is connected and caught up, else 0.",
      collect: () => (fanout.connected ? 1 : 0),
    });
    const reconnects = metrics.counter({
      name: "revocation_listener_reconnects_total",
      help: "Times the revocation listener came back after losing its connection.",
    });
    if (verifiers) {
      metrics.gauge({
        name: "verifiers_connected",
        help: "Backend session verifiers (@session-api/backend) streaming from this instance: a revoking call waits for each one's acknowledgement.",
        collect: () => verifiers.connected,
      });
    }
    let everConnected = false;
    fanout.onConnectionChange((connected) => {
      if (!connected) return;
      if (everConnected) reconnects.inc();
      everConnected = true;
    });
  }

  return {
    revoked(list) {
      for (const revocation of list) revocations.inc({ reason: revocation.reason });
    },
    confirmed: (seconds) => confirmWait.observe(seconds),
    delivered: (revocation) => delivery.observe(Math.max(0, (Date.now() - revocation.revokedAt.getTime()) / 1000)),
  };
}

/** The pool's statements, timed by the pg client (db/pg-timeouts.ts). */
export function queryDurationObserver(metrics: Metrics): (seconds: number) => void {
  const durations = metrics.histogram({
    name: "db_query_duration_seconds",
    help: "Statements on the pool, from sending to the answer (failed ones included).",
  });
  return (seconds) => durations.observe(seconds);
}
