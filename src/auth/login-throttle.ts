import { createHash } from "node:crypto";
import type { Pool } from "pg";
import { RateLimiterPostgres, RateLimiterRes } from "rate-limiter-flexible";

export interface ThrottlePolicy {
  maxFailuresPerAccount: number;
  maxFailuresPerIp: number;
  /** Fixed window in seconds, starting at the first counted attempt. */
  windowSeconds: number;
}

export type ThrottleDecision =
  | { allowed: true }
  | { allowed: false; retryAfterSeconds: number /** True for the attempt that started the lockout. */; lockoutStarted: boolean };

/**
 * Password-guessing throttle, per account and per client IP, kept in PostgreSQL
 * (`login_throttle`, created by a migration) so every instance shares the counters.
 *
 * Every password check first spends one point on both counters, atomically, before the
 * password is looked at: so parallel guesses cannot slip past the limit, and a right
 * password during a lockout gets exactly the answer a wrong one gets. A success then gives
 * its point back (account counter reset, IP counter refunded), which makes the counters
 * count failures. Windows are fixed and never extended by refused attempts, so a lockout
 * always ends `windowSeconds` after it began (ASVS V6.3.1, no indefinite lock-out).
 *
 * Malicious lockout (OWASP's device cookies, ASVS V6.1.1): an attempt from a device that has
 * signed in on this account before (`trustedDevice`, its device id) spends from a budget of
 * its own, per account and device, instead of the account-wide one. Anyone elsewhere failing
 * on purpose exhausts only the account-wide budget, which holds back untrusted clients; the
 * owner's browser keeps its own. The IP budget applies to every attempt.
 */
export class LoginThrottle {
  private readonly account: RateLimiterPostgres;
  private readonly ip: RateLimiterPostgres;
  private readonly device: RateLimiterPostgres;

  constructor(
    private readonly pool: Pool,
    policy: ThrottlePolicy,
    schemaName?: string,
  ) {
    const common = {
      storeClient: pool,
      storeType: "pool",
      tableName: "login_throttle",
      schemaName,
      // The table comes from a migration; rows past their window are deleted by the periodic purge.
      tableCreated: true,
      clearExpiredByTimeout: false,
      duration: policy.windowSeconds,
    };
    this.account = new RateLimiterPostgres({ ...common, keyPrefix: "account", points: policy.maxFailuresPerAccount });
    this.ip = new RateLimiterPostgres({ ...common, keyPrefix: "ip", points: policy.maxFailuresPerIp });
    this.device = new RateLimiterPostgres({ ...common, keyPrefix: "device", points: policy.maxFailuresPerAccount });
  }

  /**
   * Counts one password attempt for the account (or, from a trusted device, for that device on
   * the account) and the IP; refuses past either limit.
   */
  async attempt(accountKey: string, ip: string | null, trustedDevice?: string | null): Promise<ThrottleDecision> {
    const results = await Promise.allSettled([
      trustedDevice ? this.device.consume(deviceKey(accountKey, trustedDevice)) : this.account.consume(accountId(accountKey)),
      ip ? this.ip.consume(ip) : Promise.resolve(null),
    ]);
    let retryAfterMs = 0;
    let lockoutStarted = false;
    for (const [i, result] of results.entries()) {
      if (result.status === "fulfilled") continue;
      // A store failure is not a "no": fail closed.
      if (!(result.reason instanceof RateLimiterRes)) throw result.reason;
      retryAfterMs = Math.max(retryAfterMs, result.reason.msBeforeNext);
      const limit = i === 0 ? this.account.points : this.ip.points;
      if (result.reason.consumedPoints === limit + 1) lockoutStarted = true;
    }
    return retryAfterMs > 0 ? { allowed: false, retryAfterSeconds: retryAfterMs / 1000, lockoutStarted } : { allowed: true };
  }

  /** An attempt whose password was never checked (the server refused it): both points back. */
  async refund(accountKey: string, ip: string | null): Promise<void> {
    await Promise.all([this.account.reward(accountId(accountKey), 1), ip ? this.ip.reward(ip, 1) : undefined]);
  }

  /** Deletes counters whose window has passed (run by the periodic purge). */
  async deleteExpired(): Promise<void> {
    await this.pool.query("DELETE FROM login_throttle WHERE expire < $1", [Date.now()]);
  }

  /**
   * A right password: the budget it was charged to starts afresh (a trusted device's success
   * leaves the account-wide lockout of untrusted clients in place) and the IP gets its point back.
   */
  async succeeded(accountKey: string, ip: string | null, trustedDevice?: string | null): Promise<void> {
    await Promise.all([
      trustedDevice ? this.device.delete(deviceKey(accountKey, trustedDevice)) : this.account.delete(accountId(accountKey)),
      ip ? this.ip.reward(ip, 1) : undefined,
    ]);
  }
}

/** Counters are keyed by a hash of the normalized email: the table holds no addresses. */
function accountId(normalizedEmail: string): string {
  return createHash("sha256").update(normalizedEmail).digest("base64url");
}

/** A trusted device's counter on one account, hashed too: the table holds neither the email nor the device id. */
function deviceKey(normalizedEmail: string, deviceId: string): string {
  return createHash("sha256").update(normalizedEmail).update("\0").update(deviceId).digest("base64url");
}
