import type { Logger } from "../lib/logger";
import type { SessionService } from "./session.service";

/**
 * Every `intervalMs`, marks sessions that have passed their absolute or idle deadline as
 * revoked with reason EXPIRED, which publishes them to live clients like any revocation.
 * Every instance runs one; the claim is per row (SKIP LOCKED), so each session is marked once.
 * Sockets do not wait for it: each also has a timer at its own session's deadline.
 */
export class ExpirySweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly sessions: SessionService,
    private readonly logger: Logger,
    private readonly intervalMs: number,
    private readonly batchSize = 5000,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      this.running = this.running.then(async () => void (await this.sweep()));
    }, this.intervalMs);
    this.timer.unref();
  }

  /** Sweeps until no expired session is left; returns how many were marked. */
  async sweep(): Promise<number> {
    let total = 0;
    try {
      for (;;) {
        const batch = await this.sessions.revokeExpiredSessions({ limit: this.batchSize });
        total += batch.length;
        if (batch.length < this.batchSize) break;
      }
    } catch (error) {
      this.logger.error({ err: error }, "sweeping expired sessions failed");
    }
    return total;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
