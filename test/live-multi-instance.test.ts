import { Client } from "pg";
import { LogoutDocument, MeDocument, RevokeSessionDocument } from "./gql/graphql";
import { type LiveClient, liveClients, untilSubscribedAs } from "./support/live-client";
import { databaseUrl, sharedWith, startTestServer, type TestServer } from "./support/test-server";
import { signIn, signUp } from "./support/users";
import { sleep, until } from "./support/wait";

/** Two instances of the server on one database, as behind a load balancer. */
let a: TestServer;
let b: TestServer;
const live = liveClients(() => a);
beforeAll(async () => {
  a = await startTestServer();
  b = await startTestServer({}, sharedWith(a));
});
afterAll(async () => {
  await live.disposeAll();
  await b.stop();
  await a.stop(); // drops the schema: last
});

const subscribed = (email: string, ...clients: LiveClient[]) => untilSubscribedAs(a, email, clients);

/** Laptop's socket on instance A, phone's on instance B. */
async function acrossInstances() {
  const laptop = await signUp(a);
  const phone = await signIn(b, laptop.email);
  const laptopLive = live.open(laptop.accessToken, a).subscribe();
  const phoneLive = live.open(phone.accessToken, b).subscribe();
  await subscribed(laptop.email, laptopLive, phoneLive);
  return { laptop, phone, laptopLive, phoneLive };
}

describe("a revocation made on one instance", () => {
  it("is refused by the other instance as soon as the mutation returns, over HTTP and WebSocket", async () => {
    const laptop = await signUp(a);
    const phone = await signIn(a, laptop.email);
    expect((await b.request(MeDocument, {}, { token: phone.accessToken })).status).toBe(200);

    await a.request(RevokeSessionDocument, { id: phone.session.id }, { token: laptop.accessToken });
    // b held the session in its cache; the revoking call waited for b's acknowledgement.
    const res = await b.request(MeDocument, {}, { token: phone.accessToken });
    expect(res.errors?.[0].extensions).toEqual({ code: "UNAUTHENTICATED", reason: "SESSION_REVOKED" });
    const late = live.open(phone.accessToken, b).subscribe();
    expect(await late.closedWithin()).toEqual({ code: 4403, reason: "SESSION_REVOKED" });
  });

  it("reaches the sockets on the other instance: the revoked one hears current: true and is closed", async () => {
    const { laptop, phone, laptopLive, phoneLive } = await acrossInstances();
    await a.request(RevokeSessionDocument, { id: phone.session.id }, { token: laptop.accessToken });
    expect(await phoneLive.eventFor(phone.session.id)).toMatchObject({ reason: "REVOKED", current: true });
    expect(await laptopLive.eventFor(phone.session.id)).toMatchObject({ reason: "REVOKED", current: false });
    expect(await phoneLive.closedWithin()).toEqual({ code: 4403, reason: "SESSION_REVOKED" });
    expect(laptopLive.isClosed).toBe(false);
  });
});

describe("when an instance loses its listening connection", () => {
  async function killListener(server: TestServer) {
    const pid = server.fanout.backendPid;
    expect(pid).toEqual(expect.any(Number));
    const [row] = await server.sql<{ killed: boolean }>("SELECT pg_terminate_backend($1) AS killed", [pid]);
    expect(row.killed).toBe(true);
    return pid;
  }

  it("catches up on a revocation made in the database during the gap, and closes the socket", async () => {
    const { laptop, phone, laptopLive } = await acrossInstances();
    const oldPid = await killListener(a);
    // No NOTIFY at all: only the re-check after reconnecting can find it.
    await a.sql("UPDATE sessions SET revoked_at = now(), revoked_reason = 'REVOKED' WHERE id = $1", [laptop.session.id]);

    expect(await laptopLive.eventFor(laptop.session.id, 10_000)).toMatchObject({ reason: "REVOKED", current: true });
    expect(await laptopLive.closedWithin()).toEqual({ code: 4403, reason: "SESSION_REVOKED" });
    await until(() => a.fanout.backendPid !== null, 10_000);
    expect(a.fanout.backendPid).not.toBe(oldPid);
    expect(phone.session.id).not.toBe(laptop.session.id);
  });

  it("catches up on a revocation made through the other instance during the gap, and keeps listening afterwards", async () => {
    const { laptop, phone, laptopLive, phoneLive } = await acrossInstances();
    await killListener(a);
    await b.request(LogoutDocument, {}, { token: laptop.accessToken });

    expect(await laptopLive.eventFor(laptop.session.id, 10_000)).toMatchObject({ reason: "LOGOUT", current: true });
    expect(await laptopLive.closedWithin()).toEqual({ code: 4403, reason: "SESSION_REVOKED" });
    expect(await phoneLive.eventFor(laptop.session.id)).toMatchObject({ reason: "LOGOUT", current: false });

    // A's new listening connection carries later revocations as usual.
    await until(() => a.fanout.backendPid !== null, 10_000);
    const tablet = await signIn(a, laptop.email);
    const tabletLive = live.open(tablet.accessToken, a).subscribe();
    await subscribed(laptop.email, tabletLive);
    await b.request(LogoutDocument, {}, { token: phone.accessToken });
    expect(await tabletLive.eventFor(phone.session.id)).toMatchObject({ reason: "LOGOUT", current: false });
  });
});

describe("stop() (what SIGTERM runs)", () => {
  it("closes sockets with 1001, lets an in-flight request finish, then resolves", async () => {
    const c = await startTestServer({}, sharedWith(a));
    const user = await signUp(c);
    const socket = live.open(user.accessToken, c).subscribe();
    await subscribed(user.email, socket);

    // Hold the session's row so the logout below is in flight when stop() begins.
    const locker = new Client({ connectionString: databaseUrl(), options: `-c search_path=${a.dbSchema}` });
    await locker.connect();
    try {
      await locker.query("BEGIN");
      await locker.query("SELECT 1 FROM sessions WHERE id = $1 FOR UPDATE", [user.session.id]);
      const inFlight = c.request(LogoutDocument, {}, { token: user.accessToken });
      await sleep(300);

      let stopped = false;
      const stopping = c.stop().then(() => (stopped = true));
      expect(await socket.closedWithin()).toEqual({ code: 1001, reason: "Going away" });
      expect(stopped).toBe(false);

      await locker.query("COMMIT");
      expect(await inFlight).toMatchObject({ status: 200, data: { logout: true } });
      await stopping;
      expect(stopped).toBe(true);
    } finally {
      await locker.end();
    }
    const [row] = await a.sql("SELECT revoked_reason FROM sessions WHERE id = $1", [user.session.id]);
    expect(row).toEqual({ revoked_reason: "LOGOUT" });
  });
});
