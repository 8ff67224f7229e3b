import { generateKeyPairSync, randomUUID } from "node:crypto";
import jwt from "jsonwebtoken";
import { keyId } from "../src/sessions/access-token";
import { LogoutAllDevicesDocument, MeDocument, RevokeSessionDocument } from "./gql/graphql";
import { startTestServer, type TestServer } from "./support/test-server";
import { accessClaims, b64, forgeToken, nowSeconds as now } from "./support/tokens";
import { signIn, signUp } from "./support/users";

let server: TestServer;
let user: Awaited<ReturnType<typeof signUp>>;
let secret: string;
beforeAll(async () => {
  server = await startTestServer();
  user = await signUp(server);
  secret = server.services.config.jwt.secret;
});
afterAll(() => server.stop());

const claims = (overrides: Record<string, unknown> = {}) => accessClaims(user, overrides);

/** Names the server's real key (its `kid`), signed with `key`: only the field under test is wrong. */
function hs256(payload: Record<string, unknown>, header: Record<string, unknown> = {}, key = secret) {
  return forgeToken(payload, { key, kidOf: secret, header });
}

async function expectRefused(token: string, reason = "TOKEN_INVALID") {
  const res = await server.request(MeDocument, {}, { token });
  expect(res.status).toBe(401);
  expect(res.data).toBeUndefined();
  expect(res.errors).toEqual([{ message: "Not authenticated.", extensions: { code: "UNAUTHENTICATED", reason } }]);
}

