import {
  LoginDocument,
  LogoutDocument,
  MySecurityEventsDocument,
  MySessionsDocument,
  RefreshSessionDocument,
  RegisterDocument,
  SecureAccountDocument,
} from "./gql/graphql";
import { type LiveClient, liveClients } from "./support/live-client";
import { sharedWith, startTestServer, type TestServer } from "./support/test-server";
import { PASSWORD, signIn, signUp, uniqueEmail } from "./support/users";
import { sleep, until } from "./support/wait";

/**
 * Account security on every device (issue 18): new sign-ins pushed live, recognised devices,
 * "this wasn't me", remember me, and a session limit that says why.
 */
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
  await a.stop();
});

const CHROME_WINDOWS =
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";

async function login(
  server: TestServer,
  email: string,
  input: Record<string, unknown> = {},
  headers: Record<string, string> = {},
) {
  return server.request(LoginDocument, { input: { email, password: PASSWORD, ...input } }, { headers });
}

/**
 * Waits until both subscriptions of every client are live: a throwaway session of the user
 * signs in and out, until every client has heard both its sessionCreated and its end.
 */
async function untilListening(server: TestServer, email: string, clients: LiveClient[]) {
  for (let attempt = 0; attempt < 10; attempt++) {
    const throwaway = (await login(server, email)).data!.login;
    await server.request(LogoutDocument, {}, { token: throwaway.accessToken });
    const heard = await Promise.all(
      clients.map((c) =>
        Promise.all([c.createdFor(throwaway.session.id, 500), c.eventFor(throwaway.session.id, 500)]).then(
          () => true,
          () => false,
        ),
      ),
    );
    if (heard.every(Boolean)) return;
  }
  throw new Error("subscriptions did not become active");
}

describe("sessionCreated", () => {
  it("reaches the user's other sockets on both instances with the parsed device, and nobody else's", async () => {
    const laptop = await signUp(a, { deviceName: "laptop" });
    const phone = await signIn(b, laptop.email, { deviceName: "phone" });
    const stranger = await signUp(a);
    const laptopLive = live.open(laptop.accessToken, a).subscribe().subscribeCreated();
    const phoneLive = live.open(phone.accessToken, b).subscribe().subscribeCreated();
    const strangerLive = live.open(stranger.accessToken, b).subscribe().subscribeCreated();
    await untilListening(a, laptop.email, [laptopLive, phoneLive]);
    await untilListening(a, stranger.email, [strangerLive]);

    const res = await login(b, laptop.email, { deviceName: "work PC", deviceId: "work-pc-1" }, { "user-agent": CHROME_WINDOWS });
    const session = res.data!.login.session;
    const expected = {
      newDevice: true,
      session: {
        ...session,
        current: false,
        browser: "Chrome 124",
        os: "Windows 10",
        deviceType: "desktop",
        deviceName: "work PC",
        ipAddress: "127.0.0.1",
        newDevice: true,
        persistent: true,
      },
    };
    expect(await laptopLive.createdFor(session.id)).toEqual(expected);
    expect(await phoneLive.createdFor(session.id)).toEqual(expected);

    // The new session's own socket does not hear of itself; the stranger hears nothing of it.
    const workLive = live.open(res.data!.login.accessToken, a).subscribe().subscribeCreated();
    await untilListening(a, laptop.email, [workLive]);
    await sleep(200);
    expect(workLive.created.map((e) => e.session.id)).not.toContain(session.id);
    expect(strangerLive.created.map((e) => e.session.id)).not.toContain(session.id);
    expect(strangerLive.created.every((e) => e.session.id !== laptop.session.id)).toBe(true);
  });

  it("over HTTP is refused, like sessionRevoked", async () => {
    const user = await signUp(a);
    const res = await a.post({ query: "subscription { sessionCreated { newDevice } }" }, { token: user.accessToken });
    expect(res.errors?.[0].extensions).toMatchObject({ code: "BAD_REQUEST" });
  });
});

