import { print } from "graphql";
import { LogoutDocument, MeDocument } from "./gql/graphql";
import { startTcpProxy, type TcpProxy } from "./support/tcp-proxy";
import { databaseUrl, sharedWith, startTestServer, type TestServer } from "./support/test-server";
import { signIn, signUp } from "./support/users";
import { sleep } from "./support/wait";

/**
 * An instance that cannot hear revocations must stop answering from memory within its lease,
 * and a revocation elsewhere waits for that (at most the lease) rather than answer while the
 * deaf instance still could. Instance b reaches the database through a proxy that, when told
 * to hold, forwards nothing and resets nothing: a silent partition of every connection b has
 * (its revocation listener and its pool).
 */
const LEASE_MS = 1000;
/** What a busy test machine adds to the bound: scheduling, not the protocol. */
const SLACK_MS = 400;

let proxy: TcpProxy;
let a: TestServer;
let b: TestServer;
beforeAll(async () => {
  const url = new URL(databaseUrl());
  proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port || 5432) });
  url.host = `127.0.0.1:${proxy.port}`;
  const env = { REVOCATION_LEASE_MS: String(LEASE_MS) };
  a = await startTestServer(env);
  b = await startTestServer(env, {
    ...sharedWith(a),
    databaseUrl: url.toString(),
  });
});
afterAll(async () => {
  proxy.restore();
  await b.stop();
  await a.stop();
  await proxy.close();
});

const me = (server: TestServer, token: string) => server.request(MeDocument, {}, { token });

/** One `me` on b that counts as refused unless it is answered 200 within 250 ms. */
async function probe(token: string): Promise<{ sentAt: number; status: number | "no answer" }> {
  const sentAt = performance.now();
  try {
    const response = await fetch(b.url, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: print(MeDocument) }),
      signal: AbortSignal.timeout(250),
    });
    await response.text();
    return { sentAt, status: response.status };
  } catch {
    return { sentAt, status: "no answer" };
  }
}

describe("an instance cut off from the database without a reset", () => {
  it("stops answering from memory within its lease, and a logout elsewhere returns only after that, within about the lease", async () => {
    const laptop = await signUp(a);
    const phone = await signIn(a, laptop.email);
    expect((await me(b, phone.accessToken)).status).toBe(200); // cached on b
    await sleep(LEASE_MS / 2); // b has renewed its lease and a has heard it

    proxy.hold();
    const revokedAt = performance.now();
    const probes: Awaited<ReturnType<typeof probe>>[] = [];
    const probing = (async () => {
      while (performance.now() - revokedAt < LEASE_MS + SLACK_MS + 1500) probes.push(await probe(phone.accessToken));
    })();
    const logout = await a.request(LogoutDocument, {}, { token: phone.accessToken });
    const returnedAt = performance.now();
    await probing;
    proxy.restore();

    expect(logout.data).toEqual({ logout: true });
    expect(returnedAt - revokedAt).toBeLessThanOrEqual(LEASE_MS + SLACK_MS);
    const answeredAfter = (t: number) => probes.filter((p) => p.sentAt >= t && p.status === 200).length;
    // Not one answer from memory once the logout had returned, nor past the lease.
    expect({ afterReturn: answeredAfter(returnedAt), afterLease: answeredAfter(revokedAt + LEASE_MS + SLACK_MS) }).toEqual({
      afterReturn: 0,
      afterLease: 0,
    });
    expect(probes.filter((p) => p.sentAt >= returnedAt).length).toBeGreaterThan(0);
  }, 30_000);

  it("once it hears the database again, catches up before it answers from memory: the logged-out token is refused and a live one is cached again", async () => {
    const laptop = await signUp(a);
    const phone = await signIn(a, laptop.email);
    expect((await me(b, phone.accessToken)).status).toBe(200);
    proxy.hold();
    await a.request(LogoutDocument, {}, { token: phone.accessToken });
    await sleep(LEASE_MS);
    proxy.restore();

    let res = await me(b, phone.accessToken);
    for (let i = 0; i < 40 && res.status !== 401; i++) {
      await sleep(250);
      res = await me(b, phone.accessToken);
    }
    expect(res.errors?.[0].extensions).toEqual({ code: "UNAUTHENTICATED", reason: "SESSION_REVOKED" });
    for (let i = 0; i < 5; i++) expect((await me(b, phone.accessToken)).status).toBe(401);

    const tablet = await signIn(a, laptop.email);
    await sleep(LEASE_MS / 2);
    const loads = jest.spyOn(b.services.sessionStore, "getSessionsAndUsers");
    try {
      for (let i = 0; i < 5; i++) expect((await me(b, tablet.accessToken)).status).toBe(200);
      expect(loads).toHaveBeenCalledTimes(1);
    } finally {
      loads.mockRestore();
    }
  }, 30_000);
});
