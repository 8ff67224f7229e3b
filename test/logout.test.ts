import { randomUUID } from "node:crypto";
import {
  LoginDocument,
  LogoutAliasedDocument,
  LogoutAndLogoutAllDevicesDocument,
  LogoutDocument,
  LogoutWithRefreshTokenDocument,
  MeDocument,
  RefreshSessionDocument,
  RevokeSessionDocument,
} from "./gql/graphql";
import { startTestServer, type TestServer } from "./support/test-server";
import { b64, type ForgingKey, forgeToken, serverSigningKey, strangerKey } from "./support/tokens";
import { PASSWORD, signIn, signUp } from "./support/users";
import { sleep } from "./support/wait";

const GRACE_SECONDS = 2;
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ REFRESH_REUSE_GRACE: String(GRACE_SECONDS), CORS_ORIGINS: "https://app.example.test" });
});
afterAll(() => server.stop());

type User = Awaited<ReturnType<typeof signUp>>;
const COOKIE = { "x-auth-transport": "cookie" };
const CLEARED = "__Host-refresh_token=; Max-Age=0; Path=/; Secure; HttpOnly; SameSite=Strict";
const now = () => Math.floor(Date.now() / 1000);

/** A token the server itself signed, genuine in every way, that expired a moment ago. */
function expiredToken(user: { user: { id: string }; session: { id: string } }): string {
  return server.services.accessTokens.sign({ userId: user.user.id, sessionId: user.session.id }, new Date(Date.now() - 1000))
    .token;
}

/** Signs claims by hand with the server's key (or a stranger's), naming the server's key, so one field can be made wrong. */
function handSigned(
  claims: Record<string, unknown>,
  header: Record<string, unknown> = {},
  key: ForgingKey = serverSigningKey(server),
) {
  return forgeToken(claims, { key, kid: serverSigningKey(server).kid, header });
}

function expiredClaims(user: User, overrides: Record<string, unknown> = {}) {
  return {
    sub: user.user.id,
    sid: user.session.id,
    iss: "session-api",
    aud: "session-api",
    iat: now() - 600,
    exp: now() - 60,
    ...overrides,
  };
}

interface SessionRow {
  id: string;
  revoked_at: Date | null;
  revoked_reason: string | null;
  secret_hash: string;
  previous_secret_hash: string | null;
  expires_at: Date;
}

const snapshot = () =>
  server.sql<SessionRow>(
    `SELECT id, revoked_at, revoked_reason, encode(secret_hash, 'hex') AS secret_hash,
            encode(previous_secret_hash, 'hex') AS previous_secret_hash, expires_at
     FROM sessions ORDER BY id`,
  );

/**
 * Runs `action` and answers which session rows it changed, as `{ id, revoked_reason }`: the
 * whole table is compared before and after (last_active_at aside, which activity moves).
 */
async function changedBy(action: () => Promise<unknown>): Promise<{ id: string; revoked_reason: string | null }[]> {
  const before = new Map((await snapshot()).map((row) => [row.id, JSON.stringify(row)]));
  await action();
  const after = await snapshot();
  return after
    .filter((row) => before.get(row.id) !== JSON.stringify(row))
    .map(({ id, revoked_reason }) => ({ id, revoked_reason }));
}

const endedByLogout = (...sessionIds: string[]) => sessionIds.map((id) => ({ id, revoked_reason: "LOGOUT" }));

async function cookieLogin(email: string) {
  const res = await server.request(LoginDocument, { input: { email, password: PASSWORD } }, { headers: COOKIE });
  return {
    login: res.data!.login,
    cookie: res.headers
      .getSetCookie()
      .find((c) => c.startsWith("__Host-refresh_token="))!
      .split(";")[0],
  };
}