describe("newDevice", () => {
  it("is true on the first sign-in from a device id and false on the next, per account, and the log records it", async () => {
    const user = await signUp(a, { deviceName: "first" });
    expect(user.session.newDevice).toBe(true);
    const first = (await login(a, user.email, { deviceId: "phone-abc_123" })).data!.login;
    const again = (await login(b, user.email, { deviceId: "phone-abc_123" })).data!.login;
    const other = (await login(a, user.email, { deviceId: "tablet-xyz" })).data!.login;
    const none = (await login(a, user.email)).data!.login;
    expect([first, again, other, none].map((s) => s.session.newDevice)).toEqual([true, false, true, true]);

    // Another account on the same device is new to that account.
    const someoneElse = await signUp(a);
    expect((await login(a, someoneElse.email, { deviceId: "phone-abc_123" })).data!.login.session.newDevice).toBe(true);

    const sessions = await a.request(MySessionsDocument, {}, { token: again.accessToken });
    expect(sessions.data!.mySessions.find((s) => s.id === again.session.id)).toMatchObject({ newDevice: false });

    const log = await a.request(MySecurityEventsDocument, { first: 20 }, { token: again.accessToken });
    const logins = log.data!.mySecurityEvents.edges.map((e) => e.node).filter((e) => e.type === "LOGIN");
    expect(logins.find((e) => e.sessionId === again.session.id)?.details).toEqual({ newDevice: false, persistent: true });
    expect(logins.find((e) => e.sessionId === first.session.id)?.details).toEqual({ newDevice: true, persistent: true });
    expect(logins.find((e) => e.sessionId === user.session.id)?.details).toEqual({
      newDevice: true,
      persistent: true,
      deviceName: "first",
    });

    // Only a keyed hash is stored, never the id.
    const rows = await a.sql<{ device_hash: Buffer }>("SELECT device_hash FROM user_devices WHERE user_id = $1", [user.user.id]);
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      expect(row.device_hash).toHaveLength(32);
      expect(row.device_hash.toString("latin1")).not.toContain("phone");
    }
  });

  it("in cookie mode comes from a __Host-device cookie: HttpOnly, Secure, SameSite=Lax, 400 days", async () => {
    const user = await signUp(a);
    const cookieMode = { "x-auth-transport": "cookie" };
    const firstRes = await login(a, user.email, {}, cookieMode);
    const device = firstRes.headers.getSetCookie().find((c) => c.startsWith("__Host-device="))!;
    expect(device).toMatch(/^__Host-device=[A-Za-z0-9_-]{43}; Max-Age=34560000; Path=\/; Secure; HttpOnly; SameSite=Lax$/);
    expect(firstRes.data!.login.session.newDevice).toBe(true);
    const pair = device.split(";")[0];
    const second = await login(a, user.email, {}, { ...cookieMode, cookie: pair });
    expect(second.data!.login.session.newDevice).toBe(false);
    // The same cookie comes back, its lifetime renewed.
    expect(
      second.headers
        .getSetCookie()
        .find((c) => c.startsWith("__Host-device="))
        ?.split(";")[0],
    ).toBe(pair);
    // In cookie mode a deviceId in the body is ignored: the cookie is the device.
    const bodyId = await login(a, user.email, { deviceId: "not-this-one" }, { ...cookieMode, cookie: pair });
    expect(bodyId.data!.login.session.newDevice).toBe(false);
  });

  it.each([
    ["forged", "abc.def;Path=/"],
    ["oversized", "a".repeat(65)],
    ["empty", ""],
    ["non-ASCII", "télé"],
  ])("refuses a %s device id with BAD_USER_INPUT, at login and register, creating nothing", async (_kind, deviceId) => {
    const user = await signUp(a);
    const res = await login(a, user.email, { deviceId });
    expect(res.data).toBeNull();
    expect(res.errors?.map((e) => e.extensions.code)).toEqual(["BAD_USER_INPUT"]);
    expect(JSON.stringify(res.errors)).not.toContain(deviceId || "\u0000");
    const email = uniqueEmail();
    const reg = await a.request(RegisterDocument, { input: { email, password: PASSWORD, deviceId } });
    expect(reg.errors?.map((e) => e.extensions.code)).toEqual(["BAD_USER_INPUT"]);
    expect(await a.sql("SELECT id FROM users WHERE email = $1", [email])).toEqual([]);
  });

  it("refuses a non-string device id with BAD_USER_INPUT", async () => {
    const user = await signUp(a);
    const res = await a.post({
      query: "mutation ($input: LoginInput!) { login(input: $input) { accessToken } }",
      variables: { input: { email: user.email, password: PASSWORD, deviceId: { $ne: 1 } } },
    });
    expect(res.errors?.map((e) => e.extensions.code)).toEqual(["BAD_USER_INPUT"]);
    const number = await a.post({
      query: "mutation ($input: LoginInput!) { login(input: $input) { accessToken } }",
      variables: { input: { email: user.email, password: PASSWORD, deviceId: 12345 } },
    });
    expect(number.errors?.map((e) => e.extensions.code)).toEqual(["BAD_USER_INPUT"]);
  });
});

