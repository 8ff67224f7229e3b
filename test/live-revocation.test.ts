import {
  ChangePasswordDocument,
  LogoutAllDevicesDocument,
  LogoutDocument,
  RefreshSessionDocument,
  RevokeSessionDocument,
} from "./gql/graphql";
import { type LiveClient, liveClients, sleep, untilSubscribedAs } from "./support/live-client";
import { startTestServer, type TestServer } from "./support/test-server";
import { addSessionsLike, PASSWORD, signIn, signUp } from "./support/users";

let server: TestServer;
const live = liveClients(() => server);
beforeAll(async () => {
  // No grace: a replayed refresh token is treated as theft at once.
  server = await startTestServer({ REFRESH_REUSE_GRACE: "0" });
});
afterAll(async () => {
  await live.disposeAll();
  await server.stop();
});

const subscribed = (email: string, ...clients: LiveClient[]) => untilSubscribedAs(server, email, clients);

/** A user signed in on two devices, each with a live socket subscribed to sessionRevoked. */
async function twoDevices() {
  const laptop = await signUp(server, { deviceName: "laptop" });
  const phone = await signIn(server, laptop.email, { deviceName: "phone" });
  const laptopLive = live.open(laptop.accessToken).subscribe();
  const phoneLive = live.open(phone.accessToken).subscribe();
  await subscribed(laptop.email, laptopLive, phoneLive);
  return { laptop, phone, laptopLive, phoneLive };
}

describe("two devices, one revoked", () => {
  it("tells both sockets, closes the revoked one with 4403 and keeps the other open and listening", async () => {
    const { laptop, phone, laptopLive, phoneLive } = await twoDevices();

    const res = await server.request(RevokeSessionDocument, { id: phone.session.id }, { token: laptop.accessToken });
    expect(res.data).toEqual({ revokeSession: true });

    const onPhone = await phoneLive.eventFor(phone.session.id);
    const onLaptop = await laptopLive.eventFor(phone.session.id);
    expect(onPhone).toEqual({ sessionId: phone.session.id, reason: "REVOKED", revokedAt: expect.any(String), current: true });
    expect(onLaptop).toEqual({ ...onPhone, current: false });
    const [row] = await server.sql<{ revoked_at: Date }>("SELECT revoked_at FROM sessions WHERE id = $1", [phone.session.id]);
    expect(new Date(onPhone.revokedAt).getTime()).toBe(row.revoked_at.getTime());

    expect(await phoneLive.closedWithin()).toEqual({ code: 4403, reason: "SESSION_REVOKED" });

    // The laptop's socket is still open: it hears the next ending too.
    const tablet = await signIn(server, laptop.email);
    await server.request(LogoutDocument, {}, { token: tablet.accessToken });
    expect(await laptopLive.eventFor(tablet.session.id)).toMatchObject({ reason: "LOGOUT", current: false });
    expect(laptopLive.isClosed).toBe(false);
  });
});

