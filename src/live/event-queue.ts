/**
 * A push-driven async iterator for one subscription. graphql-ws asks for the next value only
 * after the previous one was handed to the socket (graphql-ws-transport.ts), so "the consumer
 * is waiting and nothing is buffered" means everything pushed so far is on the socket, ahead
 * of anything written later: `whenDrained` resolves then. The registry closes a revoked socket
 * only after that, so its close frame follows its last event and cannot overtake it.
 */
export class EventQueue<T> implements AsyncIterableIterator<T> {
  private readonly buffer: T[] = [];
  private waiting: ((result: IteratorResult<T>) => void) | null = null;
  private drainedWaiters: (() => void)[] = [];
  private done = false;

  constructor(private readonly onEnd: () => void) {}

  push(value: T): void {
    if (this.done) return;
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = null;
      resolve({ value, done: false });
    } else {
      this.buffer.push(value);
    }
  }

  get drained(): boolean {
    return this.done || (this.buffer.length === 0 && this.waiting !== null);
  }

  whenDrained(): Promise<void> {
    if (this.drained) return Promise.resolve();
    return new Promise((resolve) => this.drainedWaiters.push(resolve));
  }

  next(): Promise<IteratorResult<T>> {
    if (this.buffer.length > 0) return Promise.resolve({ value: this.buffer.shift() as T, done: false });
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    const result = new Promise<IteratorResult<T>>((resolve) => (this.waiting = resolve));
    this.notifyDrained();
    return result;
  }

  return(): Promise<IteratorResult<T>> {
    if (!this.done) {
      this.done = true;
      this.waiting?.({ value: undefined, done: true });
      this.waiting = null;
      this.buffer.length = 0;
      this.notifyDrained();
      this.onEnd();
    }
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private notifyDrained() {
    const waiters = this.drainedWaiters;
    this.drainedWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
