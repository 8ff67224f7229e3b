import { LogoutDocument, MeDocument } from "./gql/graphql";
import { sharedWith, startTestServer, type TestServer } from "./support/test-server";
import { mintSessions, signUp } from "./support/users";
import { sleep } from "./support/wait";

/**
 * The cross-instance promise, exactly: once a revoking mutation has returned, no instance
 * answers that session's token. Three instances on one database, as behind a load balancer.
 */
let a: TestServer;
let b: TestServer;
let c: TestServer;
beforeAll(async () => {
  a = await startTestServer();
  const shared = sharedWith(a);
  b = await startTestServer({}, shared);
  c = await startTestServer({}, shared);
});
afterAll(async () => {
  await c.stop();
  await b.stop();
  await a.stop(); // drops the schema: last
});

const me = (server: TestServer, token: string) => server.request(MeDocument, {}, { token });

/** Requests with another user's tokens, one in flight per token and server, until `stop()`. */
function loadOn(servers: TestServer[], tokens: string[]) {
  let running = true;
  let answered = 0;
  const loops = servers.flatMap((server) =>
    tokens.map(async (token) => {
      while (running) {
        expect((await me(server, token)).status).toBe(200);
        answered++;
        await sleep(2); // leaves the trials (same process) their share of the CPU
      }
    }),
  );
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
      return answered;
    },
  };
}

describe("a logout on one of three instances", () => {
  it("is refused by the other two on the very next request, in 200 trials under load, even when their listeners hear the commit late", async () => {
    const owner = await signUp(a);
    const trials = await mintSessions(a, owner.session.id, 200);
    const busy = await signUp(a);
    const load = loadOn(
      [b, c],
      (await mintSessions(a, busy.session.id, 1)).map((s) => s.token),
    );
    const stale: { trial: number; instance: string }[] = [];
    try {
      for (const [i, { token }] of trials.entries()) {
        // Cached on both others.
        expect((await Promise.all([me(b, token), me(c, token)])).map((r) => r.status)).toEqual([200, 200]);
        // Every eighth trial one listener hears the commit 100 ms after a's does: PostgreSQL
        // sends a listener its notifications only between queries, and this keeps one running.
        const late = i % 8 === 0 ? (i % 16 === 0 ? b : c).fanout.stall(100) : null;
        const logout = await a.request(LogoutDocument, {}, { token });
        expect(logout.data).toEqual({ logout: true });
        const [onB, onC] = await Promise.all([me(b, token), me(c, token)]);
        if (onB.status !== 401) stale.push({ trial: i, instance: "b" });
        if (onC.status !== 401) stale.push({ trial: i, instance: "c" });
        await late;
      }
    } finally {
      expect(await load.stop()).toBeGreaterThan(0);
    }
    expect(stale).toEqual([]);
  }, 180_000);
});