describe("logout with an access token", () => {
  it("ends the signed-in session and nothing else", async () => {
    const user = await signUp(server);
    const other = await signIn(server, user.email);
    let res: Awaited<ReturnType<typeof server.request>> | undefined;
    const changed = await changedBy(async () => (res = await server.request(LogoutDocument, {}, { token: user.accessToken })));
    expect(res).toMatchObject({ status: 200, data: { logout: true } });
    expect(changed).toEqual(endedByLogout(user.session.id));
    expect((await server.request(MeDocument, {}, { token: user.accessToken })).errors?.[0].extensions).toEqual({
      code: "UNAUTHENTICATED",
      reason: "SESSION_REVOKED",
    });
    expect((await server.request(MeDocument, {}, { token: other.accessToken })).status).toBe(200);
  });

  it("accepts a genuine token that has expired, and ends its session", async () => {
    const user = await signUp(server);
    await signIn(server, user.email);
    const token = expiredToken(user);
    expect((await server.request(MeDocument, {}, { token })).errors?.[0].extensions).toEqual({
      code: "UNAUTHENTICATED",
      reason: "TOKEN_EXPIRED",
    });
    let res: Awaited<ReturnType<typeof server.request>> | undefined;
    const changed = await changedBy(async () => (res = await server.request(LogoutDocument, {}, { token })));
    expect(res).toMatchObject({ status: 200, data: { logout: true } });
    expect(res!.errors).toBeUndefined();
    expect(changed).toEqual(endedByLogout(user.session.id));
    const events = await server.sql("SELECT type, session_id FROM security_events WHERE user_id = $1 AND type = 'LOGOUT'", [
      user.user.id,
    ]);
    expect(events).toEqual([{ type: "LOGOUT", session_id: user.session.id }]);
  });

  it("accepts an expired token for logout under an alias, with __typename beside it", async () => {
    const user = await signUp(server);
    let res: Awaited<ReturnType<typeof server.request>> | undefined;
    const changed = await changedBy(
      async () => (res = await server.request(LogoutAliasedDocument, {}, { token: expiredToken(user) })),
    );
    expect(res).toMatchObject({ status: 200, data: { signedOut: true, __typename: "Mutation" } });
    expect(changed).toEqual(endedByLogout(user.session.id));
  });

  it.each<[string, (user: User) => string]>([
    ["a garbage token", () => "garbage"],
    ["an expired token with alg: none", (u) => `${b64({ alg: "none", typ: "at+jwt" })}.${b64(expiredClaims(u))}.`],
    ["an expired token signed with another key", (u) => handSigned(expiredClaims(u), {}, strangerKey())],
    ["an expired token with a wrong issuer", (u) => handSigned(expiredClaims(u, { iss: "someone-else" }))],
    ["an expired token with a wrong audience", (u) => handSigned(expiredClaims(u, { aud: "another-api" }))],
    ["an expired token with a wrong typ", (u) => handSigned(expiredClaims(u), { typ: "JWT" })],
    ["an expired token with an unknown kid", (u) => handSigned(expiredClaims(u), { kid: "unknown-key" })],
    [
      "an expired token whose sid was changed without re-signing",
      (u) => {
        const [head, , sig] = expiredToken(u).split(".");
        return `${head}.${b64(expiredClaims(u, { sid: randomUUID() }))}.${sig}`;
      },
    ],
  ])("refuses, even for logout, %s (401 TOKEN_INVALID), ending nothing", async (_name, token) => {
    const user = await signUp(server);
    let res: Awaited<ReturnType<typeof server.request>> | undefined;
    const changed = await changedBy(async () => (res = await server.request(LogoutDocument, {}, { token: token(user) })));
    expect(res?.status).toBe(401);
    expect(res?.errors).toEqual([
      { message: "Not authenticated.", extensions: { code: "UNAUTHENTICATED", reason: "TOKEN_INVALID" } },
    ]);
    expect(changed).toEqual([]);
  });

  it("refuses an expired token that names another user's session, ending neither", async () => {
    const user = await signUp(server);
    const victim = await signUp(server);
    const token = handSigned(expiredClaims(user, { sid: victim.session.id }));
    let res: Awaited<ReturnType<typeof server.request>> | undefined;
    const changed = await changedBy(async () => (res = await server.request(LogoutDocument, {}, { token })));
    expect(res?.status).toBe(401);
    expect(res?.errors?.[0].extensions).toEqual({ code: "UNAUTHENTICATED", reason: "TOKEN_INVALID" });
    expect(changed).toEqual([]);
  });

  it.each<[string, (user: User) => string]>([
    ["a live token", (u) => u.accessToken],
    ["an expired token", (u) => expiredToken(u)],
  ])("answers true for %s whose session was already revoked, changing nothing", async (_name, token) => {
    const user = await signUp(server);
    const phone = await signIn(server, user.email);
    // Revoked from another device, so the reason shows the row was left alone.
    await server.sql("UPDATE sessions SET authenticated_at = now() WHERE id = $1", [phone.session.id]);
    expect((await server.request(RevokeSessionDocument, { id: user.session.id }, { token: phone.accessToken })).data).toEqual({
      revokeSession: true,
    });
    expect((await server.sql("SELECT revoked_reason FROM sessions WHERE id = $1", [user.session.id]))[0]).toEqual({
      revoked_reason: "REVOKED",
    });
    let res: Awaited<ReturnType<typeof server.request>> | undefined;
    const changed = await changedBy(async () => (res = await server.request(LogoutDocument, {}, { token: token(user) })));
    expect(res).toMatchObject({ status: 200, data: { logout: true } });
    expect(res!.errors).toBeUndefined();
    expect(changed).toEqual([]);
  });

  it.each<[string, (user: User) => string]>([
    ["a live token", (u) => u.accessToken],
    ["an expired token", (u) => expiredToken(u)],
  ])("answers true for %s whose session has expired, changing nothing", async (_name, token) => {
    const user = await signUp(server);
    await server.sql("UPDATE sessions SET expires_at = now() - interval '1 second' WHERE id = $1", [user.session.id]);
    let res: Awaited<ReturnType<typeof server.request>> | undefined;
    const changed = await changedBy(async () => (res = await server.request(LogoutDocument, {}, { token: token(user) })));
    expect(res).toMatchObject({ status: 200, data: { logout: true } });
    expect(changed).toEqual([]);
  });

  it("answers true for a genuine token whose session no longer exists (purged), changing nothing", async () => {
    const user = await signUp(server);
    const token = expiredToken({ user: user.user, session: { id: randomUUID() } });
    let res: Awaited<ReturnType<typeof server.request>> | undefined;
    const changed = await changedBy(async () => (res = await server.request(LogoutDocument, {}, { token })));
    expect(res).toMatchObject({ status: 200, data: { logout: true } });
    expect(changed).toEqual([]);
  });

  it("logging out twice answers true both times and ends the session once", async () => {
    const user = await signUp(server);
    const token = expiredToken(user);
    expect(await changedBy(() => server.request(LogoutDocument, {}, { token }))).toEqual(endedByLogout(user.session.id));
    let again: Awaited<ReturnType<typeof server.request>> | undefined;
    expect(await changedBy(async () => (again = await server.request(LogoutDocument, {}, { token })))).toEqual([]);
    expect(again).toMatchObject({ status: 200, data: { logout: true } });
  });
});

