import type { Pool } from "pg";
import { RateLimiterPostgres, RateLimiterRes } from "rate-limiter-flexible";
import { rateLimited } from "../errors/error-codes";

/**
 * The per-IP budget of `register`: every call spends a point, in PostgreSQL beside the login
 * throttle's counters (`login_throttle`, prefix `register`), so every instance shares it.
 * Every call counts, a taken email included: each costs a full password hash, and each
 * answer (EMAIL_TAKEN or not) tells whether an address has an account. The window is fixed
 * from the first call, so a refusal never extends it. No IP (a Unix socket) is not counted.
 */
export class RegisterBudget {
  private readonly limiter: RateLimiterPostgres;

  constructor(pool: Pool, policy: { maxPerIp: number; windowSeconds: number }, schemaName?: string) {
    this.limiter = new RateLimiterPostgres({
      storeClient: pool,
      storeType: "pool",
      tableName: "login_throttle",
      schemaName,
      tableCreated: true,
      clearExpiredByTimeout: false,
      keyPrefix: "register",
      points: policy.maxPerIp,
      duration: policy.windowSeconds,
    });
  }

  /** Spends one registration of `ip`'s budget; throws RATE_LIMITED (with Retry-After) past it. */
  async spend(ip: string | null): Promise<void> {
    if (!ip) return;
    try {
      await this.limiter.consume(ip);
    } catch (error) {
      // A store failure is not a "yes": fail closed.
      if (!(error instanceof RateLimiterRes)) throw error;
      throw rateLimited(error.msBeforeNext / 1000);
    }
  }
}
