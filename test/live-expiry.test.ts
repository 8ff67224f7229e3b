import { MeDocument } from "./gql/graphql";
import { type LiveClient, liveClients, untilSubscribedAs } from "./support/live-client";
import { startTestServer, type TestServer } from "./support/test-server";
import { signIn, signUp } from "./support/users";
import { sleep } from "./support/wait";

/** Real clocks, short lifetimes: each server is about one way a session runs out. */
let capped: TestServer; // every session lives 3 s
let idle: TestServer; // idle for 2 s ends a session
let swept: TestServer; // sweeps every second
const live = liveClients(() => capped);
beforeAll(async () => {
  [capped, idle, swept] = await Promise.all([
    startTestServer({ SESSION_MAX_TTL: "3", SESSION_IDLE_TTL: "3" }),
    startTestServer({ SESSION_MAX_TTL: "3600", SESSION_IDLE_TTL: "2" }),
    startTestServer({ SESSION_SWEEP_INTERVAL: "1" }),
  ]);
});
afterAll(async () => {
  await live.disposeAll();
  await Promise.all([capped, idle, swept].map((s) => s.stop()));
});

const subscribed = (server: TestServer, email: string, ...clients: LiveClient[]) => untilSubscribedAs(server, email, clients);

describe("a socket closes when its session expires", () => {
  it("at the absolute cap (SESSION_MAX_TTL), with an EXPIRED event that the user's other sockets hear too", async () => {
    const first = await signUp(capped);
    await sleep(1200);
    const second = await signIn(capped, first.email);
    const firstLive = live.open(first.accessToken, capped).subscribe();
    const secondLive = live.open(second.accessToken, capped).subscribe();
    await subscribed(capped, first.email, firstLive, secondLive);
    const startedAt = Date.now();

    expect(await firstLive.eventFor(first.session.id, 4000)).toMatchObject({ reason: "EXPIRED", current: true });
    expect(await firstLive.closedWithin()).toEqual({ code: 4403, reason: "SESSION_EXPIRED" });
    expect(await secondLive.eventFor(first.session.id)).toMatchObject({ reason: "EXPIRED", current: false });
    // The second session was made later and is still alive for a moment.
    expect(secondLive.isClosed).toBe(false);
    expect(Date.now() - startedAt).toBeLessThan(3500);
    const [row] = await capped.sql("SELECT revoked_reason FROM sessions WHERE id = $1", [first.session.id]);
    expect(row).toEqual({ revoked_reason: "EXPIRED" });
    expect(await secondLive.closedWithin(4000)).toEqual({ code: 4403, reason: "SESSION_EXPIRED" });
  });

  it("when idle for SESSION_IDLE_TTL", async () => {
    const user = await signUp(idle);
    const client = live.open(user.accessToken, idle).subscribe();
    const opened = Date.now();
    expect(await client.closedWithin(5000)).toEqual({ code: 4403, reason: "SESSION_EXPIRED" });
    expect(Date.now() - opened).toBeGreaterThanOrEqual(1000);
  });
});

describe("the sweeper", () => {
  it("marks a session that expired with no socket open as EXPIRED and tells the user's live sockets", async () => {
    const user = await signUp(swept);
    const other = await signIn(swept, user.email);
    const client = live.open(user.accessToken, swept).subscribe();
    await subscribed(swept, user.email, client);

    await swept.sql("UPDATE sessions SET expires_at = now() WHERE id = $1", [other.session.id]);
    expect(await client.eventFor(other.session.id, 4000)).toMatchObject({ reason: "EXPIRED", current: false });
    const [row] = await swept.sql("SELECT revoked_reason FROM sessions WHERE id = $1", [other.session.id]);
    expect(row).toEqual({ revoked_reason: "EXPIRED" });
    expect(client.isClosed).toBe(false);
    // HTTP still says why: expired, not revoked.
    expect((await swept.request(MeDocument, {}, { token: other.accessToken })).errors?.[0].extensions).toEqual({
      code: "UNAUTHENTICATED",
      reason: "SESSION_EXPIRED",
    });
  });

  it("marks each expired session once when two sweeps race", async () => {
    const user = await signUp(swept);
    const extra = await Promise.all([1, 2, 3].map(() => signIn(swept, user.email)));
    await swept.sql("UPDATE sessions SET expires_at = now() WHERE id = ANY($1::uuid[])", [extra.map((s) => s.session.id)]);
    const [a, b] = await Promise.all([
      swept.services.sessions.revokeExpiredSessions(),
      swept.services.sessions.revokeExpiredSessions(),
    ]);
    const mine = [...a, ...b].filter((r) => r.userId === user.user.id).map((r) => r.sessionId);
    // Either this race or the periodic sweep claimed them; never twice.
    expect(new Set(mine).size).toBe(mine.length);
    const rows = await swept.sql(
      "SELECT count(*)::int AS n FROM sessions WHERE id = ANY($1::uuid[]) AND revoked_reason = 'EXPIRED'",
      [extra.map((s) => s.session.id)],
    );
    expect(rows).toEqual([{ n: 3 }]);
  });
});
