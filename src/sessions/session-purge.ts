import type { Logger } from "../lib/logger";
import { PeriodicTask } from "../lib/periodic-task";
import { DEVICE_MEMORY_SECONDS } from "./device-id";
import type { SessionStore } from "./session.store";

export interface PurgePolicy {
  /** Seconds an ended session is kept (for mySecurityEvents' context and forensics) before deletion. */
  retention: number;
  /** SESSION_IDLE_TTL: a session idle this long has ended even if nobody marked it. */
  idleTtl: number;
  /** Milliseconds between runs. */
  intervalMs: number;
}

const BATCH = 1000;

/**
 * Deletes session rows that ended (revoked, or past their absolute or idle deadline) more
 * than `retention` seconds ago, and remembered devices unseen for longer than a device cookie
 * lives (DEVICE_MEMORY_SECONDS), then runs `alsoPurge` (login-throttle counters whose window
 * has passed).
 *
 * Safe with any number of instances: each batch takes its rows with FOR UPDATE SKIP LOCKED,
 * so two instances never wait on or fight over the same rows, and deleting what is already
 * gone is a no-op. Marking newly expired sessions as revoked (for live notifications) is a
 * different job; this one only forgets rows nobody can use any more. Security events are
 * kept: they reference sessions by id without a foreign key.
 */
export class SessionPurge {
  private readonly task: PeriodicTask;

  constructor(
    private readonly store: SessionStore,
    private readonly policy: PurgePolicy,
    logger: Logger,
    private readonly alsoPurge: () => Promise<void> = async () => undefined,
  ) {
    this.task = new PeriodicTask(
      async () => {
        const deleted = await this.deleteExpiredSessions();
        if (deleted > 0) logger.info({ deleted }, "purged ended sessions");
        const forgotten = await this.forgetUnseenDevices();
        if (forgotten > 0) logger.info({ forgotten }, "forgot devices unseen for longer than a device cookie lives");
      },
      policy.intervalMs,
      (error) => logger.error({ err: error }, "session purge failed"),
    );
  }

  /** One pass; returns how many session rows were deleted. */
  async deleteExpiredSessions(): Promise<number> {
    let total = 0;
    for (;;) {
      const deleted = await this.store.deleteExpiredSessions({
        retention: this.policy.retention,
        idleTtl: this.policy.idleTtl,
        limit: BATCH,
      });
      total += deleted;
      if (deleted < BATCH) break;
    }
    await this.alsoPurge();
    return total;
  }

  /** One pass over the remembered devices; returns how many were forgotten. */
  async forgetUnseenDevices(): Promise<number> {
    let total = 0;
    for (;;) {
      const deleted = await this.store.forgetUnseenDevices({ unseenFor: DEVICE_MEMORY_SECONDS, limit: BATCH });
      total += deleted;
      if (deleted < BATCH) return total;
    }
  }

  start(): void {
    this.task.start();
  }

  stop(): Promise<void> {
    return this.task.stop();
  }
}