describe("secureAccount", () => {
  it("needs a fresh session", async () => {
    const user = await signUp(a);
    await a.sql("UPDATE sessions SET authenticated_at = now() - interval '1 day' WHERE id = $1", [user.session.id]);
    const res = await a.request(SecureAccountDocument, {}, { token: user.accessToken });
    expect(res.errors?.map((e) => e.extensions)).toEqual([{ code: "FORBIDDEN", reason: "SESSION_NOT_FRESH" }]);
  });

  it("ends exactly the other sessions with SECURITY_CONCERN, tells their sockets on both instances, and logs once", async () => {
    const owner = await signUp(a);
    const thief = await signIn(b, owner.email, { deviceName: "thief" });
    const tablet = await signIn(a, owner.email, { deviceName: "tablet" });
    const stranger = await signUp(a);
    const thiefLive = live.open(thief.accessToken, b).subscribe().subscribeCreated();
    const ownerLive = live.open(owner.accessToken, a).subscribe().subscribeCreated();
    await untilListening(a, owner.email, [thiefLive, ownerLive]);

    const res = await a.request(SecureAccountDocument, {}, { token: owner.accessToken });
    expect(res.data).toEqual({ secureAccount: 2 });
    expect(await thiefLive.eventFor(thief.session.id)).toMatchObject({ reason: "SECURITY_CONCERN", current: true });
    expect(await thiefLive.closedWithin()).toEqual({ code: 4403, reason: "SESSION_REVOKED" });
    expect(await ownerLive.eventFor(tablet.session.id)).toMatchObject({ reason: "SECURITY_CONCERN", current: false });
    expect((await b.request(MySessionsDocument, {}, { token: thief.accessToken })).status).toBe(401);

    const rows = await a.sql<{ id: string; revoked_reason: string | null }>(
      "SELECT id, revoked_reason FROM sessions WHERE user_id = $1 AND revoked_reason IS DISTINCT FROM 'LOGOUT' ORDER BY created_at",
      [owner.user.id],
    );
    expect(rows).toEqual([
      { id: owner.session.id, revoked_reason: null },
      { id: thief.session.id, revoked_reason: "SECURITY_CONCERN" },
      { id: tablet.session.id, revoked_reason: "SECURITY_CONCERN" },
    ]);
    const [stranger1] = await a.sql("SELECT revoked_at FROM sessions WHERE id = $1", [stranger.session.id]);
    expect(stranger1).toEqual({ revoked_at: null });
    const entries = await a.sql<{ type: string; details: Record<string, unknown>; session_ids: string[] }>(
      "SELECT type, details, session_ids FROM security_events WHERE user_id = $1 AND details->>'reason' = 'SECURITY_CONCERN'",
      [owner.user.id],
    );
    expect(entries).toEqual([
      {
        type: "SESSION_REVOKED",
        details: { reason: "SECURITY_CONCERN", bySessionId: owner.session.id, sessionCount: 2 },
        session_ids: expect.arrayContaining([thief.session.id, tablet.session.id]),
      },
    ]);
  });

  it("with keepCurrent: false ends this session too", async () => {
    const user = await signUp(a);
    await signIn(a, user.email);
    const res = await a.request(SecureAccountDocument, { keepCurrent: false }, { token: user.accessToken });
    expect(res.data).toEqual({ secureAccount: 2 });
    expect((await a.request(MySessionsDocument, {}, { token: user.accessToken })).status).toBe(401);
  });
});