describe("the context builder refuses a bad access token before any resolver runs", () => {
  it("accepts the genuine token (the control for every case below)", async () => {
    expect((await server.request(MeDocument, {}, { token: hs256(claims()) })).data?.me.id).toBe(user.user.id);
  });

  it.each([
    ["garbage", "garbage"],
    ["two segments", "abc.def"],
    ["bad base64", "!!!.@@@.###"],
    ["an empty signature", `${b64({ alg: "HS256", typ: "at+jwt" })}.${b64({ sub: "x" })}.`],
  ])("refuses %s", async (_name, token) => {
    await expectRefused(token);
  });

  it("refuses alg: none", async () => {
    await expectRefused(`${b64({ alg: "none", typ: "at+jwt" })}.${b64(claims())}.`);
  });

  it("refuses a token signed with another key", async () => {
    await expectRefused(hs256(claims(), {}, "another secret that is long enough to pass"));
  });

  it("refuses an RS256 token (no key confusion) and ignores jwk/jku/x5u/kid headers", async () => {
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const rs = jwt.sign(claims(), privateKey, {
      algorithm: "RS256",
      header: { alg: "RS256", typ: "at+jwt", jwk: publicKey.export({ format: "jwk" }) } as jwt.JwtHeader,
    });
    await expectRefused(rs);
    await expectRefused(hs256(claims(), { jku: "http://127.0.0.1:1/keys" }, "attacker key of sufficient length!!"));
    await expectRefused(hs256(claims(), { x5u: "http://127.0.0.1:1/cert" }, "attacker key of sufficient length!!"));
    await expectRefused(hs256(claims(), { kid: "../../dev/null" }, ""));
  });

  it("refuses a token without a kid, or with an unknown kid, even when signed with the right key", async () => {
    await expectRefused(hs256(claims(), { kid: undefined }));
    await expectRefused(hs256(claims(), { kid: "unknown-key" }));
  });

  it("refuses an HS256 token signed with the server's RSA-style public key as an HMAC secret (key confusion)", async () => {
    const { publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const pem = publicKey.export({ format: "pem", type: "spki" }).toString();
    await expectRefused(hs256(claims(), {}, pem));
  });

  it.each([
    ["unknown kid", { kid: "1" }],
    ["path-traversal kid", { kid: "../../../../dev/null" }],
    ["SQL-injection kid", { kid: "' OR 1=1 --" }],
    ["jku", { jku: "http://127.0.0.1:1/jwks.json" }],
    ["jwk", { jwk: { kty: "oct", k: "c2VjcmV0" } }],
    ["x5u", { x5u: "http://127.0.0.1:1/cert.pem" }],
    ["x5c", { x5c: ["MIIB"] }],
    ["crit", { crit: ["exp"] }],
  ])("refuses a token carrying a header %s even when signed with the real key", async (_name, header) => {
    await expectRefused(hs256(claims(), header));
  });

  it("refuses a genuine token whose sid was changed without re-signing", async () => {
    const other = await signUp(server);
    const [head, , sig] = hs256(claims()).split(".");
    await expectRefused(`${head}.${b64(claims({ sid: other.session.id }))}.${sig}`);
  });

  it("refuses an oversized token, even validly signed, with 401, and a header past the server's limit with 431", async () => {
    await expectRefused(hs256(claims(), { pad: "x".repeat(6000) }));
    const res = await server.post({ query: "{ me { id } }" }, { token: hs256(claims(), { pad: "x".repeat(20000) }) });
    expect(res.status).toBe(431);
  });

  it("refuses an expired token with reason TOKEN_EXPIRED", async () => {
    await expectRefused(hs256(claims({ iat: now() - 600, exp: now() - 60 })), "TOKEN_EXPIRED");
  });

  it.each([
    ["a wrong issuer", { iss: "someone-else" }],
    ["a wrong audience", { aud: "another-api" }],
    ["no session id", { sid: undefined }],
  ])(
    "refuses an expired token with %s as TOKEN_INVALID, not TOKEN_EXPIRED (refreshing would not help)",
    async (_name, overrides) => {
      await expectRefused(hs256(claims({ iat: now() - 600, exp: now() - 60, ...overrides })), "TOKEN_INVALID");
    },
  );

  it.each([
    ["not yet valid", { nbf: now() + 3600 }],
    ["without exp", { exp: undefined }],
    ["with a wrong issuer", { iss: "someone-else" }],
    ["with a wrong audience", { aud: "another-api" }],
    ["without a session id", { sid: undefined }],
  ])("refuses a token %s", async (_name, overrides) => {
    await expectRefused(hs256(claims(overrides)));
  });

  it("refuses a wrong typ header", async () => {
    await expectRefused(hs256(claims(), { typ: "JWT" }));
  });

  it("refuses a token whose session does not exist", async () => {
    await expectRefused(hs256(claims({ sid: randomUUID() })), "SESSION_NOT_FOUND");
  });

  it("refuses a token naming another user's session", async () => {
    const other = await signUp(server);
    await expectRefused(hs256(claims({ sid: other.session.id })));
  });

  it("refuses a header that is not a Bearer token", async () => {
    const res = await server.post({ query: "{ me { id } }" }, { headers: { authorization: `Basic ${user.accessToken}` } });
    expect(res.status).toBe(401);
  });

  it("ignores a token in the URL", async () => {
    const res = await fetch(`${server.url}?access_token=${user.accessToken}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: "{ me { id } }" }),
    });
    const body = (await res.json()) as { errors: { extensions: unknown }[] };
    expect(body.errors[0].extensions).toEqual({ code: "UNAUTHENTICATED", reason: "TOKEN_MISSING" });
  });
});

describe("signing-key rotation", () => {
  it("accepts tokens signed with a previous key until they expire, and signs new ones with the current key", async () => {
    const oldSecret = secret;
    const rotated = await startTestServer(
      { JWT_SECRET: "the new signing secret, at least 32 chars", JWT_PREVIOUS_SECRETS: oldSecret },
      { dbSchema: server.dbSchema },
    );
    try {
      expect((await rotated.request(MeDocument, {}, { token: user.accessToken })).data?.me.id).toBe(user.user.id);
      const fresh = await signIn(rotated, user.email);
      expect(jwt.decode(fresh.accessToken, { complete: true })!.header.kid).toBe(
        keyId("the new signing secret, at least 32 chars"),
      );
      // The old server does not know the new key: it refuses the new token.
      expect((await server.request(MeDocument, {}, { token: fresh.accessToken })).status).toBe(401);
    } finally {
      await rotated.stop();
    }
  });
});

describe("a revoked session", () => {
  it("is refused with reason SESSION_REVOKED, even re-signed with fresh claims", async () => {
    const victim = await signIn(server, user.email);
    await server.request(RevokeSessionDocument, { id: victim.session.id }, { token: user.accessToken });
    await expectRefused(victim.accessToken, "SESSION_REVOKED");
    await expectRefused(hs256(claims({ sid: victim.session.id, iat: now(), exp: now() + 600 })), "SESSION_REVOKED");
  });

  it("cannot run a mutation, aliased or not, and nothing is written", async () => {
    const owner = await signUp(server);
    const stolen = await signIn(server, owner.email);
    await server.request(RevokeSessionDocument, { id: stolen.session.id }, { token: owner.accessToken });

    const res = await server.post(
      { query: "mutation { a: logoutAllDevices(keepCurrent: false) b: logoutAllDevices(keepCurrent: true) }" },
      { token: stolen.accessToken },
    );
    expect(res.status).toBe(401);
    expect(res.data).toBeUndefined();
    expect((await server.request(MeDocument, {}, { token: owner.accessToken })).status).toBe(200);
    const again = await server.request(LogoutAllDevicesDocument, { keepCurrent: false }, { token: stolen.accessToken });
    expect(again.status).toBe(401);
  });

  it("is refused once expired, with reason SESSION_EXPIRED", async () => {
    const s = await signIn(server, user.email);
    await server.sql("UPDATE sessions SET expires_at = now() - interval '1 second' WHERE id = $1", [s.session.id]);
    await expectRefused(s.accessToken, "SESSION_EXPIRED");
  });

  it("is refused once idle for longer than SESSION_IDLE_TTL", async () => {
    const s = await signIn(server, user.email);
    await server.sql("UPDATE sessions SET last_active_at = now() - interval '8 days' WHERE id = $1", [s.session.id]);
    await expectRefused(s.accessToken, "SESSION_EXPIRED");
  });

  it("is refused once deleted", async () => {
    const s = await signIn(server, user.email);
    await server.sql("DELETE FROM sessions WHERE id = $1", [s.session.id]);
    await expectRefused(s.accessToken, "SESSION_NOT_FOUND");
  });
});
