import DataLoader from "dataloader";
import { LRUCache } from "lru-cache";
import type { SessionEntity } from "./session.entity";

/**
 * The per-request revocation check at the cost of a map lookup.
 *
 * Live sessions (with their user) are kept in memory so most requests never reach the
 * database. The cache is exact, not eventually right:
 * - this instance's own revocations delete their entries synchronously, after the commit
 *   and before the mutation answers (SessionService → SessionEventSink → invalidate);
 * - other instances' revocations arrive over the LISTEN/NOTIFY fan-out and delete theirs, and
 *   the revoking call answers only once they have (or could no longer answer from memory);
 * - memory is trusted only until `trustedUntil`, a time on this process's monotonic clock
 *   that the fan-out moves forward with each lease renewal it hears back: an instance that can
 *   no longer hear revocations stops answering from memory within its lease (see
 *   instance-leases.ts), and reads the database instead;
 * - on a lost listening connection it is emptied, and memory is void until the next lease;
 * - a load that raced an invalidation is not stored (the epoch check below);
 * - an entry lives at most `maxAgeMs`, a last bound on anything missed;
 * - only "alive" is answered from memory: a cached entry that looks expired is re-read,
 *   since another instance may have recorded newer activity.
 *
 * Misses are coalesced: concurrent requests for one session share one query (DataLoader
 * batches within a tick, without caching; the LRU is the cache).
 */
export class SessionCache {
  private readonly entries: LRUCache<string, SessionEntity>;
  private readonly loader: DataLoader<string, SessionEntity | null>;
  /** performance.now() before which memory may answer; 0 until the first lease. */
  private trustedUntil = 0;
  /** Bumped by every invalidation; a load started under an older epoch is not stored. */
  private epoch = 0;
  /** Checks `peek` answered, and could not (plain counts: read by the metrics when scraped). */
  hits = 0;
  misses = 0;

  constructor(load: (ids: readonly string[]) => Promise<(SessionEntity | null)[]>, options: { max: number; maxAgeMs: number }) {
    this.entries = new LRUCache({ max: options.max, ttl: options.maxAgeMs, ttlAutopurge: false });
    this.loader = new DataLoader(load, { cache: false });
  }

  /** The entry in memory, when memory may be trusted: the request path's no-await fast path. */
  peek(sessionId: string): SessionEntity | undefined {
    const session = performance.now() < this.trustedUntil ? this.entries.get(sessionId) : undefined;
    if (session) this.hits++;
    else this.misses++;
    return session;
  }

  /** Always the database: for sensitive checks and to confirm a negative answer. */
  async load(sessionId: string): Promise<SessionEntity | null> {
    const epoch = this.epoch;
    const session = await this.loader.load(sessionId);
    if (session && !session.revokedAt && epoch === this.epoch && performance.now() < this.trustedUntil)
      this.entries.set(sessionId, session);
    return session;
  }

  invalidate(sessionIds: Iterable<string>): void {
    this.epoch++;
    for (const id of sessionIds) this.entries.delete(id);
  }

  /**
   * Drops every session of a user, after a change to the user's own data (email). Other
   * instances keep their copy until its `maxAgeMs`: that bounds how long `me` may show an
   * old email there; it never bears on whether a session is alive.
   */
  invalidateUser(userId: string): void {
    this.epoch++;
    for (const [id, session] of this.entries.entries()) if (session.userId === userId) this.entries.delete(id);
  }

  /** Memory may answer until `until` (performance.now() time): the lease the fan-out holds. */
  trustUntil(until: number): void {
    this.trustedUntil = until;
  }

  /**
   * Empties the cache and trusts nothing until the next `trustUntil`: revocations may have been
   * missed (the listening connection was lost, or has just been replaced), and no load that
   * started before this may be stored.
   */
  forget(): void {
    this.epoch++;
    this.entries.clear();
    this.trustedUntil = 0;
  }

  get size(): number {
    return this.entries.size;
  }
}
