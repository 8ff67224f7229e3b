import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { runCli } from "../src/admin/cli";
import { generateSigningKey, parseKeyRing } from "../src/lib/signing-keys";
import { MeDocument } from "./gql/graphql";
import { startTestServer, type TestServer } from "./support/test-server";
import { accessClaims, forgeToken, strangerKey } from "./support/tokens";
import { signIn, signUp } from "./support/users";
import { sleep } from "./support/wait";

/**
 * The signing keys' whole life, on real servers: `npm run keys -- rotate` writes a ring, a
 * server started with it publishes the new key before it signs anything, switches to it by
 * itself when its time comes, and keeps verifying the old key's tokens until they expire.
 */
const TTL = 3; // ACCESS_TOKEN_TTL, seconds: the old key's tokens run out within the test
const dir = mkdtempSync(path.join(os.tmpdir(), "signing-keys-"));
const ring = path.join(dir, "jwt-keys.pem");
const servers: TestServer[] = [];
afterAll(async () => {
  for (const server of servers) await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function keys(...args: string[]): Promise<{ code: number; out: string[] }> {
  const out: string[] = [];
  const code = await runCli(["keys", ...args], { out: (line) => out.push(line), err: (line) => out.push(line) });
  return { code, out };
}

async function startWithRing(dbSchema?: string): Promise<TestServer> {
  const server = await startTestServer(
    { JWT_PRIVATE_KEYS: readFileSync(ring, "utf8"), ACCESS_TOKEN_TTL: String(TTL) },
    dbSchema ? { dbSchema } : undefined,
  );
  servers.push(server);
  return server;
}

const kidOf = (token: string) => JSON.parse(Buffer.from(token.split(".")[0], "base64url").toString()).kid as string;

async function jwks(server: TestServer) {
  const res = await fetch(new URL("/.well-known/jwks.json", server.url));
  return { res, body: (await res.json()) as { keys: Record<string, unknown>[] } };
}

async function meStatus(server: TestServer, token: string): Promise<{ status: number; reason?: unknown }> {
  const res = await server.request(MeDocument, {}, { token });
  return { status: res.status, reason: res.errors?.[0]?.extensions.reason };
}

describe("signing-key rotation, the whole cycle", () => {
  it("publishes a new key before it signs, switches to it on time, and verifies the old key's tokens until they expire", async () => {
    expect((await keys("rotate", "--file", ring)).code).toBe(0);
    expect(statSync(ring).mode & 0o777).toBe(0o600);
    const [first] = parseKeyRing(readFileSync(ring, "utf8"));
    const before = await startWithRing();
    const user = await signUp(before);
    expect(kidOf(user.accessToken)).toBe(first.kid);

    // Rotate: the new key is published at once and signs 6 s later (time for an instance to start).
    const rotated = await keys("rotate", "--file", ring, "--lead", "6");
    expect(rotated.code).toBe(0);
    const [, second] = parseKeyRing(readFileSync(ring, "utf8"));
    expect(rotated.out.join("\n")).toContain(`${second.kid}  ES256  private  published; signs from`);
    const after = await startWithRing(before.dbSchema);
    const { res, body } = await jwks(after);
    expect(body.keys.map((k) => k.kid)).toEqual([first.kid, second.kid]);
    expect(res.headers.get("cache-control")).toBe("public, max-age=300, stale-while-revalidate=60");
    // Published, not yet signing: tokens still carry the old kid, and a second rotation waits.
    const early = await signIn(after, user.email);
    expect(Date.now()).toBeLessThan(second.signsFrom);
    expect(kidOf(early.accessToken)).toBe(first.kid);
    expect((await keys("rotate", "--file", ring)).code).toBe(2);

    // The old key's last token, signed just before the switch.
    await sleep(second.signsFrom - Date.now() - 700);
    const lastOld = await signIn(after, user.email);
    expect(Date.now()).toBeLessThan(second.signsFrom);
    expect(kidOf(lastOld.accessToken)).toBe(first.kid);

    await sleep(second.signsFrom - Date.now() + 50);
    const late = await signIn(after, user.email);
    expect(kidOf(late.accessToken)).toBe(second.kid);
    // The old key's tokens keep working on the rotated instance, until they expire.
    expect(await meStatus(after, lastOld.accessToken)).toEqual({ status: 200, reason: undefined });
    expect(await meStatus(after, late.accessToken)).toEqual({ status: 200, reason: undefined });
    // An instance still on the old ring does not know the new key: why the lead must cover the rollout.
    expect(await meStatus(before, late.accessToken)).toEqual({ status: 401, reason: "TOKEN_INVALID" });

    await sleep(TTL * 1000);
    expect(await meStatus(after, lastOld.accessToken)).toEqual({ status: 401, reason: "TOKEN_EXPIRED" });
    expect(await meStatus(after, late.accessToken)).toEqual({ status: 401, reason: "TOKEN_EXPIRED" });
  }, 30_000);

  it("refuses a token whose kid is unknown, or names a real key it was not signed with, or confuses the algorithm", async () => {
    const server = servers[1];
    const user = await signUp(server);
    const [, second] = server.services.config.jwt.keys;
    const claims = accessClaims(user);
    const refused = { status: 401, reason: "TOKEN_INVALID" };
    expect(await meStatus(server, forgeToken(claims, { key: strangerKey(), kid: "no-such-key" }))).toEqual(refused);
    expect(await meStatus(server, forgeToken(claims, { key: strangerKey(), kid: second.kid }))).toEqual(refused);
    const publicPem = second.publicKey.export({ format: "pem", type: "spki" }).toString();
    expect(await meStatus(server, forgeToken(claims, { key: { alg: "HS256", secret: publicPem }, kid: second.kid }))).toEqual(
      refused,
    );
    expect(await meStatus(server, forgeToken(claims, { key: strangerKey(), kid: second.kid, header: { alg: "none" } }))).toEqual(
      refused,
    );
    expect(await meStatus(server, user.accessToken)).toEqual({ status: 200, reason: undefined });
  });

  it("drops a key from the ring only once the last token it signed has expired", async () => {
    const file = path.join(dir, "old-ring.pem");
    const a = generateSigningKey("ES256");
    const b = generateSigningKey("EdDSA");
    writeFileSync(file, `signs-from: 2020-01-01T00:00:00Z\n${a}\nsigns-from: 2021-01-01T00:00:00Z\n${b}`);
    const [oldest, current] = parseKeyRing(readFileSync(file, "utf8"));
    const result = await keys("rotate", "--file", file, "--alg", "EdDSA");
    expect(result.code).toBe(0);
    expect(result.out[0]).toBe(`dropped ${oldest.kid}: the last token it signed has expired`);
    const after = parseKeyRing(readFileSync(file, "utf8"));
    expect(after.map((k) => [k.kid, k.alg])).toEqual([
      [current.kid, "EdDSA"],
      [after[1].kid, "EdDSA"],
    ]);
    // The current key goes on signing until the new one's time comes, after the lead.
    expect(after[1].signsFrom).toBeGreaterThan(Date.now() + 300_000);
  });
});

describe("GET /.well-known/jwks.json", () => {
  it("serves public keys only, cacheable by anyone, with an ETag a verifier can revalidate", async () => {
    const server = servers[1];
    const { res, body } = await jwks(server);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/jwk-set+json; charset=utf-8");
    for (const key of body.keys) {
      expect(Object.keys(key).sort()).toEqual(["alg", "crv", "kid", "kty", "use", "x", "y"]);
      expect(key).toMatchObject({ kty: "EC", crv: "P-256", alg: "ES256", use: "sig" });
    }
    const again = await fetch(new URL("/.well-known/jwks.json", server.url), {
      headers: { "if-none-match": res.headers.get("etag")! },
    });
    expect(again.status).toBe(304);
    const post = await fetch(new URL("/.well-known/jwks.json", server.url), { method: "POST" });
    expect(post.status).toBe(405);
  });
});
