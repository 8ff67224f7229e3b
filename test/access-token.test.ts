import { generateKeyPairSync, randomUUID } from "node:crypto";
import jwt from "jsonwebtoken";
import { LogoutAllDevicesDocument, MeDocument, RevokeSessionDocument } from "./gql/graphql";
import { startTestServer, type TestServer } from "./support/test-server";
import {
  accessClaims,
  b64,
  type ForgingKey,
  forgeToken,
  nowSeconds as now,
  serverSigningKey,
  strangerKey,
} from "./support/tokens";
import { signIn, signUp } from "./support/users";

let server: TestServer;
let user: Awaited<ReturnType<typeof signUp>>;
beforeAll(async () => {
  server = await startTestServer();
  user = await signUp(server);
});
afterAll(() => server.stop());

const claims = (overrides: Record<string, unknown> = {}) => accessClaims(user, overrides);

/** Names the server's real key (its `kid`), signed with `key`: only the field under test is wrong. */
function signed(
  payload: Record<string, unknown>,
  header: Record<string, unknown> = {},
  key: ForgingKey = serverSigningKey(server),
) {
  return forgeToken(payload, { key, kid: serverSigningKey(server).kid, header });
}

/** The server's public key as PEM text: what an attacker has, and would try as an HMAC secret. */
function serverPublicKeyPem(): string {
  return server.services.accessTokens.signer().publicKey.export({ format: "pem", type: "spki" }).toString();
}

async function expectRefused(token: string, reason = "TOKEN_INVALID") {
  const res = await server.request(MeDocument, {}, { token });
  expect(res.status).toBe(401);
  expect(res.data).toBeUndefined();
  expect(res.errors).toEqual([{ message: "Not authenticated.", extensions: { code: "UNAUTHENTICATED", reason } }]);
}

describe("the context builder refuses a bad access token before any resolver runs", () => {
  it("accepts the genuine token (the control for every case below)", async () => {
    expect((await server.request(MeDocument, {}, { token: signed(claims()) })).data?.me.id).toBe(user.user.id);
  });

  it.each([
    ["garbage", "garbage"],
    ["two segments", "abc.def"],
    ["bad base64", "!!!.@@@.###"],
    ["an empty signature", `${b64({ alg: "ES256", typ: "at+jwt" })}.${b64({ sub: "x" })}.`],
  ])("refuses %s", async (_name, token) => {
    await expectRefused(token);
  });

  it("refuses alg: none", async () => {
    await expectRefused(`${b64({ alg: "none", typ: "at+jwt" })}.${b64(claims())}.`);
  });

  it("refuses a token signed with another key", async () => {
    await expectRefused(signed(claims(), {}, strangerKey()));
  });

  it("refuses the other asymmetric algorithm under the server's kid (the key, not the header, picks the algorithm)", async () => {
    const ed = { alg: "EdDSA", privateKey: generateKeyPairSync("ed25519").privateKey } as const;
    await expectRefused(signed(claims(), {}, ed));
    await expectRefused(signed(claims(), { alg: "EdDSA" }));
  });

  it("refuses an RS256 token (no key confusion) and ignores jwk/jku/x5u/kid headers", async () => {
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const rs = jwt.sign(claims(), privateKey, {
      algorithm: "RS256",
      header: { alg: "RS256", typ: "at+jwt", jwk: publicKey.export({ format: "jwk" }) } as jwt.JwtHeader,
    });
    await expectRefused(rs);
    await expectRefused(signed(claims(), { jku: "http://127.0.0.1:1/keys" }, strangerKey()));
    await expectRefused(signed(claims(), { x5u: "http://127.0.0.1:1/cert" }, strangerKey()));
    await expectRefused(signed(claims(), { kid: "../../dev/null" }, { alg: "HS256", secret: "" }));
  });

  it("refuses a token without a kid, or with an unknown kid, even when signed with the right key", async () => {
    await expectRefused(signed(claims(), { kid: undefined }));
    await expectRefused(signed(claims(), { kid: "unknown-key" }));
  });

  it("refuses an HS256 token whose HMAC secret is the server's published public key (alg confusion)", async () => {
    const jwks = (await (await fetch(new URL("/.well-known/jwks.json", server.url))).json()) as { keys: unknown[] };
    for (const secret of [serverPublicKeyPem(), JSON.stringify(jwks.keys[0])]) {
      await expectRefused(signed(claims(), {}, { alg: "HS256", secret }));
    }
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
    await expectRefused(signed(claims(), header));
  });

  it("refuses a genuine token whose sid was changed without re-signing", async () => {
    const other = await signUp(server);
    const [head, , sig] = signed(claims()).split(".");
    await expectRefused(`${head}.${b64(claims({ sid: other.session.id }))}.${sig}`);
  });

  it("refuses an oversized token, even validly signed, with 401, and a header past the server's limit with 431", async () => {
    await expectRefused(signed(claims(), { pad: "x".repeat(6000) }));
    const res = await server.post({ query: "{ me { id } }" }, { token: signed(claims(), { pad: "x".repeat(20000) }) });
    expect(res.status).toBe(431);
  });

  it("refuses an expired token with reason TOKEN_EXPIRED", async () => {
    await expectRefused(signed(claims({ iat: now() - 600, exp: now() - 60 })), "TOKEN_EXPIRED");
  });

  it.each([
    ["a wrong issuer", { iss: "someone-else" }],
    ["a wrong audience", { aud: "another-api" }],
    ["no session id", { sid: undefined }],
  ])(
    "refuses an expired token with %s as TOKEN_INVALID, not TOKEN_EXPIRED (refreshing would not help)",
    async (_name, overrides) => {
      await expectRefused(signed(claims({ iat: now() - 600, exp: now() - 60, ...overrides })), "TOKEN_INVALID");
    },
  );

  it.each([
    ["not yet valid", { nbf: now() + 3600 }],
    ["without exp", { exp: undefined }],
    ["with a wrong issuer", { iss: "someone-else" }],
    ["with a wrong audience", { aud: "another-api" }],
    ["without a session id", { sid: undefined }],
  ])("refuses a token %s", async (_name, overrides) => {
    await expectRefused(signed(claims(overrides)));
  });

  it("refuses a wrong typ header", async () => {
    await expectRefused(signed(claims(), { typ: "JWT" }));
  });

  it("refuses a token whose session does not exist", async () => {
    await expectRefused(signed(claims({ sid: randomUUID() })), "SESSION_NOT_FOUND");
  });

  it("refuses a token naming another user's session", async () => {
    const other = await signUp(server);
    await expectRefused(signed(claims({ sid: other.session.id })));
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

describe("a revoked session", () => {
  it("is refused with reason SESSION_REVOKED, even re-signed with fresh claims", async () => {
    const victim = await signIn(server, user.email);
    await server.request(RevokeSessionDocument, { id: victim.session.id }, { token: user.accessToken });
    await expectRefused(victim.accessToken, "SESSION_REVOKED");
    await expectRefused(signed(claims({ sid: victim.session.id, iat: now(), exp: now() + 600 })), "SESSION_REVOKED");
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