describe("rememberMe", () => {
  let short: TestServer;
  beforeAll(async () => {
    short = await startTestServer({ SESSION_SHORT_TTL: "2", SESSION_SWEEP_INTERVAL: "1" });
  });
  afterAll(() => short.stop());

  it("false: the session ends at SESSION_SHORT_TTL and its cookie has no lifetime; the default stays persistent", async () => {
    const user = await signUp(short);
    const cookieMode = { "x-auth-transport": "cookie" };
    const brief = await login(short, user.email, { rememberMe: false }, cookieMode);
    const kept = await login(short, user.email, {}, cookieMode);
    const refreshCookie = (res: { headers: Headers }) =>
      res.headers.getSetCookie().find((c) => c.startsWith("__Host-refresh_token="))!;
    expect(refreshCookie(brief)).toMatch(/^__Host-refresh_token=[^;]+; Path=\/; Secure; HttpOnly; SameSite=Strict$/);
    expect(refreshCookie(brief)).not.toMatch(/Max-Age|Expires/i);
    expect(refreshCookie(kept)).toMatch(/; Max-Age=\d+;/);
    expect(brief.data!.login.session.persistent).toBe(false);
    expect(kept.data!.login.session.persistent).toBe(true);
    const lifetime =
      new Date(brief.data!.login.session.expiresAt).getTime() - new Date(brief.data!.login.session.createdAt).getTime();
    expect(lifetime).toBe(2000);

    // A refresh keeps the cookie a browser-session one.
    const pair = refreshCookie(brief).split(";")[0];
    const refreshed = await short.request(RefreshSessionDocument, {}, { headers: { ...cookieMode, cookie: pair } });
    expect(refreshCookie(refreshed)).not.toMatch(/Max-Age|Expires/i);

    // Its access token never outlives it.
    expect(new Date(refreshed.data!.refreshSession.accessTokenExpiresAt).getTime()).toBeLessThanOrEqual(
      new Date(brief.data!.login.session.expiresAt).getTime(),
    );
    await sleep(2300);
    const next = refreshCookie(refreshed).split(";")[0];
    const late = await short.request(RefreshSessionDocument, {}, { headers: { ...cookieMode, cookie: next } });
    expect(late.errors?.[0].extensions).toEqual({ code: "UNAUTHENTICATED", reason: "SESSION_EXPIRED" });
    const keptPair = refreshCookie(kept).split(";")[0];
    const keptRefresh = await short.request(RefreshSessionDocument, {}, { headers: { ...cookieMode, cookie: keptPair } });
    expect(keptRefresh.data?.refreshSession.session.persistent).toBe(true);
  });
});

