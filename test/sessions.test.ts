import { randomUUID } from "node:crypto";
import { render } from "../src/db/sql";
import { revokeStatement } from "../src/sessions/session.store";
import { LogoutAllDevicesDocument, LogoutDocument, MeDocument, MySessionsDocument, RevokeSessionDocument } from "./gql/graphql";
import { startTestServer, type TestServer } from "./support/test-server";
import { addSessionsLike, signIn, signUp } from "./support/users";

const CHROME_MAC =
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36";
const SAFARI_IPHONE =
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

describe("logout", () => {
  it("refuses the very next request made with the logged-out token, and leaves other devices signed in", async () => {
    const laptop = await signUp(server);
    const phone = await signIn(server, laptop.email);

    const out = await server.request(LogoutDocument, {}, { token: laptop.accessToken });
    expect(out).toMatchObject({ status: 200, data: { logout: true } });

    const after = await server.request(MeDocument, {}, { token: laptop.accessToken });
    expect(after.status).toBe(401);
    expect(after.data).toBeUndefined();
    expect(after.errors).toEqual([
      expect.objectContaining({ extensions: { code: "UNAUTHENTICATED", reason: "SESSION_REVOKED" } }),
    ]);

    const other = await server.request(MeDocument, {}, { token: phone.accessToken });
    expect(other.data?.me.email).toBe(laptop.email);
  });

  it("answers true without a token, so a client can always call it", async () => {
    expect(await server.request(LogoutDocument)).toMatchObject({ status: 200, data: { logout: true } });
  });

  it("ends the session so its refresh token no longer works either", async () => {
    const user = await signUp(server);
    await server.request(LogoutDocument, {}, { token: user.accessToken });
    const [row] = await server.sql<{ revoked_reason: string }>("SELECT revoked_reason FROM sessions WHERE id = $1", [
      user.session.id,
    ]);
    expect(row.revoked_reason).toBe("LOGOUT");
  });
});

describe("logoutAllDevices", () => {
  it("ends every other session when keepCurrent is true, in one call, and counts them", async () => {
    const first = await signUp(server);
    const others = [await signIn(server, first.email), await signIn(server, first.email)];

    const res = await server.request(LogoutAllDevicesDocument, { keepCurrent: true }, { token: first.accessToken });
    expect(res.data).toEqual({ logoutAllDevices: 2 });

    for (const other of others) {
      expect((await server.request(MeDocument, {}, { token: other.accessToken })).status).toBe(401);
    }
    expect((await server.request(MeDocument, {}, { token: first.accessToken })).data?.me.id).toBe(first.user.id);
  });

  it("ends the current session too when keepCurrent is false", async () => {
    const first = await signUp(server);
    await signIn(server, first.email);
    const res = await server.request(LogoutAllDevicesDocument, { keepCurrent: false }, { token: first.accessToken });
    expect(res.data).toEqual({ logoutAllDevices: 2 });
    expect((await server.request(MeDocument, {}, { token: first.accessToken })).status).toBe(401);
  });

  it("never touches another user's sessions", async () => {
    const alice = await signUp(server);
    const bob = await signUp(server);
    await server.request(LogoutAllDevicesDocument, { keepCurrent: false }, { token: alice.accessToken });
    expect((await server.request(MeDocument, {}, { token: bob.accessToken })).status).toBe(200);
  });

  it("lets exactly one of two devices survive when both end the others at the same moment, trial after trial", async () => {
    for (let trial = 0; trial < 6; trial++) {
      const laptop = await signUp(server);
      const phone = await signIn(server, laptop.email);
      const answers = await Promise.all(
        [laptop, phone].map((device) =>
          server.request(LogoutAllDevicesDocument, { keepCurrent: true }, { token: device.accessToken }),
        ),
      );
      // One ended the other; the other found its own session already ended, and ended nothing.
      const winners = answers.filter((a) => a.data?.logoutAllDevices === 1);
      const losers = answers.filter((a) => a.status === 401);
      expect([winners.length, losers.length]).toEqual([1, 1]);
      expect(losers[0].errors?.[0].extensions).toEqual({ code: "UNAUTHENTICATED", reason: "SESSION_REVOKED" });
      const live = await server.sql<{ id: string }>("SELECT id FROM sessions WHERE user_id = $1 AND revoked_at IS NULL", [
        laptop.user.id,
      ]);
      const survivor = answers[0] === winners[0] ? laptop : phone;
      expect(live).toEqual([{ id: survivor.session.id }]);
      expect((await server.request(MeDocument, {}, { token: survivor.accessToken })).status).toBe(200);
    }
  });

  it("rewrites each ended row in place (a HOT update), touching no index", async () => {
    // What keeps 10,000 revocations cheap (migration SessionsHotRevocation): an index that
    // covers revoked_at, even in a partial index's predicate, would make every one of them
    // insert into every index of the table. The statement is the one the service runs.
    const user = await signUp(server);
    await addSessionsLike(server, user.session.id, 20);
    await server.sql("BEGIN");
    try {
      const statement = render(revokeStatement({ kind: "user-sessions", userId: user.user.id }, "LOGOUT_ALL"));
      const batches = await server.sql<{ ids: string }>(statement.text, statement.values);
      const [{ hot }] = await server.sql<{ hot: string }>(
        "SELECT pg_stat_get_xact_tuples_hot_updated('sessions'::regclass) AS hot",
      );
      expect(batches.flatMap((b) => JSON.parse(b.ids) as string[])).toHaveLength(21);
      expect(Number(hot)).toBe(21);
    } finally {
      await server.sql("ROLLBACK");
    }
  });
});

