import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";

/**
 * The signing key ring: the keys access tokens are signed and verified with, as text.
 *
 * The text is one or more PEM blocks (`JWT_PRIVATE_KEYS`, or `<DATA_DIR>/jwt-keys.pem` in
 * development): PKCS#8 private keys (`BEGIN PRIVATE KEY`), Ed25519 or P-256, and, for a key
 * kept only to verify, its public half (`BEGIN PUBLIC KEY`) if the private one was destroyed.
 * The algorithm follows the key: Ed25519 signs EdDSA, P-256 signs ES256; nothing else is
 * accepted. A block may be preceded by a line `signs-from: <ISO 8601 time>`.
 *
 * Which key signs: of the private keys whose `signs-from` has come (no line: always), the one
 * that came last; on a tie, the first in the text. Every other key only verifies, and every
 * key is published. So a plain list means "the first key signs, the rest verify", and a key
 * added with a future `signs-from` is published first and takes over by itself at that time,
 * on every instance at once (`npm run keys -- rotate` writes exactly that).
 */
export type SigningAlgorithm = "EdDSA" | "ES256";

/**
 * What a generated key is: ES256. The two cost about the same to sign and verify with
 * node:crypto (bench/results.md, "Signing keys": which one verifies faster changes from run to
 * run), and the server verifies a token once (access-token.ts keeps the answer), so the choice
 * does not move the per-request cost. ES256 is the one every JWT library a backend team may
 * reach for verifies, jsonwebtoken included, which has no EdDSA. An Ed25519 key in
 * JWT_PRIVATE_KEYS works the same way.
 */
export const DEFAULT_SIGNING_ALGORITHM: SigningAlgorithm = "ES256";

/**
 * How long a verifier may keep the published key set without asking again, seconds
 * (`/.well-known/jwks.json`). A rotated-in key is published at least this long (plus a margin)
 * before it signs (`npm run keys -- rotate`), so a set cached just before holds it; a verifier
 * that meets an unknown `kid` refetches anyway.
 */
export const JWKS_MAX_AGE = 300;

export interface PublicJwk {
  kty: "OKP" | "EC";
  crv: "Ed25519" | "P-256";
  x: string;
  y?: string;
  kid: string;
  alg: SigningAlgorithm;
  use: "sig";
}

export interface SigningKey {
  /** The RFC 7638 thumbprint of the public key: the same key has the same `kid` everywhere. */
  kid: string;
  alg: SigningAlgorithm;
  publicKey: KeyObject;
  /** Null for a verify-only key given as its public half. */
  privateKey: KeyObject | null;
  /** Epoch milliseconds from which this key may sign; -Infinity when the text names no time. */
  signsFrom: number;
  jwk: PublicJwk;
  /** The block as given (with its `signs-from` line), for rewriting the ring. */
  pem: string;
}

/** A key ring that cannot be used. The message never contains key material. */
export class KeyRingError extends Error {
  override name = "KeyRingError";
}

const BLOCK = /-----BEGIN ([A-Z ]+)-----[\s\S]*?-----END \1-----/g;
const SIGNS_FROM = /^\s*signs-from:\s*(\S+)\s*$/im;

/** The algorithm a key signs with, from its type (never from a token's header). */
function algorithmOf(key: KeyObject): SigningAlgorithm | null {
  if (key.asymmetricKeyType === "ed25519") return "EdDSA";
  if (key.asymmetricKeyType === "ec" && key.asymmetricKeyDetails?.namedCurve === "prime256v1") return "ES256";
  return null;
}

function publicJwk(publicKey: KeyObject, alg: SigningAlgorithm): PublicJwk {
  const jwk = publicKey.export({ format: "jwk" }) as { kty: "OKP" | "EC"; crv: "Ed25519" | "P-256"; x: string; y?: string };
  // RFC 7638: the required members, in lexicographic order, no whitespace.
  const canonical =
    jwk.kty === "EC"
      ? JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y })
      : JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x });
  const kid = createHash("sha256").update(canonical).digest("base64url");
  return { kty: jwk.kty, crv: jwk.crv, x: jwk.x, ...(jwk.y ? { y: jwk.y } : {}), kid, alg, use: "sig" };
}

