import { createLocalJWKSet, errors, type JSONWebKeySet, type JWTPayload, jwtVerify } from "jose";

/**
 * The session API's public signing keys (`/.well-known/jwks.json`), cached. A token whose
 * `kid` is not in the cached set makes one refetch, and at most one per `refetchIntervalMs`
 * however many such tokens arrive: forged `kid`s cannot turn into a request storm. Keys are
 * published before they sign anything, so a rotation is picked up by the first new token.
 */
export class KeySet {
  private keys: ReturnType<typeof createLocalJWKSet> | null = null;
  private fetchedAt = Number.NEGATIVE_INFINITY;
  private inFlight: Promise<void> | null = null;
  /** How many times the set was fetched (tests and the benchmark read it). */
  fetches = 0;

  constructor(
    private readonly url: string,
    private readonly refetchIntervalMs: number,
    private readonly fetchImpl: typeof fetch,
  ) {}

  /** Fetches the set now (start-up); coalesced with a fetch already under way. */
  load(): Promise<void> {
    this.inFlight ??= this.fetchSet().finally(() => {
      this.inFlight = null;
    });
    return this.inFlight;
  }

  private async fetchSet(): Promise<void> {
    this.fetchedAt = performance.now();
    this.fetches++;
    const response = await this.fetchImpl(this.url, { signal: AbortSignal.timeout(5000) });
    if (!response.ok) throw new Error(`session verifier: ${this.url} answered ${response.status}`);
    const set = (await response.json()) as JSONWebKeySet;
    if (!set || !Array.isArray(set.keys)) throw new Error(`session verifier: ${this.url} is not a JWK set`);
    this.keys = createLocalJWKSet(set);
  }

  /**
   * The token's verified payload, or null when it is not ours (bad signature, unknown `kid`
   * after the allowed refetch, wrong algorithm, issuer, audience or type). Expiry is left to
   * the caller, which reports it as its own reason.
   */
  async verify(token: string, expected: { issuer: string; audience: string }): Promise<JWTPayload | null> {
    if (!this.keys) await this.load().catch(() => undefined);
    for (let attempt = 0; attempt < 2; attempt++) {
      const keys = this.keys;
      if (!keys) return null;
      try {
        const { payload } = await jwtVerify(token, keys, {
          algorithms: ["EdDSA", "Ed25519", "ES256"],
          issuer: expected.issuer,
          audience: expected.audience,
          typ: "at+jwt",
          // `exp` is compared by the caller, so that an expired token is told apart.
          currentDate: new Date(0),
        });
        return payload;
      } catch (error) {
        if (!(error instanceof errors.JWKSNoMatchingKey) || attempt > 0) return null;
        if (performance.now() - this.fetchedAt < this.refetchIntervalMs) return null;
        await this.load().catch(() => undefined);
      }
    }
    return null;
  }
}
