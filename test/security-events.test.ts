import type { MySecurityEventsQuery } from "./gql/graphql";
import {
  ChangeEmailDocument,
  ChangePasswordDocument,
  LoginDocument,
  LogoutAllDevicesDocument,
  LogoutDocument,
  MeDocument,
  MySecurityEventsDocument,
  ReauthenticateDocument,
  RefreshSessionDocument,
  RevokeSessionDocument,
} from "./gql/graphql";
import { startTestServer, type TestServer } from "./support/test-server";
import { addSessionsLike, PASSWORD, signIn, signUp, uniqueEmail } from "./support/users";

const UA = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36";
const logLines: string[] = [];
let server: TestServer;
beforeAll(async () => {
  // No reuse grace, so a replayed refresh token is treated as theft at once; every log line kept.
  server = await startTestServer({ REFRESH_REUSE_GRACE: "0", LOG_LEVEL: "trace" }, undefined, { logLines });
});
afterAll(() => server.stop());

async function eventsOf(token: string, first = 100) {
  const res = await server.request(MySecurityEventsDocument, { first }, { token });
  if (!res.data) throw new Error(JSON.stringify(res.errors));
  return res.data.mySecurityEvents.edges.map((e) => e.node);
}
const types = async (token: string) => (await eventsOf(token)).map((e) => e.type);