describe("every way a session ends publishes one event with its reason", () => {
  it("logout: LOGOUT, and the logged-out socket is closed", async () => {
    const { laptop, laptopLive, phoneLive } = await twoDevices();
    await server.request(LogoutDocument, {}, { token: laptop.accessToken });
    expect(await laptopLive.eventFor(laptop.session.id)).toMatchObject({ reason: "LOGOUT", current: true });
    expect(await phoneLive.eventFor(laptop.session.id)).toMatchObject({ reason: "LOGOUT", current: false });
    expect((await laptopLive.closedWithin()).code).toBe(4403);
  });

  it("logoutAllDevices with keepCurrent: LOGOUT_ALL for every other session, the current socket kept", async () => {
    const { laptop, phone, laptopLive, phoneLive } = await twoDevices();
    const tablet = await signIn(server, laptop.email);
    await server.request(LogoutAllDevicesDocument, { keepCurrent: true }, { token: laptop.accessToken });
    for (const ended of [phone.session.id, tablet.session.id]) {
      expect(await laptopLive.eventFor(ended)).toMatchObject({ reason: "LOGOUT_ALL", current: false });
    }
    expect(await phoneLive.eventFor(phone.session.id)).toMatchObject({ reason: "LOGOUT_ALL", current: true });
    expect((await phoneLive.closedWithin()).code).toBe(4403);
    expect(laptopLive.events.filter((e) => e.sessionId === laptop.session.id)).toEqual([]);
    expect(laptopLive.isClosed).toBe(false);
  });

  it("logoutAllDevices without keepCurrent: LOGOUT_ALL, and every socket is closed", async () => {
    const { laptop, phone, laptopLive, phoneLive } = await twoDevices();
    await server.request(LogoutAllDevicesDocument, { keepCurrent: false }, { token: phone.accessToken });
    expect(await laptopLive.eventFor(laptop.session.id)).toMatchObject({ reason: "LOGOUT_ALL", current: true });
    expect(await phoneLive.eventFor(phone.session.id)).toMatchObject({ reason: "LOGOUT_ALL", current: true });
    expect((await laptopLive.closedWithin()).code).toBe(4403);
    expect((await phoneLive.closedWithin()).code).toBe(4403);
  });

  it("changePassword: PASSWORD_CHANGED for the other sessions", async () => {
    const { laptop, phone, laptopLive, phoneLive } = await twoDevices();
    const res = await server.request(
      ChangePasswordDocument,
      { currentPassword: PASSWORD, newPassword: "another long passphrase" },
      { token: laptop.accessToken },
    );
    expect(res.data).toEqual({ changePassword: 1 });
    expect(await phoneLive.eventFor(phone.session.id)).toMatchObject({ reason: "PASSWORD_CHANGED", current: true });
    expect(await laptopLive.eventFor(phone.session.id)).toMatchObject({ reason: "PASSWORD_CHANGED", current: false });
    expect((await phoneLive.closedWithin()).code).toBe(4403);
    expect(laptopLive.isClosed).toBe(false);
  });

  it("a replayed refresh token: REFRESH_TOKEN_REUSE, and the stolen session's socket is closed", async () => {
    const { laptop, phone, laptopLive, phoneLive } = await twoDevices();
    const rotated = await server.request(RefreshSessionDocument, { refreshToken: phone.refreshToken! });
    expect(rotated.data?.refreshSession.session.id).toBe(phone.session.id);
    const replay = await server.request(RefreshSessionDocument, { refreshToken: phone.refreshToken! });
    expect(replay.errors?.[0].extensions).toEqual({ code: "UNAUTHENTICATED", reason: "REFRESH_TOKEN_REUSE" });
    expect(await phoneLive.eventFor(phone.session.id)).toMatchObject({ reason: "REFRESH_TOKEN_REUSE", current: true });
    expect(await laptopLive.eventFor(phone.session.id)).toMatchObject({ reason: "REFRESH_TOKEN_REUSE", current: false });
    expect((await phoneLive.closedWithin()).code).toBe(4403);
    expect(laptop.session.id).not.toBe(phone.session.id);
  });

  it("publishes exactly one event per ended session", async () => {
    const { laptop, phone, laptopLive } = await twoDevices();
    await server.request(RevokeSessionDocument, { id: phone.session.id }, { token: laptop.accessToken });
    await laptopLive.eventFor(phone.session.id);
    // Revoking again changes nothing and publishes nothing.
    expect((await server.request(RevokeSessionDocument, { id: phone.session.id }, { token: laptop.accessToken })).data).toEqual({
      revokeSession: false,
    });
    await sleep(500);
    expect(laptopLive.events.filter((e) => e.sessionId === phone.session.id)).toHaveLength(1);
  });
});

describe("another user", () => {
  it("hears nothing of someone else's revocations", async () => {
    const alice = await twoDevices();
    const bob = await signUp(server);
    const bobLive = live.open(bob.accessToken).subscribe();
    await subscribed(bob.email, bobLive);
    const heardBefore = bobLive.events.length;

    await server.request(LogoutAllDevicesDocument, { keepCurrent: false }, { token: alice.laptop.accessToken });
    // Both of alice's sessions end: each socket hears its own event (current: true) and closes.
    await alice.laptopLive.eventFor(alice.laptop.session.id);
    await alice.phoneLive.closedWithin();
    // Give a stray event every chance to arrive.
    await sleep(1000);

    expect(bobLive.events.slice(heardBefore)).toEqual([]);
    expect(bobLive.isClosed).toBe(false);
  });
});

describe("a large logoutAllDevices", () => {
  it("publishes every one of 1,000 ended sessions, across several NOTIFY payloads", async () => {
    const user = await signUp(server);
    const client = live.open(user.accessToken).subscribe();
    await subscribed(user.email, client);
    const before = client.events.length;
    await addSessionsLike(server, user.session.id, 1000);
    const res = await server.request(LogoutAllDevicesDocument, { keepCurrent: true }, { token: user.accessToken });
    expect(res.data).toEqual({ logoutAllDevices: 1000 });

    const ended = await server.sql<{ id: string }>(
      "SELECT id FROM sessions WHERE user_id = $1 AND revoked_reason = 'LOGOUT_ALL'",
      [user.user.id],
    );
    for (let waited = 0; client.events.length - before < 1000 && waited < 10_000; waited += 50) await sleep(50);
    const heard = client.events.slice(before);
    expect(new Set(heard.map((e) => e.sessionId))).toEqual(new Set(ended.map((r) => r.id)));
    expect(heard).toHaveLength(1000);
    expect(heard.every((e) => e.reason === "LOGOUT_ALL" && !e.current)).toBe(true);
  });
});
