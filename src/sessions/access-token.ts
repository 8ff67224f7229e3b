import { createHash, createSecretKey, type KeyObject } from "node:crypto";
import jwt from "jsonwebtoken";
import { LRUCache } from "lru-cache";
import { isUuid } from "../lib/uuid";

/**
 * Short-lived access tokens: HS256 JWTs carrying the session id (`sid`) and the user (`sub`).
 * The algorithm, issuer, audience and `typ` are pinned here, not taken from the token
 * (RFC 8725 §3.1). Header fields such as `jku`, `jwk`, `x5u` are never fetched or used.
 *
 * The secret is a KeyObject: jsonwebtoken 9 re-imports a string secret on every call, which
 * costs far more than the HMAC itself.
 *
 * Key rotation: tokens carry a `kid` (a digest of their key, never the key). New tokens are
 * signed with the current secret; secrets listed as previous still verify the tokens they
 * signed until those expire (at most ACCESS_TOKEN_TTL), then can be dropped. A token with no
 * `kid` or an unknown one is refused.
 */
const ALGORITHM = "HS256";
const TYP = "at+jwt"; // RFC 9068
const FOREIGN_HEADERS = ["jku", "jwk", "x5u", "x5c", "x5t", "crit"];

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

export function keyId(secret: string): string {
  return createHash("sha256").update(secret).digest("base64url").slice(0, 12);
}

function headerKid(token: string): string | undefined {
  try {
    const header = JSON.parse(Buffer.from(token.slice(0, token.indexOf(".")), "base64url").toString("utf8"));
    return typeof header?.kid === "string" ? header.kid : undefined;
  } catch {
    return undefined;
  }
}

export class AccessTokenService {
  private readonly key: KeyObject;
  readonly kid: string;
  private readonly keys: Map<string, KeyObject>;
  /**
   * Tokens already verified, by their exact text. An HMAC check and a JSON parse per request
   * cost more than the rest of the revocation check; the same bytes verify the same way every
   * time, so the answer is kept. Only genuine tokens are kept, so garbage cannot fill it;
   * `exp` is compared on every hit.
   */
  private readonly verified = new LRUCache<string, { claims: AccessTokenClaims; exp: number }>({ max: 50_000 });

  constructor(
    secrets: { current: string; previous: readonly string[] },
    private readonly options: { issuer: string; audience: string; ttlSeconds: number },
  ) {
    this.key = createSecretKey(Buffer.from(secrets.current, "utf8"));
    this.kid = keyId(secrets.current);
    this.keys = new Map([
      ...secrets.previous.map((s) => [keyId(s), createSecretKey(Buffer.from(s, "utf8"))] as const),
      [this.kid, this.key],
    ]);
  }

  /** Signs a token valid for the configured TTL, but never past `notAfter`. */
  sign(claims: AccessTokenClaims, notAfter: Date): { token: string; expiresAt: Date } {
    const now = Math.floor(Date.now() / 1000);
    const exp = Math.min(now + this.options.ttlSeconds, Math.floor(notAfter.getTime() / 1000));
    const token = jwt.sign({ sid: claims.sessionId, exp }, this.key, {
      algorithm: ALGORITHM,
      header: { alg: ALGORITHM, typ: TYP, kid: this.kid },
      subject: claims.userId,
      issuer: this.options.issuer,
      audience: this.options.audience,
    });
    return { token, expiresAt: new Date(exp * 1000) };
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

  /**
   * Every check but `exp` itself, which the caller compares. jsonwebtoken checks `exp` before
   * `iss` and `aud`, so it is told to skip it: an expired token must still prove all the rest.
   */
  private verifyIgnoringExpiry(token: string): { claims: AccessTokenClaims; exp: number } | null {
    const kid = headerKid(token);
    const key = kid === undefined ? undefined : this.keys.get(kid);
    if (!key) return null;
    let decoded: jwt.Jwt;
    try {
      decoded = jwt.verify(token, key, {
        algorithms: [ALGORITHM],
        issuer: this.options.issuer,
        audience: this.options.audience,
        ignoreExpiration: true,
        complete: true,
      });
    } catch {
      return null;
    }
    const { header, payload } = decoded;
    if (header.typ !== TYP || typeof payload !== "object") return null;
    // Our only key reference is `kid`, looked up among our own keys above: a token pointing
    // at a key elsewhere (jku, jwk, x5u, x5c) or demanding extensions (crit) did not come
    // from us, even if its signature checks.
    if (FOREIGN_HEADERS.some((name) => name in header)) return null;
    // A token must expire; jsonwebtoken accepts one without `exp`.
    if (typeof payload.exp !== "number" || !Number.isFinite(payload.exp)) return null;
    const { sub, sid } = payload as { sub?: unknown; sid?: unknown };
    if (typeof sub !== "string" || typeof sid !== "string" || !isUuid(sub) || !isUuid(sid)) return null;
    return { claims: { userId: sub, sessionId: sid }, exp: payload.exp };
  }
}