describe("the security activity log", () => {
  it("records a registration and its first sign-in with the client's IP and parsed device", async () => {
    const user = await signUp(server, { userAgent: UA });
    const events = await eventsOf(user.accessToken);
    expect(events.map((e) => e.type)).toEqual(["LOGIN", "REGISTER"]);
    expect(events[0]).toMatchObject({
      sessionId: user.session.id,
      ipAddress: "127.0.0.1",
      userAgent: UA,
      browser: "Chrome 124",
      os: "Mac OS 10.15.7",
      deviceType: "desktop",
      details: {},
    });
  });

  it("records a failed login against the account, without the attempted password", async () => {
    const user = await signUp(server);
    await server.request(LoginDocument, { input: { email: user.email, password: "not my password" } });
    const [failed] = await eventsOf(user.accessToken);
    expect(failed).toMatchObject({
      type: "LOGIN_FAILED",
      sessionId: null,
      ipAddress: "127.0.0.1",
      details: { reason: "INVALID_CREDENTIALS" },
    });
  });

  it("records a failed login for an unknown email with no user and no email", async () => {
    const email = uniqueEmail();
    await server.request(LoginDocument, { input: { email, password: "whatever1" } });
    const rows = await server.sql("SELECT * FROM security_events WHERE user_id IS NULL AND type = 'LOGIN_FAILED'");
    expect(rows.length).toBeGreaterThan(0);
    expect(JSON.stringify(rows)).not.toContain(email);
  });

  it("records a logout, a revocation by another session, logout of all devices and refresh-token reuse, each with its reason", async () => {
    const user = await signUp(server);
    const phone = await signIn(server, user.email);
    const tablet = await signIn(server, user.email);
    const laptop = await signIn(server, user.email);

    await server.request(RevokeSessionDocument, { id: phone.session.id }, { token: user.accessToken });
    await server.request(LogoutDocument, {}, { token: tablet.accessToken });
    await server.request(RefreshSessionDocument, { refreshToken: laptop.refreshToken });
    await server.request(RefreshSessionDocument, { refreshToken: laptop.refreshToken }); // replay
    const other = await signIn(server, user.email);
    await server.request(LogoutAllDevicesDocument, { keepCurrent: true }, { token: user.accessToken });

    const events = await eventsOf(user.accessToken);
    const ended = events.filter((e) => !["LOGIN", "REGISTER"].includes(e.type));
    expect(ended.map((e) => [e.type, e.sessionId, e.details])).toEqual([
      ["SESSION_REVOKED", other.session.id, { reason: "LOGOUT_ALL", bySessionId: user.session.id }],
      ["REFRESH_TOKEN_REUSE", laptop.session.id, { reason: "REFRESH_TOKEN_REUSE" }],
      ["LOGOUT", tablet.session.id, { reason: "LOGOUT", bySessionId: tablet.session.id }],
      ["SESSION_REVOKED", phone.session.id, { reason: "REVOKED", bySessionId: user.session.id }],
    ]);
    expect(ended.map((e) => e.sessionIds)).toEqual([null, null, null, null]); // one session each
  });

  it("records an action that ends several sessions as one entry listing them all", async () => {
    const user = await signUp(server);
    const others = [await signIn(server, user.email), await signIn(server, user.email), await signIn(server, user.email)];
    await server.request(LogoutAllDevicesDocument, { keepCurrent: true }, { token: user.accessToken });

    const [entry, ...earlier] = await eventsOf(user.accessToken);
    expect(entry).toMatchObject({ type: "SESSION_REVOKED", sessionId: null, ipAddress: "127.0.0.1" });
    expect(entry.details).toEqual({ reason: "LOGOUT_ALL", bySessionId: user.session.id, sessionCount: 3 });
    expect([...entry.sessionIds!].sort()).toEqual(others.map((o) => o.session.id).sort());
    expect(earlier.map((e) => e.type)).toEqual(["LOGIN", "LOGIN", "LOGIN", "LOGIN", "REGISTER"]);
  });

  it("shows at most the first 50 ids of an action that ended more sessions, with how many it ended", async () => {
    const user = await signUp(server);
    await addSessionsLike(server, user.session.id, 120);
    expect((await server.request(LogoutAllDevicesDocument, { keepCurrent: true }, { token: user.accessToken })).data).toEqual({
      logoutAllDevices: 120,
    });
    const [entry] = await eventsOf(user.accessToken);
    expect([entry.type, entry.sessionIds?.length, entry.sessionCount, entry.details.sessionCount]).toEqual([
      "SESSION_REVOKED",
      50,
      120,
      120,
    ]);
    const [{ stored }] = await server.sql<{ stored: number }>(
      "SELECT cardinality(session_ids) AS stored FROM security_events WHERE user_id = $1 AND session_ids IS NOT NULL",
      [user.user.id],
    );
    expect(stored).toBe(120); // the log keeps them all; only the answer is cut
  });

  it("records reauthentication, a password change and an email change", async () => {
    const user = await signUp(server);
    await server.request(ReauthenticateDocument, { password: PASSWORD }, { token: user.accessToken });
    await server.request(
      ChangePasswordDocument,
      { currentPassword: PASSWORD, newPassword: "a brand new password" },
      { token: user.accessToken },
    );
    const newEmail = uniqueEmail();
    await server.request(ChangeEmailDocument, { newEmail, currentPassword: "a brand new password" }, { token: user.accessToken });
    const events = await eventsOf(user.accessToken);
    expect(events.slice(0, 3).map((e) => [e.type, e.sessionId, e.details])).toEqual([
      ["EMAIL_CHANGED", user.session.id, { previousEmail: user.email, newEmail }],
      ["PASSWORD_CHANGED", user.session.id, {}],
      ["REAUTHENTICATED", user.session.id, {}],
    ]);
  });

  it("writes an event in the same transaction as its change: a password change that fails leaves no event", async () => {
    const user = await signUp(server);
    await signIn(server, user.email);
    await server.sql(`
      CREATE FUNCTION refuse_revocation() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'injected failure'; END $$;
      CREATE TRIGGER refuse_revocation BEFORE UPDATE OF revoked_at ON sessions FOR EACH ROW EXECUTE FUNCTION refuse_revocation();
    `);
    try {
      const res = await server.request(
        ChangePasswordDocument,
        { currentPassword: PASSWORD, newPassword: "never stored pw" },
        { token: user.accessToken },
      );
      expect(res.errors?.[0].extensions.code).toBe("INTERNAL_SERVER_ERROR");
    } finally {
      await server.sql("DROP TRIGGER refuse_revocation ON sessions; DROP FUNCTION refuse_revocation();");
    }
    expect(await types(user.accessToken)).toEqual(["LOGIN", "LOGIN", "REGISTER"]);
  });

  it("is append-only: UPDATE, DELETE and TRUNCATE are refused by the database", async () => {
    await signUp(server);
    await expect(server.sql("UPDATE security_events SET type = 'X'")).rejects.toThrow(/append-only/);
    await expect(server.sql("DELETE FROM security_events")).rejects.toThrow(/append-only/);
    await expect(server.sql("TRUNCATE security_events")).rejects.toThrow(/append-only/);
  });

  it("pages newest first with opaque cursors, and caps first at 100", async () => {
    const user = await signUp(server);
    for (let i = 0; i < 3; i++) await signIn(server, user.email);
    const all = await eventsOf(user.accessToken); // 3 logins, the first login, register
    expect(all).toHaveLength(5);

    const seen: string[] = [];
    const cursors: string[] = [];
    let after: string | null | undefined;
    for (;;) {
      const res = await server.request(MySecurityEventsDocument, { first: 2, after }, { token: user.accessToken });
      const page: MySecurityEventsQuery["mySecurityEvents"] = res.data!.mySecurityEvents;
      seen.push(...page.edges.map((e) => e.node.id));
      cursors.push(...page.edges.map((e) => e.cursor));
      expect(page.pageInfo.endCursor).toBe(page.edges.at(-1)?.cursor ?? null);
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(seen).toEqual(all.map((e) => e.id));
    expect(cursors.filter((c) => seen.includes(c))).toEqual([]); // opaque, not bare ids

    const tooMany = await server.request(MySecurityEventsDocument, { first: 101 }, { token: user.accessToken });
    expect(tooMany.errors?.[0].extensions.code).toBe("BAD_USER_INPUT");
    const badCursor = await server.request(MySecurityEventsDocument, { first: 2, after: "bm9wZQ" }, { token: user.accessToken });
    expect(badCursor.errors?.[0].extensions.code).toBe("BAD_USER_INPUT");
  });

  it("shows each user only their own events, and nobody without a token", async () => {
    const alice = await signUp(server);
    const bob = await signUp(server);
    const aliceEvents = await eventsOf(alice.accessToken);
    expect(aliceEvents.every((e) => e.sessionId === null || e.sessionId === alice.session.id)).toBe(true);
    expect((await eventsOf(bob.accessToken)).map((e) => e.id)).not.toEqual(expect.arrayContaining([aliceEvents[0].id]));
    const anonymous = await server.request(MySecurityEventsDocument, { first: 1 });
    expect(anonymous.errors?.[0].extensions.code).toBe("UNAUTHENTICATED");
  });

  it("never holds a token, a hash or a password, and neither do the server's logs", async () => {
    const user = await signUp(server);
    const other = await signIn(server, user.email);
    await server.request(LoginDocument, { input: { email: user.email, password: "a wrong guess!" } });
    const rotated = (await server.request(RefreshSessionDocument, { refreshToken: other.refreshToken })).data!.refreshSession;
    await server.request(
      ChangePasswordDocument,
      { currentPassword: PASSWORD, newPassword: "the next password" },
      { token: user.accessToken },
    );
    // An unexpected database failure mid-login is logged with its error, never its parameters.
    await server.sql("ALTER TABLE sessions RENAME TO sessions_gone");
    try {
      await server.request(LoginDocument, { input: { email: user.email, password: "the next password" } });
    } finally {
      await server.sql("ALTER TABLE sessions_gone RENAME TO sessions");
    }
    expect(logLines.length).toBeGreaterThan(0);

    const [{ password_hash }] = await server.sql<{ password_hash: string }>("SELECT password_hash FROM users WHERE id = $1", [
      user.user.id,
    ]);
    const hashes = await server.sql<{ h: string }>("SELECT encode(secret_hash, 'hex') AS h FROM sessions WHERE user_id = $1", [
      user.user.id,
    ]);
    const secrets = [
      PASSWORD,
      "a wrong guess!",
      "the next password",
      password_hash,
      password_hash.split("$").at(-1)!,
      ...hashes.map((r) => r.h),
      ...[user, other, rotated].flatMap((s) => [s.accessToken, s.refreshToken!, s.refreshToken!.split(".")[1]]),
    ];
    const table = JSON.stringify(await server.sql("SELECT * FROM security_events"));
    const logs = logLines.join("\n");
    for (const secret of secrets) {
      expect(table).not.toContain(secret);
      expect(logs).not.toContain(secret);
    }
  });
  it("logs every refused access token with its reason, session and IP, never the token itself", async () => {
    const user = await signUp(server);
    await server.request(LogoutDocument, {}, { token: user.accessToken });
    const from = logLines.length;
    expect((await server.request(MeDocument, {}, { token: user.accessToken })).status).toBe(401);
    expect((await server.request(MeDocument, {}, { token: "not-a-token" })).status).toBe(401);
    const refused = logLines
      .slice(from)
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((entry) => entry.msg === "refused access token");
    expect(refused).toEqual([
      expect.objectContaining({ level: 30, reason: "SESSION_REVOKED", sessionId: user.session.id, ip: "127.0.0.1" }),
      expect.objectContaining({ level: 30, reason: "TOKEN_INVALID", ip: "127.0.0.1" }),
    ]);
    expect(logLines.slice(from).join("\n")).not.toContain(user.accessToken);
  });
});