describe("an expired token in anything but logout alone", () => {
  it("refuses logout together with another mutation as a whole (401 TOKEN_EXPIRED), ending nothing", async () => {
    const user = await signUp(server);
    await signIn(server, user.email);
    let res: Awaited<ReturnType<typeof server.request>> | undefined;
    const changed = await changedBy(
      async () => (res = await server.request(LogoutAndLogoutAllDevicesDocument, {}, { token: expiredToken(user) })),
    );
    expect(res?.status).toBe(401);
    expect(res?.data).toBeUndefined();
    expect(res?.errors).toEqual([
      { message: "Not authenticated.", extensions: { code: "UNAUTHENTICATED", reason: "TOKEN_EXPIRED" } },
    ]);
    expect(changed).toEqual([]);
  });

  it("refuses the me query of a document that also holds a logout, and lets the logout through when that is the operation chosen", async () => {
    const user = await signUp(server);
    const token = expiredToken(user);
    const query = "mutation Out { logout } query Me { me { id } }";
    let me: Awaited<ReturnType<typeof server.post>> | undefined;
    expect(await changedBy(async () => (me = await server.post({ query, operationName: "Me" }, { token })))).toEqual([]);
    expect(me?.status).toBe(401);
    expect(me?.errors?.[0].extensions).toEqual({ code: "UNAUTHENTICATED", reason: "TOKEN_EXPIRED" });
    // Without operationName Apollo could not pick one either: refused too.
    const unnamed = await server.post({ query }, { token });
    expect(unnamed.errors?.[0].extensions).toEqual({ code: "UNAUTHENTICATED", reason: "TOKEN_EXPIRED" });
    let out: Awaited<ReturnType<typeof server.post>> | undefined;
    expect(await changedBy(async () => (out = await server.post({ query, operationName: "Out" }, { token })))).toEqual(
      endedByLogout(user.session.id),
    );
    expect(out).toMatchObject({ status: 200, data: { logout: true } });
  });

  it.each([
    ["logout inside an inline fragment", "mutation { ... on Mutation { logout } }"],
    ["__typename alone", "mutation { __typename }"],
    ["a query", "{ __typename }"],
    ["a document that does not parse", "mutation { logout"],
  ])("refuses %s (401 TOKEN_EXPIRED), ending nothing", async (_name, query) => {
    const user = await signUp(server);
    let res: Awaited<ReturnType<typeof server.post>> | undefined;
    expect(await changedBy(async () => (res = await server.post({ query }, { token: expiredToken(user) })))).toEqual([]);
    expect(res?.status).toBe(401);
    expect(res?.errors?.[0].extensions).toEqual({ code: "UNAUTHENTICATED", reason: "TOKEN_EXPIRED" });
  });

  it("refuses logout with another mutation for a token whose session was revoked (401 SESSION_REVOKED)", async () => {
    const user = await signUp(server);
    await server.request(LogoutDocument, {}, { token: user.accessToken });
    const res = await server.request(LogoutAndLogoutAllDevicesDocument, {}, { token: user.accessToken });
    expect(res.status).toBe(401);
    expect(res.errors?.[0].extensions).toEqual({ code: "UNAUTHENTICATED", reason: "SESSION_REVOKED" });
  });
});

