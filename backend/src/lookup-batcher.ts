/** One session as the API's lookup answers it. */
export type SessionLookup =
  | { sessionId: string; userId: string; alive: true; expiresAt: string }
  | { sessionId: string; userId: string | null; alive: false; reason: string };

const MAX_BATCH = 500;

/**
 * DataLoader-style batching of `POST /sessions/lookup`: every session asked for in one turn
 * of the event loop goes in one request (500 at most; more are split), and concurrent asks for
 * one session share its answer. Nothing is cached here: the verifier decides what to keep.
 */
export class LookupBatcher {
  private queue = new Map<string, { resolve(value: SessionLookup): void; reject(error: unknown): void }[]>();
  private scheduled = false;
  /** Requests sent (tests count them). */
  requests = 0;

  constructor(
    private readonly url: string,
    private readonly serviceKey: string,
    private readonly fetchImpl: typeof fetch,
    private readonly timeoutMs: number,
  ) {}

  load(sessionId: string): Promise<SessionLookup> {
    return new Promise((resolve, reject) => {
      const waiting = this.queue.get(sessionId);
      if (waiting) waiting.push({ resolve, reject });
      else this.queue.set(sessionId, [{ resolve, reject }]);
      if (!this.scheduled) {
        this.scheduled = true;
        // After every promise of this turn has run, as DataLoader does: concurrent requests
        // (their signatures checked synchronously) land in one batch.
        setImmediate(() => this.dispatch());
      }
    });
  }

  private dispatch() {
    this.scheduled = false;
    const batch = this.queue;
    this.queue = new Map();
    const ids = [...batch.keys()];
    for (let i = 0; i < ids.length; i += MAX_BATCH) void this.send(ids.slice(i, i + MAX_BATCH), batch);
  }

  private async send(ids: string[], batch: Map<string, { resolve(value: SessionLookup): void; reject(error: unknown): void }[]>) {
    try {
      this.requests++;
      const response = await this.fetchImpl(this.url, {
        method: "POST",
        headers: { authorization: `ApiKey ${this.serviceKey}`, "content-type": "application/json" },
        body: JSON.stringify({ sessionIds: ids }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      if (!response.ok) {
        await response.body?.cancel().catch(() => undefined);
        throw new Error(`session verifier: the session lookup was refused (${response.status})`);
      }
      const { sessions } = (await response.json()) as { sessions: SessionLookup[] };
      const byId = new Map(sessions.map((s) => [s.sessionId, s]));
      for (const id of ids) {
        const answer = byId.get(id);
        for (const waiter of batch.get(id) ?? []) {
          if (answer) waiter.resolve(answer);
          else waiter.reject(new Error("session verifier: the lookup left a session unanswered"));
        }
      }
    } catch (error) {
      for (const id of ids) for (const waiter of batch.get(id) ?? []) waiter.reject(error);
    }
  }
}
