import { createHmac } from "node:crypto";
import { keyId } from "../../src/sessions/access-token";

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

/**
 * A hand-signed HS256 access token, so a test can get exactly one thing wrong: signed with
 * `key`, its header naming the key id of `kidOf` (default: `key` itself), then `header`.
 */
export function forgeToken(
  payload: Record<string, unknown>,
  options: { key: string; kidOf?: string; header?: Record<string, unknown> },
): string {
  const head = b64({ alg: "HS256", typ: "at+jwt", kid: keyId(options.kidOf ?? options.key), ...options.header });
  const body = b64(payload);
  return `${head}.${body}.${createHmac("sha256", options.key).update(`${head}.${body}`).digest("base64url")}`;
}