/**
 * Reads a key ring. Literal `\n` sequences count as newlines, as when a PEM is pasted into a
 * one-line environment variable. Throws KeyRingError naming the block (by position) at fault.
 */
export function parseKeyRing(text: string): SigningKey[] {
  const source = text.includes("\\n") ? text.replace(/\\n/g, "\n") : text;
  const keys: SigningKey[] = [];
  let last = 0;
  for (const match of source.matchAll(BLOCK)) {
    const position = keys.length + 1;
    const preamble = source.slice(last, match.index);
    last = match.index + match[0].length;
    const label = match[1];
    if (label !== "PRIVATE KEY" && label !== "PUBLIC KEY") {
      throw new KeyRingError(
        `key ${position} is a "${label}" block; expected a PKCS#8 "PRIVATE KEY" (convert with: openssl pkcs8 -topk8 -nocrypt) or a "PUBLIC KEY"`,
      );
    }
    let privateKey: KeyObject | null = null;
    let publicKey: KeyObject;
    try {
      if (label === "PRIVATE KEY") {
        privateKey = createPrivateKey({ key: match[0], format: "pem" });
        publicKey = createPublicKey(privateKey);
      } else {
        publicKey = createPublicKey({ key: match[0], format: "pem" });
      }
    } catch {
      throw new KeyRingError(`key ${position} is not a readable PEM key`);
    }
    const alg = algorithmOf(publicKey);
    if (!alg) throw new KeyRingError(`key ${position} is neither Ed25519 nor P-256`);
    const stamp = SIGNS_FROM.exec(preamble)?.[1];
    const signsFrom = stamp === undefined ? Number.NEGATIVE_INFINITY : Date.parse(stamp);
    if (Number.isNaN(signsFrom)) throw new KeyRingError(`key ${position} has a signs-from line that is not an ISO 8601 time`);
    const jwk = publicJwk(publicKey, alg);
    if (keys.some((k) => k.kid === jwk.kid)) throw new KeyRingError(`key ${position} is listed twice`);
    const pem = stamp === undefined ? match[0] : `signs-from: ${new Date(signsFrom).toISOString()}\n${match[0]}`;
    keys.push({ kid: jwk.kid, alg, publicKey, privateKey, signsFrom, jwk, pem });
  }
  if (keys.length === 0) throw new KeyRingError("holds no PEM key");
  if (!keys.some((k) => k.privateKey)) throw new KeyRingError("holds no private key to sign with");
  if (!signerAt(keys, Date.now())) throw new KeyRingError("holds no private key whose signs-from time has come");
  return keys;
}

/** The key that signs at `now`: see the rule at the top of this file. */
export function signerAt(keys: readonly SigningKey[], now: number): SigningKey | undefined {
  let signer: SigningKey | undefined;
  for (const key of keys) {
    if (!key.privateKey || key.signsFrom > now) continue;
    if (!signer || key.signsFrom > signer.signsFrom) signer = key;
  }
  return signer;
}

/** A new private key as a PKCS#8 PEM block. */
export function generateSigningKey(alg: SigningAlgorithm): string {
  const { privateKey } =
    alg === "EdDSA" ? generateKeyPairSync("ed25519") : generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  return privateKey.export({ format: "pem", type: "pkcs8" }).toString();
}

/** The ring's text from its blocks, one blank line apart. */
export function formatKeyRing(blocks: readonly string[]): string {
  return `${blocks.map((b) => b.trim()).join("\n\n")}\n`;
}

/** A parsed ring as text again (the format of JWT_PRIVATE_KEYS): to hand one ring to several processes. */
export function keyRingText(keys: readonly SigningKey[]): string {
  return formatKeyRing(keys.map((k) => k.pem));
}
