import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { runCli } from "../src/admin/cli";
import { LogoutDocument } from "./gql/graphql";
import { startTcpProxy, type TcpProxy } from "./support/tcp-proxy";
import { startTestServer, type TestServer } from "./support/test-server";
import { signIn, signUp } from "./support/users";
import { closeVerifiers, createServiceKey, startVerifier } from "./support/verifier";
import { sleep, until } from "./support/wait";

/**
 * The verifier under faults, on real network and database faults: its stream black-holed or
 * cut (a TCP relay between it and the API), the API instance's own listener stalled, and a
 * signing-key rotation rolled out under it.
 */
const LEASE_MS = 1000;
let a: TestServer;
let proxy: TcpProxy;
let serviceKey: string;
let viaProxy: { url: string };
beforeAll(async () => {
  a = await startTestServer({ REVOCATION_LEASE_MS: String(LEASE_MS) });
  serviceKey = await createServiceKey(a, ["sessions:stream"]);
  const target = new URL(a.url);
  proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port) });
  viaProxy = { url: `http://127.0.0.1:${proxy.port}` };
});
afterEach(async () => {
  proxy.restore();
  await closeVerifiers();
});
afterAll(async () => {
  await proxy.close();
  await a.stop();
});

describe("a verifier whose stream is black-holed", () => {
  it("stops answering from memory within its lease, never lets a session through meanwhile, and the revoking call waits no longer than the lease", async () => {
    const sessions = await startVerifier(viaProxy, serviceKey);
    const owner = await signUp(a);
    const other = await signIn(a, owner.email);
    expect(await sessions.verify(owner.accessToken)).toMatchObject({ ok: true });
    expect(await sessions.verify(other.accessToken)).toMatchObject({ ok: true });

    proxy.hold();
    const blackHoled = performance.now();
    await a.request(LogoutDocument, {}, { token: owner.accessToken });
    // Nothing acknowledges: the call answers once the verifier's lease has certainly run out.
    expect(performance.now() - blackHoled).toBeLessThan(LEASE_MS * 1.5 + 500);
    // ... by which time this verifier had stopped answering from memory (the contract).
    expect(sessions.leaseHeld).toBe(false);
    // The API cannot be asked either: refused (503), for the ended session and the live one alike.
    expect(await sessions.verify(owner.accessToken)).toEqual({ ok: false, reason: "SERVICE_UNAVAILABLE" });
    expect(await sessions.verify(other.accessToken)).toEqual({ ok: false, reason: "SERVICE_UNAVAILABLE" });

    proxy.restore();
    await until(() => sessions.leaseHeld, 15_000);
    expect(await sessions.verify(owner.accessToken)).toEqual({ ok: false, reason: "SESSION_REVOKED" });
    expect(await sessions.verify(other.accessToken)).toMatchObject({ ok: true });
  }, 30_000);
});

describe("a verifier whose stream is cut", () => {
  it("refuses at once with SERVICE_UNAVAILABLE, and answers exactly again once the API is reachable", async () => {
    const sessions = await startVerifier(viaProxy, serviceKey);
    const owner = await signUp(a);
    expect(await sessions.verify(owner.accessToken)).toMatchObject({ ok: true });
    proxy.cut();
    await until(() => !sessions.leaseHeld, 1000);
    expect(await sessions.verify(owner.accessToken)).toEqual({ ok: false, reason: "SERVICE_UNAVAILABLE" });
    await a.request(LogoutDocument, {}, { token: owner.accessToken });
    proxy.restore();
    await until(() => sessions.leaseHeld, 15_000);
    expect(await sessions.verify(owner.accessToken)).toEqual({ ok: false, reason: "SESSION_REVOKED" });
  }, 30_000);
});

describe("a verifier whose API instance stops hearing revocations", () => {
  it("asks the API on every request while it holds no lease, and so misses no revocation", async () => {
    const sessions = await startVerifier(a, serviceKey);
    const owner = await signUp(a);
    const other = await signIn(a, owner.email);
    expect(await sessions.verify(other.accessToken)).toMatchObject({ ok: true });
    // The instance's listening connection is busy: no renewal comes back, no revocation arrives.
    const stalled = a.fanout.stall(LEASE_MS * 3);
    await until(() => !sessions.leaseHeld, LEASE_MS * 1.1);
    const lookups = sessions.status().lookups;
    expect(await sessions.verify(other.accessToken)).toMatchObject({ ok: true });
    expect(await sessions.verify(other.accessToken)).toMatchObject({ ok: true });
    expect(sessions.status().lookups).toBe(lookups + 2);
    // Ended in the database; its notification is stuck behind the stall.
    await a.sql("UPDATE sessions SET revoked_at = now(), revoked_reason = 'REVOKED' WHERE id = $1", [other.session.id]);
    expect(await sessions.verify(other.accessToken)).toEqual({ ok: false, reason: "SESSION_REVOKED" });
    await stalled;
    await until(() => sessions.leaseHeld, 5000);
  }, 30_000);
});

describe("a signing-key rotation rolled out under a verifier", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "verifier-keys-"));
  const ring = path.join(dir, "jwt-keys.pem");
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const keys = (...args: string[]) => runCli(["keys", ...args], { out: () => undefined, err: () => undefined });
  const kidOf = (token: string) => JSON.parse(Buffer.from(token.split(".")[0], "base64url").toString()).kid as string;

  it("keeps accepting the old key's tokens until they expire, and accepts the new key's tokens after one refetch", async () => {
    // An instance on the first key, restarted on the same port with the rotated ring.
    expect(await keys("rotate", "--file", ring)).toBe(0);
    const env = { JWT_PRIVATE_KEYS: readFileSync(ring, "utf8"), ACCESS_TOKEN_TTL: "10", REVOCATION_LEASE_MS: String(LEASE_MS) };
    const before = await startTestServer(env, { dbSchema: a.dbSchema });
    const key = await createServiceKey(before, ["sessions:stream"]);
    const port = new URL(before.url).port;
    const sessions = await startVerifier(before, key, { keyRefetchIntervalMs: 0 });
    const owner = await signUp(before);
    expect(await sessions.verify(owner.accessToken)).toMatchObject({ ok: true });
    const fetches = sessions.status().keyFetches;

    expect(await keys("rotate", "--file", ring, "--lead", "0")).toBe(0);
    await before.stop();
    const after = await startTestServer(
      { ...env, JWT_PRIVATE_KEYS: readFileSync(ring, "utf8"), PORT: port },
      { dbSchema: a.dbSchema },
    );
    try {
      await until(() => sessions.leaseHeld, 15_000);
      const fresh = await signIn(after, owner.email);
      expect(kidOf(fresh.accessToken)).not.toBe(kidOf(owner.accessToken));
      expect(await sessions.verify(fresh.accessToken)).toMatchObject({ ok: true, sessionId: fresh.session.id });
      expect(sessions.status().keyFetches).toBe(fetches + 1);
      // The old key still verifies its tokens, until they expire.
      expect(await sessions.verify(owner.accessToken)).toMatchObject({ ok: true });
      const { exp } = JSON.parse(Buffer.from(owner.accessToken.split(".")[1], "base64url").toString()) as { exp: number };
      await sleep(exp * 1000 - Date.now() + 100);
      expect(await sessions.verify(owner.accessToken)).toEqual({ ok: false, reason: "TOKEN_EXPIRED" });
    } finally {
      await after.stop();
    }
  }, 60_000);
});