describe("mySessions", () => {
  it("lists only the caller's live sessions, current first, with the parsed device", async () => {
    const mac = await signUp(server, { deviceName: "Work laptop", userAgent: CHROME_MAC });
    const iphone = await signIn(server, mac.email, { deviceName: "Phone", userAgent: SAFARI_IPHONE });
    const ended = await signIn(server, mac.email);
    await server.request(LogoutDocument, {}, { token: ended.accessToken });
    await signUp(server); // someone else

    const res = await server.request(MySessionsDocument, {}, { token: iphone.accessToken });
    const sessions = res.data!.mySessions;
    expect(sessions.map((s) => [s.id, s.current])).toEqual([
      [iphone.session.id, true],
      [mac.session.id, false],
    ]);
    expect(sessions[0]).toMatchObject({
      deviceName: "Phone",
      browser: "Mobile Safari 17",
      os: "iOS 17.5",
      deviceType: "mobile",
      userAgent: SAFARI_IPHONE,
      ipAddress: "127.0.0.1",
    });
    expect(sessions[1]).toMatchObject({
      deviceName: "Work laptop",
      browser: "Chrome 126",
      os: "Mac OS 10.15.7",
      deviceType: "desktop",
    });
    expect(Object.keys(sessions[0])).not.toContain("secretHash");
  });

  it("shows the stored timestamps to the millisecond", async () => {
    const a = await signUp(server);
    // Microseconds the list must truncate, as every other read does, not round.
    await server.sql("UPDATE sessions SET last_active_at = '2031-02-03 04:05:06.789999+00' WHERE id = $1", [a.session.id]);
    const res = await server.request(MySessionsDocument, {}, { token: a.accessToken });
    expect(res.data!.mySessions).toEqual([
      expect.objectContaining({ createdAt: a.session.createdAt, lastActiveAt: "2031-02-03T04:05:06.789Z" }),
    ]);
  });

  it("orders the other sessions by last activity, most recent first", async () => {
    const a = await signUp(server);
    const b = await signIn(server, a.email);
    const c = await signIn(server, a.email);
    await server.sql("UPDATE sessions SET last_active_at = now() - interval '5 minutes' WHERE id = $1", [b.session.id]);
    await server.sql("UPDATE sessions SET last_active_at = now() - interval '1 minute' WHERE id = $1", [c.session.id]);
    const res = await server.request(MySessionsDocument, {}, { token: b.accessToken });
    expect(res.data!.mySessions.map((s) => s.id)).toEqual([b.session.id, a.session.id, c.session.id]);
  });
});

