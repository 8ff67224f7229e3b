import { LogoutDocument } from "./gql/graphql";
import { type LiveClient, liveClients } from "./support/live-client";
import { startTestServer, type TestServer } from "./support/test-server";
import { signIn, signUp } from "./support/users";
import { eventually, sleep } from "./support/wait";

/**
 * WebSocket caps, with the real graphql-ws client (support/live-client.ts): a socket past a
 * cap is refused with 4029 and the cap's name, and no open socket is evicted for it.
 */
let server: TestServer;
const live = liveClients(() => server);
beforeAll(async () => {
  server = await startTestServer({ WS_MAX_PER_SESSION: "2", WS_MAX_PER_USER: "3", WS_MAX_PER_IP: "5" });
});
afterEach(async () => {
  await live.disposeAll();
  await eventually(async () => expect(server.services.live.size).toBe(0));
  await sleep(50); // the per-IP count drops on the server's own close event
});
afterAll(() => server.stop());

async function connected(clients: LiveClient[]) {
  await Promise.all(clients.map((c) => c.connected));
}

describe("WebSocket caps", () => {
  it("refuses a session's third socket with 4029 SESSION_LIMIT, and keeps the first two open and listening", async () => {
    const user = await signUp(server);
    const [a, b] = [live.open(user.accessToken).subscribe(), live.open(user.accessToken).subscribe()];
    await connected([a, b]);
    const third = live.open(user.accessToken);
    expect(await third.closedWithin()).toEqual({ code: 4029, reason: "SESSION_LIMIT" });
    await sleep(100);
    expect([a.isClosed, b.isClosed]).toEqual([false, false]);
    // Both kept sockets still hear their session's end.
    await server.request(LogoutDocument, {}, { token: user.accessToken });
    expect((await a.closedWithin()).code).toBe(4403);
    expect((await b.closedWithin()).code).toBe(4403);
  });

  it("admits a socket again once its session is back under the cap", async () => {
    const user = await signUp(server);
    const [a, b] = [live.open(user.accessToken), live.open(user.accessToken)];
    await connected([a, b]);
    await a.dispose();
    await eventually(async () => expect(server.services.live.size).toBe(1));
    const c = live.open(user.accessToken);
    await c.connected;
    expect(c.isClosed).toBe(false);
  });

  it("refuses a user's fourth socket, across sessions, with 4029 USER_LIMIT", async () => {
    const user = await signUp(server);
    const other = await signIn(server, user.email);
    const open = [live.open(user.accessToken), live.open(user.accessToken), live.open(other.accessToken)];
    await connected(open);
    const fourth = live.open(other.accessToken);
    expect(await fourth.closedWithin()).toEqual({ code: 4029, reason: "USER_LIMIT" });
    expect(open.map((c) => c.isClosed)).toEqual([false, false, false]);
  });

  it("refuses an IP's sixth socket with 4029 IP_LIMIT, whoever it belongs to", async () => {
    const users = await Promise.all([signUp(server), signUp(server), signUp(server)]);
    const open = [
      live.open(users[0].accessToken),
      live.open(users[0].accessToken),
      live.open(users[1].accessToken),
      live.open(users[1].accessToken),
      live.open(users[2].accessToken),
    ];
    await connected(open);
    const sixth = live.open(users[2].accessToken);
    expect(await sixth.closedWithin()).toEqual({ code: 4029, reason: "IP_LIMIT" });
    expect(open.map((c) => c.isClosed)).toEqual([false, false, false, false, false]);
  });
});

describe("the instance's ceiling", () => {
  let small: TestServer;
  const smallLive = liveClients(() => small);
  beforeAll(async () => {
    small = await startTestServer({ WS_MAX_CONNECTIONS: "2" });
  });
  afterAll(async () => {
    await smallLive.disposeAll();
    await small.stop();
  });

  it("refuses a socket past WS_MAX_CONNECTIONS with 4029 SERVER_LIMIT, before it is even signed in", async () => {
    const [one, two] = [await signUp(small), await signUp(small)];
    const open = [smallLive.open(one.accessToken), smallLive.open(two.accessToken)];
    await connected(open);
    const third = smallLive.openWith({});
    expect(await third.closedWithin()).toEqual({ code: 4029, reason: "SERVER_LIMIT" });
    expect(open.map((c) => c.isClosed)).toEqual([false, false]);
  });
});
