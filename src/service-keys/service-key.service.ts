import { timingSafeEqual } from "node:crypto";
import { RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";
import { hashSecret, isServiceScope, newServiceKey, parseServiceKey, type ServiceScope } from "./service-key";
import type { ServiceKeyRow, ServiceKeyStore } from "./service-key.store";

/** A request's acting service key, as the context builder found it: next to a user's Viewer. */
export interface ServiceViewer {
  keyId: string;
  prefix: string;
  name: string;
  scopes: ReadonlySet<ServiceScope>;
}

export type ServiceKeyCheck =
  | { ok: true; service: ServiceViewer }
  | { ok: false; reason: "SERVICE_KEY_INVALID" | "SERVICE_KEY_REVOKED" }
  | { ok: false; reason: "RATE_LIMITED"; retryAfterSeconds: number };

export interface ServiceKeyPolicy {
  /** Requests per second one key may make on one instance. */
  requestsPerSecond: number;
}

/**
 * Service keys: made and ended by an operator (`npm run admin -- create-key / revoke-key`),
 * checked on every request that carries one.
 *
 * The check reads the key's row every time (one unique-index read): a revoked key is refused
 * on its very next request, on every instance, whoever revoked it (the admin CLI is another
 * process that takes no part in the instances' lease protocol, so a cache would need one more
 * invalidation path to be as exact). Key traffic is a backend's calls and its verifier's
 * batched lookups, each already reading the database, so the read adds little.
 */
export class ServiceKeyService {
  private readonly throttle: RateLimiterMemory;

  constructor(
    private readonly store: ServiceKeyStore,
    policy: ServiceKeyPolicy,
  ) {
    this.throttle = new RateLimiterMemory({ points: policy.requestsPerSecond, duration: 1 });
  }

  /** Makes a key; the text is returned once and never stored (only its secret's hash is). */
  async createKey(name: string, scopes: readonly ServiceScope[]): Promise<{ key: string; row: ServiceKeyRow }> {
    const made = newServiceKey();
    const row = await this.store.insert({ prefix: made.prefix, name, secretHash: made.secretHash, scopes });
    return { key: made.key, row };
  }

  /** Ends the key with this prefix; false if there is no live one. */
  revokeKey(prefix: string): Promise<boolean> {
    return this.store.revoke(prefix);
  }

  listKeys(): Promise<ServiceKeyRow[]> {
    return this.store.list();
  }

  /**
   * Is this key live, and may it make one more request now? A read that fails throws (fail
   * closed). `throttle: false` checks the key without counting the request (a verifier's
   * stream messages: see http/verifier-stream.ts).
   */
  async authenticate(text: string, options: { throttle?: boolean } = {}): Promise<ServiceKeyCheck> {
    const parsed = parseServiceKey(text);
    if (!parsed) return { ok: false, reason: "SERVICE_KEY_INVALID" };
    const row = await this.store.byPrefix(parsed.prefix);
    if (!row || !timingSafeEqual(row.secretHash, hashSecret(parsed.secret))) return { ok: false, reason: "SERVICE_KEY_INVALID" };
    if (row.revokedAt) return { ok: false, reason: "SERVICE_KEY_REVOKED" };
    try {
      if (options.throttle !== false) await this.throttle.consume(row.prefix);
    } catch (refusal) {
      if (!(refusal instanceof RateLimiterRes)) throw refusal;
      return { ok: false, reason: "RATE_LIMITED", retryAfterSeconds: refusal.msBeforeNext / 1000 };
    }
    return {
      ok: true,
      service: { keyId: row.id, prefix: row.prefix, name: row.name, scopes: new Set(row.scopes.filter(isServiceScope)) },
    };
  }
}
