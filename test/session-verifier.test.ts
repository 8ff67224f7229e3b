import { generateKeyPair, SignJWT } from "jose";
import { LogoutAllDevicesDocument, LogoutDocument } from "./gql/graphql";
import { sharedWith, startTestServer, type TestServer } from "./support/test-server";
import { mintSessions, signIn, signUp } from "./support/users";
import { closeVerifiers, createServiceKey, startVerifier } from "./support/verifier";
import { eventually, until } from "./support/wait";

/**
 * `@session-api/backend` against the real session API: two instances on one database, as
 * behind a load balancer, and verifiers streaming from the first.
 */
let a: TestServer;
let b: TestServer;
let serviceKey: string;
beforeAll(async () => {
  a = await startTestServer({ REVOCATION_LEASE_MS: "3000" });
  b = await startTestServer({ REVOCATION_LEASE_MS: "3000" }, sharedWith(a));
  serviceKey = await createServiceKey(a, ["sessions:stream"]);
});
afterEach(closeVerifiers);
afterAll(async () => {
  await b.stop();
  await a.stop(); // drops the schema: last
});

describe("a session verifier", () => {
  it("accepts a signed-in user's token, and refuses it on the very next check once the session is logged out on either instance", async () => {
    const sessions = await startVerifier(a, serviceKey);
    const owner = await signUp(a);
    const stale: number[] = [];
    for (let trial = 0; trial < 20; trial++) {
      const { accessToken, session } = await signIn(a, owner.email);
      expect(await sessions.verify(accessToken)).toEqual({ ok: true, userId: owner.user.id, sessionId: session.id });
      const logout = await (trial % 2 ? b : a).request(LogoutDocument, {}, { token: accessToken });
      expect(logout.data).toEqual({ logout: true });
      const after = await sessions.verify(accessToken);
      if (after.ok) stale.push(trial);
      else expect(after).toEqual({ ok: false, reason: "SESSION_REVOKED" });
    }
    expect(stale).toEqual([]);
  }, 90_000);

  it("costs one batched lookup for the sessions it has not seen, then answers them from memory", async () => {
    const sessions = await startVerifier(a, serviceKey);
    const owner = await signUp(a);
    const tokens = await Promise.all(
      (await mintSessions(a, owner.session.id, 50)).map(async ({ sessionId }) => ({
        sessionId,
        token: await tokenOf(a, sessionId),
      })),
    );
    const before = sessions.status().lookups;
    const checks = await Promise.all(tokens.map(({ token }) => sessions.verify(token)));
    expect(checks).toEqual(tokens.map(({ sessionId }) => ({ ok: true, userId: owner.user.id, sessionId })));
    expect(sessions.status().lookups).toBe(before + 1);
    await Promise.all(tokens.map(({ token }) => sessions.verify(token)));
    expect(sessions.status().lookups).toBe(before + 1);
  });

  it("tells onRevoked listeners of every ended session, from any instance, with its reason", async () => {
    const sessions = await startVerifier(a, serviceKey);
    const heard: { sessionId: string; reason: string }[] = [];
    sessions.onRevoked(({ sessionId, reason }) => heard.push({ sessionId, reason }));
    const owner = await signUp(a);
    const other = await signIn(a, owner.email);
    const ended = await b.request(LogoutAllDevicesDocument, { keepCurrent: true }, { token: owner.accessToken });
    expect(ended.data).toEqual({ logoutAllDevices: 1 });
    // The call returned only once this verifier had acknowledged (heard it) or its lease had run
    // out (a machine too loaded to renew it in time): never while it still answered from memory.
    expect(heard.length === 1 || !sessions.leaseHeld).toBe(true);
    await eventually(async () => expect(heard).toEqual([{ sessionId: other.session.id, reason: "LOGOUT_ALL" }]));
  });

  it("refuses a token signed by a key the API never published, and a flood of unknown kids refetches the key set at most once", async () => {
    const sessions = await startVerifier(a, serviceKey, { keyRefetchIntervalMs: 60_000 });
    const owner = await signUp(a);
    const { privateKey } = await generateKeyPair("EdDSA");
    const forged = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        new SignJWT({ sid: owner.session.id })
          .setProtectedHeader({ alg: "EdDSA", kid: `forged-${i}`, typ: "at+jwt" })
          .setSubject(owner.user.id)
          .setIssuer("session-api")
          .setAudience("session-api")
          .setExpirationTime("5m")
          .sign(privateKey),
      ),
    );
    const fetchesBefore = sessions.status().keyFetches;
    const checks = await Promise.all(forged.map((token) => sessions.verify(token)));
    expect(new Set(checks.map((c) => JSON.stringify(c)))).toEqual(
      new Set([JSON.stringify({ ok: false, reason: "TOKEN_INVALID" })]),
    );
    expect(sessions.status().keyFetches - fetchesBefore).toBeLessThanOrEqual(1);
    // The genuine token of the same session still passes.
    expect(await sessions.verify(owner.accessToken)).toMatchObject({ ok: true });
  });

  it("refuses a missing, malformed, or expired-session token with the API's reasons", async () => {
    const sessions = await startVerifier(a, serviceKey);
    expect(await sessions.verify("")).toEqual({ ok: false, reason: "TOKEN_MISSING" });
    expect(await sessions.verify("not.a.token")).toEqual({ ok: false, reason: "TOKEN_INVALID" });
    expect(await sessions.verifyAuthorization("Basic abc")).toEqual({ ok: false, reason: "TOKEN_INVALID" });
    const owner = await signUp(a);
    await a.sql("UPDATE sessions SET expires_at = now() - interval '1 second' WHERE id = $1", [owner.session.id]);
    expect(await sessions.verify(owner.accessToken)).toEqual({ ok: false, reason: "SESSION_EXPIRED" });
  });

  it("holds each revoking call until it has acknowledged, and after close() no call waits for it", async () => {
    const sessions = await startVerifier(a, serviceKey);
    expect(a.services.verifiers?.connected).toBe(1);
    await sessions.close();
    await eventually(async () => expect(a.services.verifiers?.connected).toBe(0));
    const owner = await signUp(a);
    const started = performance.now();
    await b.request(LogoutDocument, {}, { token: owner.accessToken });
    // A verifier gone without its goodbye would hold this call for its lease (3 s).
    expect(performance.now() - started).toBeLessThan(1500);
  });

  it("loses its lease once its service key is revoked, and then refuses every request rather than answer from memory", async () => {
    const key = await createServiceKey(a, ["sessions:stream"]);
    const sessions = await startVerifier(a, key);
    const owner = await signUp(a);
    expect(await sessions.verify(owner.accessToken)).toMatchObject({ ok: true });
    expect(await a.services.serviceKeys.revokeKey(key.split("_")[1])).toBe(true);
    // Its next renewal is refused: no lease from then on, and its lookups are refused too.
    await until(() => !sessions.leaseHeld, 3000);
    expect(await sessions.verify(owner.accessToken)).toEqual({ ok: false, reason: "SERVICE_UNAVAILABLE" });
  });

  it("cannot open the revocation stream or look sessions up without a service key of scope sessions:stream", async () => {
    const base = a.url.replace(/\/graphql$/, "");
    const readOnly = await createServiceKey(a, ["sessions:read"]);
    const answers = await Promise.all([
      fetch(`${base}/sessions/stream`),
      fetch(`${base}/sessions/stream`, { headers: { authorization: "ApiKey not-a-key" } }),
      fetch(`${base}/sessions/stream`, { headers: { authorization: `ApiKey ${readOnly}` } }),
      fetch(`${base}/sessions/lookup`, {
        method: "POST",
        headers: { authorization: `ApiKey ${readOnly}`, "content-type": "application/json" },
        body: JSON.stringify({ sessionIds: [crypto.randomUUID()] }),
      }),
    ]);
    expect(answers.map((r) => r.status)).toEqual([401, 401, 403, 403]);
    await expect(startVerifier(a, readOnly, { readyTimeoutMs: 1500 })).rejects.toThrow(/within 1500 ms/);
  });
});

/** A fresh access token for a session, signed by the API. */
async function tokenOf(server: TestServer, sessionId: string): Promise<string> {
  const [row] = await server.sql<{ user_id: string; expires_at: Date }>(
    "SELECT user_id, expires_at FROM sessions WHERE id = $1",
    [sessionId],
  );
  return server.services.accessTokens.sign({ userId: row.user_id, sessionId }, new Date(row.expires_at)).token;
}
