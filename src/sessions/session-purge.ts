import type { DataSource } from "typeorm";
import type { Logger } from "../lib/logger";

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
 * than `retention` seconds ago, and login-throttle counters whose window has passed.
 *
 * Safe with any number of instances: each batch takes its rows with FOR UPDATE SKIP LOCKED,
 * so two instances never wait on or fight over the same rows, and deleting what is already
 * gone is a no-op. Marking newly expired sessions as revoked (for live notifications) is a
 * different job; this one only forgets rows nobody can use any more. Security events are
 * kept: they reference sessions by id without a foreign key.
 */
export class SessionPurge {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly db: DataSource,
    private readonly policy: PurgePolicy,
    private readonly logger: Logger,
  ) {}

  /** One pass; returns how many session rows were deleted. */
  async deleteExpiredSessions(): Promise<number> {
    let total = 0;
    for (;;) {
      const result = (await this.db.query(
        `DELETE FROM sessions WHERE id IN (
           SELECT id FROM sessions
            WHERE (revoked_at IS NOT NULL AND revoked_at < now() - make_interval(secs => $1))
               OR expires_at < now() - make_interval(secs => $1)
               OR last_active_at < now() - make_interval(secs => $1 + $2)
            LIMIT ${BATCH}
            FOR UPDATE SKIP LOCKED)`,
        [this.policy.retention, this.policy.idleTtl],
      )) as [unknown, number];
      const deleted = result[1] ?? 0;
      total += deleted;
      if (deleted < BATCH) break;
    }
    await this.db.query("DELETE FROM login_throttle WHERE expire < $1", [Date.now()]);
    return total;
  }

  start(): void {
    this.timer = setInterval(() => {
      this.running = this.deleteExpiredSessions()
        .then((n) => n > 0 && this.logger.info({ deleted: n }, "purged ended sessions"))
        .catch((error: unknown) => this.logger.error({ err: error }, "session purge failed"));
    }, this.policy.intervalMs).unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }
}
