import { createSecretKey, randomBytes, randomUUID } from "node:crypto";
import { jwtVerify, SignJWT } from "jose";
import jwt from "jsonwebtoken";
import { generateSigningKey, parseKeyRing, type SigningAlgorithm } from "../src/lib/signing-keys";
import { AccessTokenService } from "../src/sessions/access-token";

/**
 * What signing and verifying one access token costs, µs, per algorithm and library, in this
 * process: ours (node:crypto, src/sessions/access-token.ts) and jose 6 (WebCrypto) for ES256
 * and EdDSA, and jsonwebtoken HS256 as the shared-secret reference. Each verify is of a token
 * not seen before (the server keeps verified tokens, so this is a new token's first request);
 * the last row is ours answering a token it has already verified.
 */
export interface SigningCost {
  label: string;
  signUs: number;
  verifyUs: number;
}

const OPTIONS = { issuer: "session-api", audience: "session-api", ttlSeconds: 300 };

async function timeEach<T>(items: readonly T[], each: (item: T) => unknown): Promise<number> {
  const start = process.hrtime.bigint();
  for (const item of items) await each(item);
  return Number(process.hrtime.bigint() - start) / 1000 / items.length;
}

export async function signingCosts(count: number): Promise<SigningCost[]> {
  const claims = Array.from({ length: count }, () => ({ userId: randomUUID(), sessionId: randomUUID() }));
  const notAfter = new Date(Date.now() + 3_600_000);
  const rows: SigningCost[] = [];
  let cachedUs = 0;
  for (const alg of ["ES256", "EdDSA"] as SigningAlgorithm[]) {
    const keys = parseKeyRing(generateSigningKey(alg));
    const [key] = keys;
    // Warm-up of both libraries, then the measured runs.
    for (let round = 0; round < 2; round++) {
      const signer = new AccessTokenService(keys, OPTIONS);
      const tokens: string[] = [];
      const signUs = await timeEach(claims, (c) => tokens.push(signer.sign(c, notAfter).token));
      const verifier = new AccessTokenService(keys, OPTIONS);
      const verifyUs = await timeEach(tokens, (t) => {
        if (!verifier.verify(t).ok) throw new Error("our token did not verify");
      });
      if (alg === "ES256") cachedUs = await timeEach(tokens, (t) => verifier.verify(t));
      const joseTokens: string[] = [];
      const joseSignUs = await timeEach(claims, async (c) =>
        joseTokens.push(
          await new SignJWT({ sid: c.sessionId })
            .setProtectedHeader({ alg, typ: "at+jwt", kid: key.kid })
            .setSubject(c.userId)
            .setIssuer(OPTIONS.issuer)
            .setAudience(OPTIONS.audience)
            .setIssuedAt()
            .setExpirationTime("5m")
            .sign(key.privateKey!),
        ),
      );
      const joseVerifyUs = await timeEach(joseTokens, (t) =>
        jwtVerify(t, key.publicKey, { algorithms: [alg], issuer: OPTIONS.issuer, audience: OPTIONS.audience, typ: "at+jwt" }),
      );
      if (round === 1) {
        rows.push({ label: `${alg}, ours (node:crypto)`, signUs, verifyUs });
        rows.push({ label: `${alg}, jose 6 (WebCrypto)`, signUs: joseSignUs, verifyUs: joseVerifyUs });
      }
    }
  }
  const secret = createSecretKey(randomBytes(32));
  let hs = { signUs: 0, verifyUs: 0 };
  for (let round = 0; round < 2; round++) {
    const tokens: string[] = [];
    const signUs = await timeEach(claims, (c) =>
      tokens.push(jwt.sign({ sid: c.sessionId }, secret, { algorithm: "HS256", subject: c.userId, expiresIn: 300 })),
    );
    const verifyUs = await timeEach(tokens, (t) => jwt.verify(t, secret, { algorithms: ["HS256"] }));
    hs = { signUs, verifyUs };
  }
  rows.push({ label: "HS256, jsonwebtoken (the shared secret, for reference)", ...hs });
  rows.push({ label: "ES256, ours, a token already verified (every later request)", signUs: Number.NaN, verifyUs: cachedUs });
  return rows;
}