describe("logout with a refresh token and no access token (body mode)", () => {
  const logoutWith = (refreshToken: string) => server.request(LogoutWithRefreshTokenDocument, { refreshToken });

  it("ends the session whose current refresh token it is, and nothing else", async () => {
    const user = await signUp(server);
    const other = await signIn(server, user.email);
    let res: Awaited<ReturnType<typeof logoutWith>> | undefined;
    expect(await changedBy(async () => (res = await logoutWith(user.refreshToken!)))).toEqual(endedByLogout(user.session.id));
    expect(res).toMatchObject({ status: 200, data: { logout: true } });
    expect((await server.request(MeDocument, {}, { token: user.accessToken })).status).toBe(401);
    expect((await server.request(MeDocument, {}, { token: other.accessToken })).status).toBe(200);
    const [event] = await server.sql(
      "SELECT type, session_id, details FROM security_events WHERE user_id = $1 AND type = 'LOGOUT'",
      [user.user.id],
    );
    expect(event).toEqual({
      type: "LOGOUT",
      session_id: user.session.id,
      details: { reason: "LOGOUT", bySessionId: user.session.id },
    });
  });

  it("ends the session of a refresh token spent within the grace period (another tab just refreshed)", async () => {
    const user = await signUp(server);
    const rotated = (await server.request(RefreshSessionDocument, { refreshToken: user.refreshToken })).data!.refreshSession;
    expect(await changedBy(() => logoutWith(user.refreshToken!))).toEqual(endedByLogout(user.session.id));
    // The other tab's new tokens end with it.
    expect((await server.request(RefreshSessionDocument, { refreshToken: rotated.refreshToken })).errors?.[0].extensions).toEqual(
      {
        code: "UNAUTHENTICATED",
        reason: "SESSION_REVOKED",
      },
    );
  });

  it("answers true and ends nothing for a refresh token spent before the grace period, or unknown", async () => {
    const user = await signUp(server);
    await server.request(RefreshSessionDocument, { refreshToken: user.refreshToken });
    await sleep(GRACE_SECONDS * 1000 + 100);
    const unknown = [`${user.session.id}.${"A".repeat(43)}`, `${randomUUID()}.${"A".repeat(43)}`];
    for (const refreshToken of [user.refreshToken!, ...unknown]) {
      let res: Awaited<ReturnType<typeof logoutWith>> | undefined;
      expect(await changedBy(async () => (res = await logoutWith(refreshToken)))).toEqual([]);
      expect(res).toMatchObject({ status: 200, data: { logout: true } });
    }
  });

  it("answers true and changes nothing for the refresh token of a session already ended", async () => {
    const user = await signUp(server);
    await server.request(LogoutDocument, {}, { token: user.accessToken });
    const expired = await signIn(server, user.email);
    await server.sql("UPDATE sessions SET expires_at = now() - interval '1 second' WHERE id = $1", [expired.session.id]);
    for (const refreshToken of [user.refreshToken!, expired.refreshToken!]) {
      let res: Awaited<ReturnType<typeof logoutWith>> | undefined;
      expect(await changedBy(async () => (res = await logoutWith(refreshToken)))).toEqual([]);
      expect(res).toMatchObject({ status: 200, data: { logout: true } });
    }
  });

  it("refuses a value that is not a refresh token at all (the access token, say) with BAD_USER_INPUT, ending nothing", async () => {
    const user = await signUp(server);
    let res: Awaited<ReturnType<typeof server.request>> | undefined;
    const changed = await changedBy(
      async () =>
        (res = await server.request(
          LogoutWithRefreshTokenDocument,
          { refreshToken: user.accessToken },
          { token: user.accessToken },
        )),
    );
    expect(changed).toEqual([]);
    expect(res).toMatchObject({ status: 400, data: null }); // the operation ran but produced nothing: the code's status
    expect(res?.errors).toEqual([
      expect.objectContaining({
        message: "Invalid input: refreshToken must be a refresh token (the access token was likely sent instead)",
        extensions: {
          code: "BAD_USER_INPUT",
          fields: [
            {
              field: "refreshToken",
              messages: ["refreshToken must be a refresh token (the access token was likely sent instead)"],
            },
          ],
        },
      }),
    ]);
  });

  it("ends one session once when the expired access token and the refresh token both name it", async () => {
    const user = await signUp(server);
    const changed = await changedBy(() =>
      server.request(LogoutWithRefreshTokenDocument, { refreshToken: user.refreshToken! }, { token: expiredToken(user) }),
    );
    expect(changed).toEqual(endedByLogout(user.session.id));
    expect(
      await server.sql("SELECT count(*)::int AS n FROM security_events WHERE session_id = $1 AND type = 'LOGOUT'", [
        user.session.id,
      ]),
    ).toEqual([{ n: 1 }]);
  });
});

