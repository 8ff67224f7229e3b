import type { SessionApiEvent } from "../backend/src/index";
import { createSessionVerifier } from "../backend/src/index";
import { ServiceScope } from "../src/service-keys/service-key";
import { LogoutAllDevicesDocument } from "./gql/graphql";
import { startTestServer, type TestServer } from "./support/test-server";
import { signIn, signUp } from "./support/users";

/**
 * `sessions.events({ after })` in @session-api/backend: the feed as an async iterator, resumed
 * from a stored cursor, over the real server.
 */
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

describe("sessions.events", () => {
  it("iterates every event in order, waits for new ones, and resumes after a stored cursor", async () => {
    const { key } = await server.services.serviceKeys.createKey("warehouse", [ServiceScope.EVENTS_READ]);
    const sessions = createSessionVerifier({ url: server.url, serviceKey: key });
    const user = await signUp(server);
    const second = await signIn(server, user.email);
    const expected = (await server.sql<{ id: string }>("SELECT id FROM outbox_events ORDER BY xid, seq")).map((r) => r.id);

    const seen: SessionApiEvent[] = [];
    const abort = new AbortController();
    const reading = (async () => {
      for await (const event of sessions.events({ pageSize: 1, pollMs: 50, signal: abort.signal })) seen.push(event);
    })();
    const until = async (n: number) => {
      for (const end = Date.now() + 10_000; seen.length < n; ) {
        if (Date.now() > end) throw new Error(`saw ${seen.length} of ${n} events`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    await until(expected.length);
    expect(seen.map((e) => e.id)).toEqual(expected);
    expect(seen.map((e) => e.type)).toEqual(["session.created", "session.created"]);

    // A new event reaches the waiting iterator.
    const ended = await server.request(LogoutAllDevicesDocument, { keepCurrent: true }, { token: second.accessToken });
    expect(ended.errors).toBeUndefined();
    await until(3);
    expect(seen[2]).toMatchObject({ type: "session.revoked", data: { reason: "LOGOUT_ALL" } });
    abort.abort();
    await reading;

    // A backend restarting from its stored cursor gets what follows it, nothing twice.
    const resumed: SessionApiEvent[] = [];
    for await (const event of sessions.events({ after: seen[0].cursor, pollMs: 50 })) {
      resumed.push(event);
      if (resumed.length === 2) break;
    }
    expect(resumed.map((e) => e.id)).toEqual(seen.slice(1, 3).map((e) => e.id));
  });

  it("throws when the key lacks events:read", async () => {
    const { key } = await server.services.serviceKeys.createKey("crm", [ServiceScope.SESSIONS_READ]);
    const sessions = createSessionVerifier({ url: server.url, serviceKey: key });
    await expect(sessions.events().next()).rejects.toThrow(/FORBIDDEN/);
  });
});
