import { createHmac, generateKeyPairSync, type KeyObject, sign } from "node:crypto";
import type { SigningKey } from "../../src/lib/signing-keys";

/** base64url of a JSON value: one part of a hand-made token. */
export const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

export const nowSeconds = () => Math.floor(Date.now() / 1000);

/** The claims the server puts in this session's access token, with `overrides`. */
export function accessClaims(
  signedIn: { user: { id: string }; session: { id: string } },
  overrides: Record<string, unknown> = {},
) {
  const now = nowSeconds();
  return {
    sub: signedIn.user.id,
    sid: signedIn.session.id,
    iss: "session-api",
    aud: "session-api",
    iat: now,
    exp: now + 300,
    ...overrides,
  };
}

/** What signs a hand-made token: an asymmetric private key with its algorithm, or an HMAC secret. */
export type ForgingKey = { alg: "ES256" | "EdDSA"; privateKey: KeyObject } | { alg: "HS256"; secret: string | Buffer };

/** The key the server signs with now, as a ForgingKey and its `kid`. */
export function serverSigningKey(server: { services: { accessTokens: { signer(): SigningKey } } }): ForgingKey & { kid: string } {
  const key = server.services.accessTokens.signer();
  return { alg: key.alg, privateKey: key.privateKey!, kid: key.kid };
}

/** A fresh P-256 key nobody trusts. */
export function strangerKey(): ForgingKey {
  return { alg: "ES256", privateKey: generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey };
}

/**
 * A hand-signed access token, so a test can get exactly one thing wrong: signed with `key`,
 * its header `{ alg: key.alg, typ: "at+jwt", kid }`, then `header` (an `undefined` drops a field).
 */
export function forgeToken(
  payload: Record<string, unknown>,
  options: { key: ForgingKey; kid?: string; header?: Record<string, unknown> },
): string {
  const { key } = options;
  const head = b64({ alg: key.alg, typ: "at+jwt", kid: options.kid, ...options.header });
  const body = b64(payload);
  const input = Buffer.from(`${head}.${body}`);
  const signature =
    key.alg === "HS256"
      ? createHmac("sha256", key.secret).update(input).digest()
      : key.alg === "ES256"
        ? sign("sha256", input, { key: key.privateKey, dsaEncoding: "ieee-p1363" })
        : sign(null, input, key.privateKey);
  return `${head}.${body}.${signature.toString("base64url")}`;
}

/** Signed with the server's own current key and naming it: genuine unless `header` or `payload` says otherwise. */
export function serverSigned(
  server: Parameters<typeof serverSigningKey>[0],
  payload: Record<string, unknown>,
  header: Record<string, unknown> = {},
): string {
  const key = serverSigningKey(server);
  return forgeToken(payload, { key, kid: key.kid, header });
}
