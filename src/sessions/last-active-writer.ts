import { PeriodicTask } from "../lib/periodic-task";
import type { SessionEntity } from "./session.entity";

/**
 * Keeps `lastActiveAt` honest without a write per request (the Lucia habit): a session is
 * queued only when its stored value is older than `interval`, and the queue is flushed as one
 * UPDATE every `flushEvery` ms. A session is queued at most once until its stored value is
 * refreshed, so a busy device costs one write per interval.
 */
export class LastActiveWriter {
  private readonly pending = new Set<string>();
  private readonly queuedAt = new Map<string, number>();
  private readonly task: PeriodicTask;
  private flushing: Promise<void> = Promise.resolve();
  /** Writes issued so far (statements, not rows). */
  writes = 0;

  constructor(
    private readonly write: (ids: string[]) => Promise<void>,
    private readonly intervalMs: number,
    flushEveryMs = 1000,
    private readonly onError: (error: unknown) => void = () => undefined,
  ) {
    // A tick with nothing queued does nothing.
    this.task = new PeriodicTask(() => this.flush(), flushEveryMs, onError);
    this.task.start();
  }

  /**
   * Called for every authenticated request; almost always returns at the first check. When
   * it queues a write it also moves `session.lastActiveAt`, so a cached copy of the session
   * keeps its idle deadline current without another read.
   */
  seen(session: SessionEntity, now = Date.now()): void {
    if (now - session.lastActiveAt.getTime() < this.intervalMs) return;
    const queued = this.queuedAt.get(session.id);
    if (queued !== undefined && now - queued < this.intervalMs) return;
    this.queuedAt.set(session.id, now);
    this.pending.add(session.id);
    session.lastActiveAt = new Date(now);
  }

  async flush(): Promise<void> {
    if (this.pending.size === 0) return this.flushing;
    const ids = [...this.pending];
    this.pending.clear();
    this.writes++;
    this.flushing = this.flushing
      .then(() => this.write(ids))
      .catch(this.onError)
      .finally(() => {
        // Forget ids whose interval has passed so the map stays small.
        const cutoff = Date.now() - this.intervalMs;
        for (const [id, at] of this.queuedAt) if (at < cutoff) this.queuedAt.delete(id);
      });
    return this.flushing;
  }

  /** Stops the ticks and writes what is still queued. */
  async close(): Promise<void> {
    await this.task.stop();
    await this.flush();
  }
}