describe("the session limit", () => {
  let limited: TestServer;
  const limitedLive = liveClients(() => limited);
  beforeAll(async () => {
    limited = await startTestServer({ MAX_SESSIONS_PER_USER: "3" });
  });
  afterAll(async () => {
    await limitedLive.disposeAll();
    await limited.stop();
  });

  it("evicts exactly one session, the least recently active, and tells it why", async () => {
    const first = await signUp(limited, { deviceName: "first" });
    const second = await signIn(limited, first.email, { deviceName: "second" });
    const third = await signIn(limited, first.email, { deviceName: "third" });
    // The oldest sign-in is the most recently used: the second is now the least recently active.
    await limited.sql("UPDATE sessions SET last_active_at = now() - interval '1 hour' WHERE id = ANY($1)", [
      [second.session.id, third.session.id],
    ]);
    await limited.sql("UPDATE sessions SET last_active_at = now() - interval '2 hours' WHERE id = $1", [second.session.id]);
    const secondLive = limitedLive.open(second.accessToken).subscribe();
    const firstLive = limitedLive.open(first.accessToken).subscribe().subscribeCreated();
    // All three subscriptions registered on the server before the sign-in that evicts.
    await until(() => limited.services.live.subscriptionCount >= 3, 5000);

    const fourth = (await login(limited, first.email, { deviceName: "fourth" })).data!.login;
    expect(await secondLive.eventFor(second.session.id)).toMatchObject({ reason: "SESSION_LIMIT", current: true });
    expect(await secondLive.closedWithin()).toEqual({ code: 4403, reason: "SESSION_REVOKED" });
    expect(await firstLive.createdFor(fourth.session.id)).toMatchObject({ session: { deviceName: "fourth" } });
    expect(await firstLive.eventFor(second.session.id)).toMatchObject({ reason: "SESSION_LIMIT", current: false });

    const sessions = await limited.request(MySessionsDocument, {}, { token: first.accessToken });
    expect(sessions.data!.mySessions.map((s) => s.deviceName).sort()).toEqual(["first", "fourth", "third"]);
    const entries = await limited.sql(
      "SELECT session_id, details FROM security_events WHERE details->>'reason' = 'SESSION_LIMIT'",
    );
    expect(entries).toEqual([{ session_id: second.session.id, details: { reason: "SESSION_LIMIT" } }]);
  });

  it("holds under twenty parallel sign-ins: exactly the limit stays live", async () => {
    const five = await startTestServer(
      // Twenty sign-ins in flight at once each hold a throttle point until their password is checked.
      {
        MAX_SESSIONS_PER_USER: "5",
        PASSWORD_HASH_QUEUE: "32",
        PASSWORD_HASH_CONCURRENCY: "4",
        LOGIN_MAX_FAILURES_PER_ACCOUNT: "50",
      },
      { dbSchema: limited.dbSchema },
    );
    try {
      const user = await signUp(five);
      const results = await Promise.all(Array.from({ length: 20 }, () => login(five, user.email)));
      expect(results.filter((r) => !r.data?.login).map((r) => r.errors?.[0].extensions)).toEqual([]);
      const [{ n }] = await five.sql<{ n: number }>(
        "SELECT count(*)::int AS n FROM sessions WHERE user_id = $1 AND revoked_at IS NULL",
        [user.user.id],
      );
      expect(n).toBe(5);
      const [{ evicted }] = await five.sql<{ evicted: number }>(
        "SELECT count(*)::int AS evicted FROM sessions WHERE user_id = $1 AND revoked_reason = 'SESSION_LIMIT'",
        [user.user.id],
      );
      expect(evicted).toBe(16);
    } finally {
      await five.stop();
    }
  });

  it("a sign-in that fails halfway sends no sessionCreated and evicts nobody", async () => {
    const user = await signUp(limited);
    const second = await signIn(limited, user.email);
    const third = await signIn(limited, user.email);
    const userLive = limitedLive.open(user.accessToken).subscribe().subscribeCreated();
    await sleep(300);
    const heardBefore = userLive.created.length + userLive.events.length;
    // The eviction (an UPDATE on sessions) fails, after the new session's INSERT and its NOTIFY.
    await limited.sql(`
      CREATE FUNCTION refuse_eviction() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'injected failure'; END $$;
      CREATE TRIGGER refuse_eviction BEFORE UPDATE OF revoked_at ON sessions
        FOR EACH ROW WHEN (NEW.revoked_reason = 'SESSION_LIMIT') EXECUTE FUNCTION refuse_eviction();`);
    try {
      const res = await login(limited, user.email, { deviceName: "halfway" });
      expect(res.errors?.map((e) => e.extensions.code)).toEqual(["INTERNAL_SERVER_ERROR"]);
    } finally {
      await limited.sql("DROP TRIGGER refuse_eviction ON sessions; DROP FUNCTION refuse_eviction()");
    }
    await sleep(300);
    expect(userLive.created.length + userLive.events.length).toBe(heardBefore);
    const live3 = await limited.sql("SELECT id FROM sessions WHERE user_id = $1 AND revoked_at IS NULL ORDER BY created_at", [
      user.user.id,
    ]);
    expect(live3).toEqual([{ id: user.session.id }, { id: second.session.id }, { id: third.session.id }]);
    expect(await limited.sql("SELECT id FROM sessions WHERE device_name = 'halfway'")).toEqual([]);
  });
});
