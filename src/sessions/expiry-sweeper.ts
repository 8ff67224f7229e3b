import type { Logger } from "../lib/logger";
import { PeriodicTask } from "../lib/periodic-task";
import type { SessionService } from "./session.service";

/**
 * Every `intervalMs`, marks sessions that have passed their absolute or idle deadline as
 * revoked with reason EXPIRED, which publishes them to live clients like any revocation.
 * Every instance runs one; the claim is per row (SKIP LOCKED), so each session is marked once.
 * Sockets do not wait for it: each also has a timer at its own session's deadline.
 */
export class ExpirySweeper {
  private readonly task: PeriodicTask;

  constructor(
    private readonly sessions: SessionService,
    logger: Logger,
    intervalMs: number,
    private readonly batchSize = 5000,
  ) {
    this.task = new PeriodicTask(
      () => this.sweep(),
      intervalMs,
      (error) => logger.error({ err: error }, "sweeping expired sessions failed"),
    );
  }

  start(): void {
    this.task.start();
  }

  /** Sweeps until no expired session is left; returns how many were marked. */
  async sweep(): Promise<number> {
    let total = 0;
    for (;;) {
      const batch = await this.sessions.revokeExpiredSessions({ limit: this.batchSize });
      total += batch.length;
      if (batch.length < this.batchSize) return total;
    }
  }

  stop(): Promise<void> {
    return this.task.stop();
  }
}