describe("logout in cookie mode", () => {
  const logout = (headers: Record<string, string>, token?: string) =>
    server.request(LogoutDocument, {}, { token, headers: { ...COOKIE, ...headers } });

  it.each<
    [
      string,
      (
        s: { login: { accessToken: string; session: { id: string } }; cookie: string },
        u: User,
      ) => [Record<string, string>, string?],
    ]
  >([
    ["a live access token and the cookie", (s) => [{ cookie: s.cookie }, s.login.accessToken]],
    [
      "an expired access token and the cookie",
      (s, u) => [{ cookie: s.cookie }, expiredToken({ user: u.user, session: s.login.session })],
    ],
    ["an expired access token alone", (s, u) => [{}, expiredToken({ user: u.user, session: s.login.session })]],
    ["the cookie alone", (s) => [{ cookie: s.cookie }]],
  ])("with %s ends the session and clears the cookie", async (_name, credentials) => {
    const user = await signUp(server);
    const signedIn = await cookieLogin(user.email);
    const [headers, token] = credentials(signedIn, user);
    let res: Awaited<ReturnType<typeof logout>> | undefined;
    expect(await changedBy(async () => (res = await logout(headers, token)))).toEqual(endedByLogout(signedIn.login.session.id));
    expect(res).toMatchObject({ status: 200, data: { logout: true } });
    expect(res!.headers.get("set-cookie")).toBe(CLEARED);
  });

  it("ends the session of a cookie spent within the grace period, not one spent before it or forged", async () => {
    const user = await signUp(server);
    const first = await cookieLogin(user.email);
    const forged = `__Host-refresh_token=${first.login.session.id}.${"A".repeat(43)}`;
    expect(await changedBy(() => logout({ cookie: forged }))).toEqual([]);
    await server.request(RefreshSessionDocument, {}, { headers: { ...COOKIE, cookie: first.cookie } });
    expect(await changedBy(() => logout({ cookie: first.cookie }))).toEqual(endedByLogout(first.login.session.id));

    const second = await cookieLogin(user.email);
    await server.request(RefreshSessionDocument, {}, { headers: { ...COOKIE, cookie: second.cookie } });
    await sleep(GRACE_SECONDS * 1000 + 100);
    let res: Awaited<ReturnType<typeof logout>> | undefined;
    expect(await changedBy(async () => (res = await logout({ cookie: second.cookie })))).toEqual([]);
    expect(res!.headers.get("set-cookie")).toBe(CLEARED);
  });

  it.each<[string, string]>([
    ["was revoked", "UPDATE sessions SET revoked_at = now(), revoked_reason = 'REVOKED' WHERE id = $1"],
    ["has expired", "UPDATE sessions SET expires_at = now() - interval '1 second' WHERE id = $1"],
  ])("answers true for the tokens of a session that %s, changing nothing, and clears the cookie", async (_name, end) => {
    const user = await signUp(server);
    const signedIn = await cookieLogin(user.email);
    await server.sql(end, [signedIn.login.session.id]);
    for (const token of [signedIn.login.accessToken, expiredToken({ user: user.user, session: signedIn.login.session })]) {
      let res: Awaited<ReturnType<typeof logout>> | undefined;
      expect(await changedBy(async () => (res = await logout({ cookie: signedIn.cookie }, token)))).toEqual([]);
      expect(res).toMatchObject({ status: 200, data: { logout: true } });
      expect(res!.headers.get("set-cookie")).toBe(CLEARED);
    }
  });

  it("refuses a forged access token (401) and leaves the session and the cookie alone", async () => {
    const user = await signUp(server);
    const signedIn = await cookieLogin(user.email);
    const forged = handSigned(expiredClaims({ ...user, session: signedIn.login.session } as User), {}, strangerKey());
    let res: Awaited<ReturnType<typeof logout>> | undefined;
    expect(await changedBy(async () => (res = await logout({ cookie: signedIn.cookie }, forged)))).toEqual([]);
    expect(res?.status).toBe(401);
    expect(res?.headers.get("set-cookie")).toBeNull();
  });
});

describe("a token that expired on its own", () => {
  let shortLived: TestServer;
  beforeAll(async () => {
    shortLived = await startTestServer({ ACCESS_TOKEN_TTL: "1" });
  });
  afterAll(() => shortLived.stop());

  it("is refused for me but still logs its session out", async () => {
    const user = await signUp(shortLived);
    await sleep(1100);
    expect((await shortLived.request(MeDocument, {}, { token: user.accessToken })).errors?.[0].extensions).toEqual({
      code: "UNAUTHENTICATED",
      reason: "TOKEN_EXPIRED",
    });
    // Sent as a frontend would: fetch, JSON, the Bearer header.
    const res = await fetch(shortLived.url, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${user.accessToken}` },
      body: JSON.stringify({ query: "mutation { logout }" }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ data: { logout: true } });
    expect(await shortLived.sql("SELECT revoked_reason FROM sessions WHERE id = $1", [user.session.id])).toEqual([
      { revoked_reason: "LOGOUT" },
    ]);
  });
});
