import { LogoutAllDevicesDocument, LogoutDocument } from "./gql/graphql";
import { liveClients, sleep, untilSubscribed } from "./support/live-client";
import { startTestServer, type TestServer } from "./support/test-server";
import { signIn, signUp } from "./support/users";

let server: TestServer;
const live = liveClients(() => server);
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await live.disposeAll();
  await server.stop();
});

describe("one logoutAllDevices ending many sessions with open sockets", () => {
  it("tells each ended socket only about itself, and the surviving socket about every one", async () => {
    const keeper = await signUp(server);
    const others = [];
    for (let i = 0; i < 8; i++) others.push(await signIn(server, keeper.email));
    const keeperLive = live.open(keeper.accessToken).subscribe();
    const othersLive = others.map((o) => live.open(o.accessToken).subscribe());
    await untilSubscribed([keeperLive, ...othersLive], async () => {
      const probe = await signIn(server, keeper.email);
      await server.request(LogoutDocument, {}, { token: probe.accessToken });
      return probe.session.id;
    });
    const before = othersLive.map((c) => c.events.length);
    const keeperBefore = keeperLive.events.length;

    await server.request(LogoutAllDevicesDocument, { keepCurrent: true }, { token: keeper.accessToken });
    for (const [i, client] of othersLive.entries()) {
      expect(await client.closedWithin()).toEqual({ code: 4403, reason: "SESSION_REVOKED" });
      expect(client.events.slice(before[i])).toEqual([
        expect.objectContaining({ sessionId: others[i].session.id, current: true }),
      ]);
    }
    await Promise.all(others.map((o) => keeperLive.eventFor(o.session.id)));
    await sleep(200);
    const heard = keeperLive.events.slice(keeperBefore);
    expect(heard.map((e) => e.sessionId).sort()).toEqual(others.map((o) => o.session.id).sort());
    expect(heard.every((e) => e.current === false && e.reason === "LOGOUT_ALL")).toBe(true);
    expect(keeperLive.isClosed).toBe(false);
  });
});