describe("mySessions pages", () => {
  it("answers at most 100 sessions per call, the current one first, and pages the rest by last activity with after", async () => {
    const user = await signUp(server);
    await addSessionsLike(server, user.session.id, 250);
    // Distinct activity times, and some ties broken by id.
    await server.sql(
      `UPDATE sessions SET last_active_at = now() - make_interval(secs => (hashtext(id::text) % 500 + 500) / 10)
       WHERE user_id = $1 AND id <> $2`,
      [user.user.id, user.session.id],
    );
    const expected = await server.sql<{ id: string }>(
      `SELECT id FROM sessions WHERE user_id = $1 AND id <> $2 ORDER BY last_active_at DESC, created_at DESC, id DESC`,
      [user.user.id, user.session.id],
    );
    const page = async (after?: string) => {
      const res = await server.request(MySessionsDocument, { after }, { token: user.accessToken });
      return res.data!.mySessions.map((s) => s.id);
    };
    const first = await page();
    expect(first).toHaveLength(100);
    expect(first[0]).toBe(user.session.id);
    const second = await page(first.at(-1));
    const third = await page(second.at(-1));
    expect([second.length, third.length]).toEqual([100, 51]);
    expect([...first, ...second, ...third]).toEqual([user.session.id, ...expected.map((r) => r.id)]);
    // Right after the current session: the others from the top.
    expect((await page(user.session.id)).slice(0, 99)).toEqual(first.slice(1));
  });

  it("takes first from 1 to 100, refuses a malformed cursor, and gives an empty page after another user's session", async () => {
    const user = await signUp(server);
    const other = await signIn(server, user.email);
    const stranger = await signUp(server);
    const ask = (variables: { first?: number; after?: string }) =>
      server.request(MySessionsDocument, variables, { token: user.accessToken });
    expect((await ask({ first: 1 })).data?.mySessions.map((s) => s.id)).toEqual([user.session.id]);
    expect((await ask({ first: 1, after: user.session.id })).data?.mySessions.map((s) => s.id)).toEqual([other.session.id]);
    expect((await ask({ first: 101 })).errors?.[0].extensions).toEqual({
      code: "BAD_USER_INPUT",
      fields: [{ field: "first", messages: ["first must not be greater than 100"] }],
    });
    expect((await ask({ after: "nope" })).errors?.[0].extensions).toEqual({
      code: "BAD_USER_INPUT",
      fields: [{ field: "after", messages: ["after must be a session id (the last id of the previous page)"] }],
    });
    expect((await ask({ after: stranger.session.id })).data?.mySessions).toEqual([]);
  });
});

describe("revokeSession", () => {
  it("ends one of the caller's sessions at once", async () => {
    const laptop = await signUp(server);
    const phone = await signIn(server, laptop.email);
    const res = await server.request(RevokeSessionDocument, { id: phone.session.id }, { token: laptop.accessToken });
    expect(res.data).toEqual({ revokeSession: true });
    expect((await server.request(MeDocument, {}, { token: phone.accessToken })).errors?.[0].extensions).toEqual({
      code: "UNAUTHENTICATED",
      reason: "SESSION_REVOKED",
    });
  });

  it("answers another user's session exactly like a missing one, and changes nothing", async () => {
    const attacker = await signUp(server);
    const victim = await signUp(server);

    const foreign = await server.request(RevokeSessionDocument, { id: victim.session.id }, { token: attacker.accessToken });
    const missing = await server.request(RevokeSessionDocument, { id: randomUUID() }, { token: attacker.accessToken });
    expect({ status: foreign.status, data: foreign.data, errors: foreign.errors }).toEqual({
      status: missing.status,
      data: missing.data,
      errors: missing.errors,
    });
    expect(foreign.data).toEqual({ revokeSession: false });
    expect((await server.request(MeDocument, {}, { token: victim.accessToken })).status).toBe(200);
  });

  it("refuses a malformed id as BAD_USER_INPUT", async () => {
    const user = await signUp(server);
    const res = await server.request(RevokeSessionDocument, { id: "not-a-uuid" }, { token: user.accessToken });
    expect(res.data).toBeNull();
    expect(res.errors?.[0].extensions.code).toBe("BAD_USER_INPUT");
  });
});

describe("without a token", () => {
  it.each([
    ["me", MeDocument],
    ["mySessions", MySessionsDocument],
  ])("%s is UNAUTHENTICATED", async (_name, document) => {
    const res = await server.request(document as typeof MeDocument);
    expect(res.errors?.[0].extensions).toEqual({ code: "UNAUTHENTICATED", reason: "TOKEN_MISSING" });
  });
});
