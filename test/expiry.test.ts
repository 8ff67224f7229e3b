import {
  LoginDocument,
  LogoutAllDevicesDocument,
  MeDocument,
  RefreshSessionDocument,
  RevokeSessionDocument,
} from "./gql/graphql";
import { type GraphQLResponse, startTestServer, type TestServer } from "./support/test-server";
import { PASSWORD, signIn, signUp } from "./support/users";
import { sleep } from "./support/wait";

const IDLE = 2;
const MAX = 3;
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ SESSION_IDLE_TTL: String(IDLE), SESSION_MAX_TTL: String(MAX), REFRESH_REUSE_GRACE: "0" });
});
afterAll(() => server.stop());

const refresh = (refreshToken: string) => server.request(RefreshSessionDocument, { refreshToken });
/** The shape of a refusal, without the reason that tells the kinds apart. */
const shape = (res: GraphQLResponse<unknown>) => ({
  status: res.status,
  data: res.data,
  errors: res.errors?.map((e) => ({ message: e.message, code: e.extensions.code })),
});

describe("session timeouts, with short real TTLs", () => {
  it("refuses an idle-expired session exactly like a revoked one, and writes nothing", async () => {
    const idle = await signUp(server);
    const bystander = await signIn(server, idle.email);
    const revoked = await signIn(server, idle.email);
    await server.request(RevokeSessionDocument, { id: revoked.session.id }, { token: bystander.accessToken });
    await sleep(IDLE * 1000 + 200);

    const fresh = await signIn(server, idle.email);
    const idleRefresh = await refresh(idle.refreshToken!);
    const revokedRefresh = await refresh(revoked.refreshToken!);
    expect(shape(idleRefresh)).toEqual(shape(revokedRefresh));
    expect(idleRefresh.errors?.[0].extensions).toEqual({ code: "UNAUTHENTICATED", reason: "SESSION_EXPIRED" });
    expect(revokedRefresh.errors?.[0].extensions).toEqual({ code: "UNAUTHENTICATED", reason: "SESSION_REVOKED" });

    const idleMe = await server.request(MeDocument, {}, { token: idle.accessToken });
    const revokedMe = await server.request(MeDocument, {}, { token: revoked.accessToken });
    expect(shape(idleMe)).toEqual(shape(revokedMe));

    const write = await server.request(LogoutAllDevicesDocument, { keepCurrent: false }, { token: idle.accessToken });
    expect(write.status).toBe(401);
    expect((await server.request(MeDocument, {}, { token: fresh.accessToken })).status).toBe(200);
  });

  it("keeps a session in use alive past the idle window but never past the absolute cap", async () => {
    const user = await signUp(server);
    const cap = new Date(user.session.createdAt).getTime() + MAX * 1000;
    let token = user.refreshToken!;
    for (const at of [1200, 2400]) {
      await sleep(at - (Date.now() - new Date(user.session.createdAt).getTime()));
      const res = await refresh(token);
      const payload = res.data!.refreshSession;
      expect(new Date(payload.session.expiresAt).getTime()).toBeLessThanOrEqual(cap);
      expect(new Date(payload.accessTokenExpiresAt).getTime()).toBeLessThanOrEqual(cap);
      token = payload.refreshToken!;
    }
    // Used 0.6 s ago, so idle-alive, but the absolute cap has passed.
    await sleep(Math.max(0, cap - Date.now()) + 200);
    const late = await refresh(token);
    expect(late).toMatchObject({ status: 401, data: null });
    expect(late.errors?.[0].extensions).toEqual({ code: "UNAUTHENTICATED", reason: "SESSION_EXPIRED" });
    const [row] = await server.sql<{ capped: boolean }>(
      "SELECT expires_at <= created_at + make_interval(secs => $2) AS capped FROM sessions WHERE id = $1",
      [user.session.id, MAX],
    );
    expect(row.capped).toBe(true);
  });
});

describe("the purge of ended sessions", () => {
  let purging: TestServer;
  beforeAll(async () => {
    purging = await startTestServer({ SESSION_RETENTION: "60", SESSION_IDLE_TTL: "600" });
  });
  afterAll(() => purging.stop());

  it("deletes sessions ended longer ago than SESSION_RETENTION, keeps the rest and the security log, and is safe to run twice at once", async () => {
    const user = await signUp(purging);
    const live = await signIn(purging, user.email);
    const recentlyRevoked = await signIn(purging, user.email);
    const longRevoked = await signIn(purging, user.email);
    const longExpired = await signIn(purging, user.email);
    const longIdle = await signIn(purging, user.email);
    await purging.request(RevokeSessionDocument, { id: recentlyRevoked.session.id }, { token: user.accessToken });
    await purging.request(RevokeSessionDocument, { id: longRevoked.session.id }, { token: user.accessToken });
    await purging.sql("UPDATE sessions SET revoked_at = now() - interval '61 seconds' WHERE id = $1", [longRevoked.session.id]);
    await purging.sql("UPDATE sessions SET expires_at = now() - interval '61 seconds' WHERE id = $1", [longExpired.session.id]);
    await purging.sql("UPDATE sessions SET last_active_at = now() - interval '661 seconds' WHERE id = $1", [longIdle.session.id]);
    await purging.sql("INSERT INTO login_throttle VALUES ('old', 1, 1), ('current', 1, $1)", [Date.now() + 60_000]);
    const eventsBefore = await purging.sql("SELECT count(*)::int AS n FROM security_events");

    const deleted = await Promise.all([purging.purge.deleteExpiredSessions(), purging.purge.deleteExpiredSessions()]);
    expect(deleted[0] + deleted[1]).toBe(3);

    const left = await purging.sql<{ id: string }>("SELECT id FROM sessions WHERE user_id = $1 ORDER BY created_at", [
      user.user.id,
    ]);
    expect(left.map((r) => r.id).sort()).toEqual([user.session.id, live.session.id, recentlyRevoked.session.id].sort());
    expect(await purging.sql("SELECT count(*)::int AS n FROM security_events")).toEqual(eventsBefore);
    expect(await purging.sql("SELECT key FROM login_throttle WHERE key IN ('old', 'current')")).toEqual([{ key: "current" }]);
    expect(await purging.purge.deleteExpiredSessions()).toBe(0);
  });

  it("forgets a device unseen for longer than its cookie lives (400 days): its next sign-in is a new device again", async () => {
    const user = await signUp(purging);
    const signInFrom = async (deviceId: string) => {
      const res = await purging.request(LoginDocument, { input: { email: user.email, password: PASSWORD, deviceId } });
      return res.data!.login.session.newDevice;
    };
    expect([await signInFrom("old-laptop"), await signInFrom("phone")]).toEqual([true, true]);
    await purging.sql("UPDATE user_devices SET last_seen_at = now() - interval '401 days' WHERE user_id = $1", [user.user.id]);
    // The phone was seen 399 days ago: still within its cookie's life.
    await purging.sql(
      "UPDATE user_devices SET last_seen_at = now() - interval '399 days' WHERE user_id = $1 AND first_seen_at = (SELECT max(first_seen_at) FROM user_devices WHERE user_id = $1)",
      [user.user.id],
    );

    expect(await purging.purge.forgetUnseenDevices()).toBe(1);
    expect(await purging.purge.forgetUnseenDevices()).toBe(0);
    expect([await signInFrom("old-laptop"), await signInFrom("phone")]).toEqual([true, false]);
  });
});
