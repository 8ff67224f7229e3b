/**
 * Runs `run` every `intervalMs`, never two runs at once: a tick that finds the previous run
 * still going is skipped (that run is doing the work). A failed run goes to `onError` and the
 * next tick runs as usual. The timer is unref'd, so it never keeps the process alive.
 */
export class PeriodicTask {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | null = null;

  constructor(
    private readonly run: () => Promise<unknown>,
    private readonly intervalMs: number,
    private readonly onError: (error: unknown) => void,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => void this.runNow(), this.intervalMs).unref();
  }

  /** Runs now, unless a run is in progress; resolves when the run ends (never rejects). */
  runNow(): Promise<void> {
    this.running ??= this.run()
      .then(
        () => undefined,
        (error: unknown) => this.onError(error),
      )
      .finally(() => (this.running = null));
    return this.running;
  }

  /** Clears the timer and waits for the run in progress: nothing runs after this resolves. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
