import { serviceUnavailable } from "../errors/error-codes";

/**
 * The bounded queue in front of every password hash and verification (scrypt: about half a
 * second of a libuv thread and 128 MiB each, at production cost). At most `concurrency` run at
 * once and at most `maxWaiting` wait; past that the caller gets SERVICE_UNAVAILABLE (503 with
 * Retry-After) at once, instead of joining a queue with no end: a flood of registrations or
 * guesses then costs the flooder refusals, and a sign-in waits at most `maxWaiting /
 * concurrency` hashes. Authenticated requests never come here, so it costs them nothing.
 */
export class PasswordQueue {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  /** Hashes asked of the queue so far, refused ones included (the benchmark shows the hot path asks none). */
  requested = 0;

  constructor(
    private readonly concurrency: number,
    private readonly maxWaiting: number,
  ) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    this.requested++;
    if (this.running < this.concurrency) this.running++;
    else if (this.waiting.length >= this.maxWaiting) throw serviceUnavailable();
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await work();
    } finally {
      // The slot passes straight to the next in line, so `running` never dips in between.
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}
