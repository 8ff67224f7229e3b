import { createPublicKey, type JsonWebKey, type KeyObject, verify } from "node:crypto";

type Algorithm = "ES256" | "EdDSA";

interface PublicKey {
  alg: Algorithm;
  key: KeyObject | { key: KeyObject; dsaEncoding: "ieee-p1363" };
  digest: "sha256" | null;
}

/** The claims a verified token carries, `exp` unchecked (the caller reports it as its own reason). */
export interface VerifiedClaims {
  sub: unknown;
  sid: unknown;
  exp: unknown;
}

/** Header fields that point at a key elsewhere or demand extensions: our tokens never carry them. */
const FOREIGN_HEADERS = ["jku", "jwk", "x5u", "x5c", "x5t", "crit"];

/** The algorithm a published key verifies, from the key itself (never from a token's header). */
function algorithmOf(jwk: JsonWebKey & { alg?: string }): Algorithm | null {
  if (jwk.kty === "EC" && jwk.crv === "P-256" && (jwk.alg === undefined || jwk.alg === "ES256")) return "ES256";
  if (jwk.kty === "OKP" && jwk.crv === "Ed25519" && (jwk.alg === undefined || jwk.alg === "EdDSA" || jwk.alg === "Ed25519"))
    return "EdDSA";
  return null;
}

function parseJson(segment: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, "base64url").toString("utf8"));
    return value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/**
 * The session API's public signing keys (`/.well-known/jwks.json`), cached. A token whose
 * `kid` is not in the cached set makes one refetch, and at most one per `refetchIntervalMs`
 * however many such tokens arrive: forged `kid`s cannot turn into a request storm. Keys are
 * published before they sign anything, so a rotation is picked up by the first new token.
 *
 * Signatures are checked with node:crypto, synchronously (ES256 or EdDSA, the algorithm taken
 * from the key the `kid` names, as RFC 8725 §3.1 asks): concurrent requests for sessions not
 * seen yet then reach the lookup in the same turn of the event loop and share one request,
 * which an asynchronous check (WebCrypto, on the thread pool) spreads over many turns.
 */
export class KeySet {
  private keys = new Map<string, PublicKey>();
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
    const set = (await response.json()) as { keys?: unknown };
    if (!set || !Array.isArray(set.keys)) throw new Error(`session verifier: ${this.url} is not a JWK set`);
    const keys = new Map<string, PublicKey>();
    for (const jwk of set.keys as (JsonWebKey & { kid?: unknown; alg?: string; use?: string })[]) {
      const alg = algorithmOf(jwk);
      if (!alg || typeof jwk.kid !== "string" || (jwk.use !== undefined && jwk.use !== "sig")) continue;
      const key = createPublicKey({ key: jwk, format: "jwk" });
      keys.set(
        jwk.kid,
        alg === "ES256" ? { alg, key: { key, dsaEncoding: "ieee-p1363" }, digest: "sha256" } : { alg, key, digest: null },
      );
    }
    this.keys = keys;
  }

  /**
   * The token's claims, or null when it is not ours: malformed, a `kid` not published (after
   * the allowed refetch), a header `alg` other than the key's, a bad signature, or the wrong
   * `typ`, `iss` or `aud`. `exp` is left to the caller.
   */
  async verify(token: string, expected: { issuer: string; audience: string }): Promise<VerifiedClaims | null> {
    const parts = token.split(".");
    if (parts.length !== 3) return null;
    const header = parseJson(parts[0]);
    if (!header || typeof header.kid !== "string" || header.typ !== "at+jwt") return null;
    if (FOREIGN_HEADERS.some((name) => name in header)) return null;
    let key = this.keys.get(header.kid);
    if (!key && performance.now() - this.fetchedAt >= this.refetchIntervalMs) {
      await this.load().catch(() => undefined);
      key = this.keys.get(header.kid);
    }
    if (!key || header.alg !== key.alg) return null;
    const signature = Buffer.from(parts[2], "base64url");
    if (signature.length !== 64) return null; // both algorithms' signatures are 64 bytes
    if (!verify(key.digest, Buffer.from(`${parts[0]}.${parts[1]}`), key.key, signature)) return null;
    const payload = parseJson(parts[1]);
    if (!payload || payload.iss !== expected.issuer) return null;
    const audience = payload.aud;
    if (!(audience === expected.audience || (Array.isArray(audience) && audience.includes(expected.audience)))) return null;
    return { sub: payload.sub, sid: payload.sid, exp: payload.exp };
  }
}
