import { sign as cryptoSign, verify as cryptoVerify, type KeyObject } from "node:crypto";
import { LRUCache } from "lru-cache";
import { type PublicJwk, type SigningAlgorithm, type SigningKey, signerAt } from "../lib/signing-keys";
import { isUuid } from "../lib/uuid";

/**
 * Short-lived access tokens: JWTs carrying the session id (`sid`) and the user (`sub`), signed
 * with an asymmetric key of the ring (lib/signing-keys.ts): EdDSA (Ed25519) or ES256 (P-256),
 * whichever the key is. Anyone may verify them with the published keys
 * (`/.well-known/jwks.json`); only this service can sign.
 *
 * The token's `kid` names the key; the key, never the header, decides the algorithm
 * (RFC 8725 §3.1): a header whose `alg` is not the named key's own is refused, so neither
 * `none` nor an HMAC keyed with a public key can pass. The issuer, audience and `typ` are
 * pinned here. Header fields such as `jku`, `jwk`, `x5u` are never fetched or used.
 *
 * The JWS is read and written with node:crypto directly: jsonwebtoken has no EdDSA, and
 * jose's WebCrypto path is asynchronous and several times slower per signature (bench/run.ts,
 * "Signing keys"). The format is three base64url parts; every check is below.
 */
const TYP = "at+jwt"; // RFC 9068
const FOREIGN_HEADERS = ["jku", "jwk", "x5u", "x5c", "x5t", "x5t#S256", "crit"];
const PART = /^[A-Za-z0-9_-]+$/;
/** Both algorithms' signatures are 64 bytes (ES256 as R || S, RFC 7518 §3.4). */
const SIGNATURE_BYTES = 64;

export interface AccessTokenClaims {
  userId: string;
  sessionId: string;
}

/**
 * An expired token is still reported with its claims, because everything else about it was
 * checked (signature, `kid`, `iss`, `aud`, `typ`, claims): the one thing such a token may
 * still do is log its own session out (see graphql/logout-only.ts). A token that fails any
 * other check is TOKEN_INVALID, whether or not it has also expired.
 */
export type VerifyResult =
  | { ok: true; claims: AccessTokenClaims }
  | { ok: false; reason: "TOKEN_EXPIRED"; claims: AccessTokenClaims }
  | { ok: false; reason: "TOKEN_INVALID" };

const INVALID = { ok: false, reason: "TOKEN_INVALID" } as const;

/** node:crypto's digest and encoding for each algorithm. */
function cryptoParams(alg: SigningAlgorithm, key: KeyObject) {
  return alg === "ES256" ? { digest: "sha256", key: { key, dsaEncoding: "ieee-p1363" as const } } : { digest: null, key };
}

function jsonPart(part: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

export class AccessTokenService {
  private readonly byKid: Map<string, SigningKey>;
  /**
   * Tokens already verified, by their exact text. A signature check and a JSON parse per
   * request cost far more than the rest of the revocation check; the same bytes verify the
   * same way every time, so the answer is kept. Only genuine tokens are kept, so garbage
   * cannot fill it; `exp` is compared on every hit.
   */
  private readonly verified = new LRUCache<string, { claims: AccessTokenClaims; exp: number }>({ max: 50_000 });

  constructor(
    private readonly keys: readonly SigningKey[],
    private readonly options: { issuer: string; audience: string; ttlSeconds: number },
  ) {
    this.byKid = new Map(keys.map((k) => [k.kid, k]));
  }

  /** The key that signs now (it changes by itself when a rotated-in key's time comes). */
  signer(now = Date.now()): SigningKey {
    const key = signerAt(this.keys, now);
    if (!key) throw new Error("no signing key is due yet");
    return key;
  }

  /** The public keys, every one of the ring: what `/.well-known/jwks.json` serves. */
  publicKeys(): { keys: PublicJwk[] } {
    return { keys: this.keys.map((k) => k.jwk) };
  }

  /** Signs a token valid for the configured TTL, but never past `notAfter`. */
  sign(claims: AccessTokenClaims, notAfter: Date): { token: string; expiresAt: Date } {
    const nowMs = Date.now();
    const now = Math.floor(nowMs / 1000);
    const exp = Math.min(now + this.options.ttlSeconds, Math.floor(notAfter.getTime() / 1000));
    const key = this.signer(nowMs);
    const header = Buffer.from(JSON.stringify({ alg: key.alg, typ: TYP, kid: key.kid })).toString("base64url");
    const payload = Buffer.from(
      JSON.stringify({
        sub: claims.userId,
        sid: claims.sessionId,
        iss: this.options.issuer,
        aud: this.options.audience,
        iat: now,
        exp,
      }),
    ).toString("base64url");
    const signingInput = `${header}.${payload}`;
    const params = cryptoParams(key.alg, key.privateKey!);
    const signature = cryptoSign(params.digest, Buffer.from(signingInput), params.key).toString("base64url");
    return { token: `${signingInput}.${signature}`, expiresAt: new Date(exp * 1000) };
  }

  verify(token: string): VerifyResult {
    let hit = this.verified.get(token);
    if (!hit) {
      const genuine = this.verifyIgnoringExpiry(token);
      if (!genuine) return INVALID;
      hit = genuine;
      this.verified.set(token, hit);
    }
    return Date.now() < hit.exp * 1000
      ? { ok: true, claims: hit.claims }
      : { ok: false, reason: "TOKEN_EXPIRED", claims: hit.claims };
  }

  /** Every check but `exp` itself, which the caller compares: an expired token must still prove all the rest. */
  private verifyIgnoringExpiry(token: string): { claims: AccessTokenClaims; exp: number } | null {
    const parts = token.split(".");
    if (parts.length !== 3 || !parts.every((part) => PART.test(part))) return null;
    const [headerPart, payloadPart, signaturePart] = parts;
    const header = jsonPart(headerPart);
    if (!header || typeof header.kid !== "string") return null;
    // Our only key reference is `kid`, looked up among our own keys: a token pointing at a
    // key elsewhere (jku, jwk, x5u, x5c) or demanding extensions (crit) did not come from us.
    const key = this.byKid.get(header.kid);
    if (!key || header.alg !== key.alg || header.typ !== TYP) return null;
    if (FOREIGN_HEADERS.some((name) => name in header)) return null;
    const signature = Buffer.from(signaturePart, "base64url");
    if (signature.length !== SIGNATURE_BYTES) return null;
    const params = cryptoParams(key.alg, key.publicKey);
    if (!cryptoVerify(params.digest, Buffer.from(`${headerPart}.${payloadPart}`), params.key, signature)) return null;
    const payload = jsonPart(payloadPart);
    if (!payload) return null;
    const { sub, sid, iss, aud, exp, nbf } = payload;
    if (iss !== this.options.issuer) return null;
    if (aud !== this.options.audience && !(Array.isArray(aud) && aud.includes(this.options.audience))) return null;
    // A token must expire.
    if (typeof exp !== "number" || !Number.isFinite(exp)) return null;
    if (nbf !== undefined && (typeof nbf !== "number" || nbf * 1000 > Date.now())) return null;
    if (typeof sub !== "string" || typeof sid !== "string" || !isUuid(sub) || !isUuid(sid)) return null;
    return { claims: { userId: sub, sessionId: sid }, exp };
  }
}
