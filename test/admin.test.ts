import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { Client } from "pg";
import {
  AdminLockUserDocument,
  AdminRevokeSessionDocument,
  AdminRevokeUserSessionsDocument,
  AdminSecurityEventsDocument,
  AdminUnlockUserDocument,
  AdminUserDocument,
  AdminUserSessionsDocument,
  LoginDocument,
  MeDocument,
  ReauthenticateDocument,
  RefreshSessionDocument,
} from "./gql/graphql";
import { liveClients, untilSubscribedAs } from "./support/live-client";
import { databaseUrl, sharedWith, startTestServer, type TestServer } from "./support/test-server";
import { mintSessions, PASSWORD, signIn, signUp, uniqueEmail } from "./support/users";
import { sleep } from "./support/wait";

/**
 * The admin API for support staff, driven from outside: the admin command line (the built
 * `npm run admin` program, on this file's schema), two server instances on one database, as
 * behind a load balancer, and real sockets.
 */
const CLI = path.join(__dirname, "..", "dist", "src", "admin", "cli.js");

// Each run of the command line is a process of its own, about a second on an idle machine,
// several on a busy one; a test that runs four of them needs more than the default 30 s.
jest.setTimeout(120_000);

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

/** `npm run admin -- <args>` against `server`'s schema, as an operator runs it. */
async function admin(server: TestServer, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const url = new URL(databaseUrl());
  url.searchParams.set("options", `-c search_path=${server.dbSchema}`);
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [CLI, "admin", ...args], {
      env: { PATH: process.env.PATH, NODE_ENV: "test", DATABASE_URL: url.toString(), LOG_LEVEL: "silent" },
      timeout: 30_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

/** A new account made an admin by the command line, signed in (fresh) on `server`. */
async function newAdmin(server: TestServer = a) {
  const user = await signUp(server);
  expect(await admin(server, "grant", user.email)).toMatchObject({ code: 0 });
  return user;
}

const stale = (server: TestServer, sessionId: string) =>
  server.sql("UPDATE sessions SET authenticated_at = now() - interval '1 hour' WHERE id = $1", [sessionId]);

const me = (server: TestServer, token: string) => server.request(MeDocument, {}, { token });

const UNAUTHENTICATED_REVOKED = { code: "UNAUTHENTICATED", reason: "SESSION_REVOKED" };

let firstAdmin: Awaited<ReturnType<typeof newAdmin>>;
beforeAll(async () => {
  firstAdmin = await newAdmin();
});

describe("npm run admin -- grant and revoke", () => {
  it("make an account an admin and an ordinary user again, binding at its very next request, each logged as ROLE_CHANGED", async () => {
    const user = await signUp(a);
    const target = await signUp(a);
    const ask = () => a.request(AdminUserDocument, { id: target.user.id }, { token: user.accessToken });
    expect((await ask()).errors?.[0].extensions).toEqual({ code: "FORBIDDEN", reason: "ADMIN_REQUIRED" });

    const granted = await admin(a, "grant", user.email.toUpperCase());
    expect(granted).toEqual({ code: 0, stdout: `${user.email} (${user.user.id}) is now ADMIN\n`, stderr: "" });
    expect((await ask()).data?.adminUser).toMatchObject({ id: target.user.id, email: target.email, role: "USER" });
    expect((await admin(a, "grant", user.email)).stdout).toContain("already was ADMIN; nothing changed");

    expect(await admin(a, "revoke", user.email)).toMatchObject({
      code: 0,
      stdout: `${user.email} (${user.user.id}) is now USER\n`,
    });
    // The same session, still cached as an admin's a moment ago: the role is read at each request.
    const after = await ask();
    expect({ status: after.status, data: after.data, extensions: after.errors?.[0].extensions }).toEqual({
      status: 200,
      data: { adminUser: null },
      extensions: { code: "FORBIDDEN", reason: "ADMIN_REQUIRED" },
    });

    const events = await a.request(AdminSecurityEventsDocument, { userId: user.user.id }, { token: firstAdmin.accessToken });
    const roleChanges = events.data?.adminSecurityEvents.edges
      .filter((e) => e.node.type === "ROLE_CHANGED")
      .map((e) => e.node.details);
    expect(roleChanges).toEqual([
      { role: "USER", previousRole: "ADMIN", by: { kind: "CLI" } },
      { role: "ADMIN", previousRole: "USER", by: { kind: "CLI" } },
    ]);
  });

  it("fail with exit 1 for an unknown email and exit 2 for a usage error, changing nothing", async () => {
    expect(await admin(a, "grant", uniqueEmail())).toMatchObject({
      code: 1,
      stdout: "",
      stderr: "grant: no account signs in with that email\n",
    });
    expect(await admin(a, "grant")).toMatchObject({ code: 2, stderr: "grant: give exactly one email address\n" });
    expect(await admin(a, "promote", "x@example.test")).toMatchObject({ code: 2 });
    expect((await admin(a, "help")).stdout).toContain("npm run admin -- revoke <email>");
  });
});

describe("the guard on every admin field", () => {
  /** Every admin field, with arguments that would change something if the guard let it through. */
  function everyField(victim: { user: { id: string }; session: { id: string } }) {
    const userId = victim.user.id;
    return [
      [AdminUserDocument, { id: userId }],
      [AdminUserSessionsDocument, { userId }],
      [AdminSecurityEventsDocument, { userId }],
      [AdminRevokeSessionDocument, { id: victim.session.id }],
      [AdminRevokeUserSessionsDocument, { userId }],
      [AdminLockUserDocument, { userId, reason: "guard test" }],
      [AdminUnlockUserDocument, { userId }],
    ] as const;
  }

  async function answers(token: string | undefined, victim: Parameters<typeof everyField>[0]) {
    const fields = everyField(victim);
    const results = [];
    for (const [document, variables] of fields) {
      const res = await a.request(document as never, variables as never, { token });
      results.push({ status: res.status, data: res.data, extensions: res.errors?.map((e) => e.extensions) });
    }
    return results;
  }

  it("refuses an anonymous request, a non-admin (whatever its freshness) and a stale admin session, and changes nothing", async () => {
    const victim = await signUp(a);
    const user = await signUp(a);
    const staleAdmin = await newAdmin();
    await stale(a, staleAdmin.session.id);
    // adminUser is nullable, so its response has data; the others fail as a whole, with the code's status.
    const expected = (code: string, reason: string, status: number) =>
      everyField(victim).map(([document]) =>
        document === AdminUserDocument
          ? { status: 200, data: { adminUser: null }, extensions: [{ code, reason }] }
          : { status, data: null, extensions: [{ code, reason }] },
      );

    expect(await answers(undefined, victim)).toEqual(expected("UNAUTHENTICATED", "TOKEN_MISSING", 401));
    expect(await answers(user.accessToken, victim)).toEqual(expected("FORBIDDEN", "ADMIN_REQUIRED", 403));
    await stale(a, user.session.id);
    expect(await answers(user.accessToken, victim)).toEqual(expected("FORBIDDEN", "ADMIN_REQUIRED", 403));
    expect(await answers(staleAdmin.accessToken, victim)).toEqual(expected("FORBIDDEN", "SESSION_NOT_FRESH", 403));

    expect((await me(a, victim.accessToken)).status).toBe(200);
    expect(await a.sql("SELECT locked_at FROM users WHERE id = $1", [victim.user.id])).toEqual([{ locked_at: null }]);
    const [{ count }] = await a.sql<{ count: number }>(
      "SELECT count(*)::int AS count FROM security_events WHERE user_id = $1 AND type <> 'REGISTER' AND type <> 'LOGIN'",
      [victim.user.id],
    );
    expect(count).toBe(0);
  });

  it("lets a stale admin act once they reauthenticate", async () => {
    const staleAdmin = await newAdmin();
    await stale(a, staleAdmin.session.id);
    const victim = await signUp(a);
    const ask = () => a.request(AdminUserDocument, { email: victim.email }, { token: staleAdmin.accessToken });
    expect((await ask()).errors?.[0].extensions).toEqual({ code: "FORBIDDEN", reason: "SESSION_NOT_FRESH" });
    await a.request(ReauthenticateDocument, { password: PASSWORD }, { token: staleAdmin.accessToken });
    expect((await ask()).data?.adminUser?.id).toBe(victim.user.id);
  });
});

describe("the admin queries", () => {
  it("adminUser finds an account by id or by email in any case, answers null for none, and wants exactly one of them", async () => {
    const victim = await signUp(a);
    const token = firstAdmin.accessToken;
    const expected = {
      id: victim.user.id,
      email: victim.email,
      role: "USER",
      createdAt: victim.user.createdAt,
      lockedAt: null,
      lockedReason: null,
    };
    expect((await a.request(AdminUserDocument, { id: victim.user.id }, { token })).data).toEqual({ adminUser: expected });
    expect((await a.request(AdminUserDocument, { email: victim.email.toUpperCase() }, { token })).data).toEqual({
      adminUser: expected,
    });
    expect((await a.request(AdminUserDocument, { email: uniqueEmail() }, { token })).data).toEqual({ adminUser: null });
    for (const variables of [{}, { id: victim.user.id, email: victim.email }, { id: "not-a-uuid" }]) {
      const res = await a.request(AdminUserDocument, variables, { token });
      expect(res.errors?.[0].extensions.code).toBe("BAD_USER_INPUT");
      expect(JSON.stringify(res.errors)).not.toContain("not-a-uuid");
    }
  });

  it("adminUserSessions lists a user's live sessions as the Session type, and adminSecurityEvents pages their log", async () => {
    const victim = await signUp(a, { deviceName: "laptop" });
    const phone = await signIn(a, victim.email, { deviceName: "phone" });
    const token = firstAdmin.accessToken;
    const sessions = (await a.request(AdminUserSessionsDocument, { userId: victim.user.id }, { token })).data?.adminUserSessions;
    expect(
      sessions
        ?.map((s) => ({ id: s.id, deviceName: s.deviceName, current: s.current }))
        .sort((x, y) => x.deviceName!.localeCompare(y.deviceName!)),
    ).toEqual([
      { id: victim.session.id, deviceName: "laptop", current: false },
      { id: phone.session.id, deviceName: "phone", current: false },
    ]);

    const first = (await a.request(AdminSecurityEventsDocument, { userId: victim.user.id, first: 2 }, { token })).data
      ?.adminSecurityEvents;
    expect(first?.edges.map((e) => e.node.type)).toEqual(["LOGIN", "LOGIN"]);
    expect(first?.pageInfo.hasNextPage).toBe(true);
    const rest = (
      await a.request(AdminSecurityEventsDocument, { userId: victim.user.id, after: first?.pageInfo.endCursor }, { token })
    ).data?.adminSecurityEvents;
    expect(rest?.edges.map((e) => e.node.type)).toEqual(["REGISTER"]);
    expect(rest?.pageInfo).toEqual({ hasNextPage: false, endCursor: rest?.edges[0].cursor });
  });
});

describe("adminRevokeSession and adminRevokeUserSessions", () => {
  it("end another user's session on every instance before returning: its socket on the other instance hears ADMIN_REVOKED and is closed", async () => {
    const victim = await signUp(a);
    const phone = await signIn(b, victim.email);
    expect((await me(b, phone.accessToken)).status).toBe(200); // cached on b
    const phoneLive = live.open(phone.accessToken, b).subscribe();
    await untilSubscribedAs(a, victim.email, [phoneLive]);

    const res = await a.request(AdminRevokeSessionDocument, { id: phone.session.id }, { token: firstAdmin.accessToken });
    expect(res.data).toEqual({ adminRevokeSession: true });
    expect((await me(b, phone.accessToken)).errors?.[0].extensions).toEqual(UNAUTHENTICATED_REVOKED);
    expect(await phoneLive.eventFor(phone.session.id)).toMatchObject({ reason: "ADMIN_REVOKED", current: true });
    expect(await phoneLive.closedWithin()).toEqual({ code: 4403, reason: "SESSION_REVOKED" });
    expect((await me(a, victim.accessToken)).status).toBe(200);

    // Already ended, or no such session: false.
    expect(
      (await a.request(AdminRevokeSessionDocument, { id: phone.session.id }, { token: firstAdmin.accessToken })).data,
    ).toEqual({
      adminRevokeSession: false,
    });
    const [entry] = await a.sql(
      "SELECT type, session_id, details FROM security_events WHERE user_id = $1 AND type = 'SESSION_REVOKED'",
      [victim.user.id],
    );
    expect(entry).toEqual({
      type: "SESSION_REVOKED",
      session_id: phone.session.id,
      details: { reason: "ADMIN_REVOKED", bySessionId: firstAdmin.session.id, by: { kind: "ADMIN", id: firstAdmin.user.id } },
    });
  });

  it("is refused by the other instance on the very next request in 40 trials, even when its listener hears the commit late", async () => {
    const victim = await signUp(a);
    const trials = await mintSessions(a, victim.session.id, 40);
    const stale: number[] = [];
    for (const [i, { sessionId, token }] of trials.entries()) {
      expect((await me(b, token)).status).toBe(200); // cached on b
      const late = i % 4 === 0 ? b.fanout.stall(100) : null;
      const res = await a.request(AdminRevokeSessionDocument, { id: sessionId }, { token: firstAdmin.accessToken });
      expect(res.data).toEqual({ adminRevokeSession: true });
      if ((await me(b, token)).status !== 401) stale.push(i);
      await late;
    }
    expect(stale).toEqual([]);
  });

  it("end every session of a user, answering how many, with none answered on the other instance afterwards", async () => {
    const victim = await signUp(a);
    const minted = await mintSessions(a, victim.session.id, 30);
    const tokens = [victim.accessToken, ...minted.map((m) => m.token)];
    expect((await Promise.all(tokens.map((t) => me(b, t)))).every((r) => r.status === 200)).toBe(true);

    const res = await a.request(AdminRevokeUserSessionsDocument, { userId: victim.user.id }, { token: firstAdmin.accessToken });
    expect(res.data).toEqual({ adminRevokeUserSessions: 31 });
    const after = await Promise.all(tokens.map((t) => me(b, t)));
    expect(after.filter((r) => r.status !== 401)).toEqual([]);
    const [entry] = await a.sql<{ details: Record<string, unknown> }>(
      "SELECT details FROM security_events WHERE user_id = $1 AND type = 'SESSION_REVOKED'",
      [victim.user.id],
    );
    expect(entry.details).toEqual({
      reason: "ADMIN_REVOKED",
      sessionCount: 31,
      bySessionId: firstAdmin.session.id,
      by: { kind: "ADMIN", id: firstAdmin.user.id },
    });
  });
});

describe("adminLockUser", () => {
  it("ends every session at once on both instances, closes the live socket, and refuses the refresh token", async () => {
    const victim = await signUp(a);
    const phone = await signIn(b, victim.email);
    const minted = await mintSessions(a, victim.session.id, 10);
    const tokens = [victim.accessToken, phone.accessToken, ...minted.map((m) => m.token)];
    expect((await Promise.all(tokens.map((t) => me(b, t)))).every((r) => r.status === 200)).toBe(true);
    const phoneLive = live.open(phone.accessToken, b).subscribe();
    await untilSubscribedAs(a, victim.email, [phoneLive]);

    const res = await a.request(
      AdminLockUserDocument,
      { userId: victim.user.id, reason: "reported compromised (ticket 42)" },
      { token: firstAdmin.accessToken },
    );
    expect(res.data).toEqual({ adminLockUser: 12 });
    for (const server of [a, b]) {
      const answers = await Promise.all(tokens.map((t) => me(server, t)));
      expect(answers.filter((r) => r.status !== 401)).toEqual([]);
      expect(answers[0].errors?.[0].extensions).toEqual(UNAUTHENTICATED_REVOKED);
    }
    expect(await phoneLive.eventFor(phone.session.id)).toMatchObject({ reason: "ACCOUNT_LOCKED", current: true });
    expect(await phoneLive.closedWithin()).toEqual({ code: 4403, reason: "SESSION_REVOKED" });
    const refresh = await b.request(RefreshSessionDocument, { refreshToken: phone.refreshToken });
    expect(refresh.errors?.[0].extensions.code).toBe("UNAUTHENTICATED");
    const late = live.open(victim.accessToken, b).subscribe();
    expect(await late.closedWithin()).toEqual({ code: 4403, reason: "SESSION_REVOKED" });
  });

  it("refuses the right password with exactly the answer a wrong password gets, until adminUnlockUser", async () => {
    const victim = await signUp(a);
    const token = firstAdmin.accessToken;
    await a.request(AdminLockUserDocument, { userId: victim.user.id }, { token });
    const login = async (password: string, email = victim.email) => {
      const res = await b.request(LoginDocument, { input: { email, password } });
      return { status: res.status, data: res.data, errors: res.errors, cacheControl: res.headers.get("cache-control") };
    };
    const wrong = await login("not the password at all");
    expect(wrong.errors?.[0].extensions.code).toBe("INVALID_CREDENTIALS");
    expect(await login(PASSWORD)).toEqual(wrong);
    expect(await login(PASSWORD, uniqueEmail())).toEqual(wrong);
    expect((await a.request(AdminUserDocument, { id: victim.user.id }, { token })).data?.adminUser?.lockedAt).toEqual(
      expect.any(String),
    );

    expect((await a.request(AdminUnlockUserDocument, { userId: victim.user.id }, { token })).data).toEqual({
      adminUnlockUser: true,
    });
    expect((await login(PASSWORD)).data?.login.user.id).toBe(victim.user.id);
    // Not locked any more: nothing to unlock.
    expect((await a.request(AdminUnlockUserDocument, { userId: victim.user.id }, { token })).data).toEqual({
      adminUnlockUser: false,
    });
  });

  it("refuses a sign-in that raced the lock: it waits for the lock's commit, then gets the wrong-password answer and no session", async () => {
    const victim = await signUp(a);
    // The lock's transaction, held open mid-way: the user's row locked and marked, not yet committed.
    const locker = new Client({ connectionString: databaseUrl(), options: `-c search_path=${a.dbSchema}` });
    await locker.connect();
    try {
      await locker.query("BEGIN");
      await locker.query("UPDATE users SET locked_at = now() WHERE id = $1", [victim.user.id]);
      const racing = b.request(LoginDocument, { input: { email: victim.email, password: PASSWORD } });
      await sleep(500); // the login has checked the password and waits for the user's row
      await locker.query("COMMIT");
      const res = await racing;
      expect({ data: res.data, extensions: res.errors?.[0].extensions }).toEqual({
        data: null,
        extensions: { code: "INVALID_CREDENTIALS" },
      });
    } finally {
      await locker.end();
    }
    const [{ count }] = await a.sql<{ count: number }>("SELECT count(*)::int AS count FROM sessions WHERE user_id = $1", [
      victim.user.id,
    ]);
    expect(count).toBe(1); // the one register made
  });

  it("writes audit entries naming the admin: the lock with its reason, the sessions it ended, the refused sign-in, the unlock", async () => {
    const victim = await signUp(a);
    const token = firstAdmin.accessToken;
    await a.request(AdminLockUserDocument, { userId: victim.user.id, reason: "chargeback fraud" }, { token });
    await b.request(LoginDocument, { input: { email: victim.email, password: PASSWORD } });
    await a.request(AdminUnlockUserDocument, { userId: victim.user.id }, { token });

    const events = (await a.request(AdminSecurityEventsDocument, { userId: victim.user.id }, { token })).data
      ?.adminSecurityEvents;
    const by = { kind: "ADMIN", id: firstAdmin.user.id };
    const bySessionId = firstAdmin.session.id;
    expect(events?.edges.map(({ node }) => ({ type: node.type, sessionId: node.sessionId, details: node.details }))).toEqual([
      { type: "ACCOUNT_UNLOCKED", sessionId: null, details: { by, bySessionId } },
      { type: "LOGIN_FAILED", sessionId: null, details: { reason: "ACCOUNT_LOCKED" } },
      { type: "SESSION_REVOKED", sessionId: victim.session.id, details: { reason: "ACCOUNT_LOCKED", by, bySessionId } },
      { type: "ACCOUNT_LOCKED", sessionId: null, details: { reason: "chargeback fraud", by, bySessionId } },
      { type: "LOGIN", sessionId: victim.session.id, details: { newDevice: true, persistent: true } },
      { type: "REGISTER", sessionId: null, details: {} },
    ]);
  });

  it("refuses an unknown user (BAD_USER_INPUT) and a reason over 500 characters, changing nothing", async () => {
    const token = firstAdmin.accessToken;
    const unknown = await a.request(AdminLockUserDocument, { userId: "00000000-0000-4000-8000-000000000000" }, { token });
    expect(unknown.errors?.[0].extensions.code).toBe("BAD_USER_INPUT");
    const victim = await signUp(a);
    const long = await a.request(AdminLockUserDocument, { userId: victim.user.id, reason: "x".repeat(501) }, { token });
    expect(long.errors?.[0].extensions.code).toBe("BAD_USER_INPUT");
    expect((await me(a, victim.accessToken)).status).toBe(200);
  });
});

describe("the last active admin", () => {
  let solo: TestServer;
  beforeAll(async () => {
    solo = await startTestServer();
  });
  afterAll(() => solo.stop());

  it("cannot lock themselves out nor give up the role; with a second admin, both become possible", async () => {
    const only = await newAdmin(solo);
    const refused = await solo.request(AdminLockUserDocument, { userId: only.user.id }, { token: only.accessToken });
    expect({ data: refused.data, extensions: refused.errors?.[0].extensions }).toEqual({
      data: null,
      extensions: { code: "FORBIDDEN", reason: "LAST_ADMIN" },
    });
    expect((await me(solo, only.accessToken)).status).toBe(200);
    expect(await admin(solo, "revoke", only.email)).toMatchObject({
      code: 1,
      stderr: "revoke: refused: this is the last active admin; grant another admin first\n",
    });

    const second = await newAdmin(solo);
    const locked = await solo.request(AdminLockUserDocument, { userId: only.user.id }, { token: only.accessToken });
    expect(locked.data).toEqual({ adminLockUser: 1 });
    expect((await me(solo, only.accessToken)).errors?.[0].extensions).toEqual(UNAUTHENTICATED_REVOKED);
    // The one left is now the last active admin: a locked admin does not count.
    expect((await admin(solo, "revoke", second.email)).code).toBe(1);
    expect(
      (await solo.request(AdminLockUserDocument, { userId: second.user.id }, { token: second.accessToken })).errors?.[0]
        .extensions,
    ).toEqual({
      code: "FORBIDDEN",
      reason: "LAST_ADMIN",
    });
  });
});
