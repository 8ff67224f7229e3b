import { LoginDocument, LogoutDocument, MeDocument, RefreshSessionDocument, RegisterDocument } from "./gql/graphql";
import { startTestServer, type TestServer } from "./support/test-server";
import { PASSWORD, signUp, uniqueEmail } from "./support/users";

const APP = "https://app.example.test";
const EVIL = "https://evil.example.test";
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ CORS_ORIGINS: `${APP}, https://admin.example.test` });
});
afterAll(() => server.stop());

const COOKIE = { "x-auth-transport": "cookie" };
/** The refresh cookie a response sets (sign-ins set the device cookie beside it), or null. */
const cookieOf = (res: { headers: Headers }) =>
  res.headers.getSetCookie().find((c) => c.startsWith("__Host-refresh_token=")) ?? null;
/** The value a browser would send back: `__Host-refresh_token=<value>`. */
const cookiePair = (setCookie: string | null) => setCookie!.split(";")[0];

async function cookieLogin(email: string) {
  const res = await server.request(LoginDocument, { input: { email, password: PASSWORD } }, { headers: COOKIE });
  return { res, pair: cookiePair(cookieOf(res)) };
}

describe("browser cookie mode", () => {
  it("sets the refresh token as a __Host- cookie (HttpOnly, Secure, SameSite=Strict, Path=/, no Domain) and returns refreshToken: null", async () => {
    const user = await signUp(server);
    const { res } = await cookieLogin(user.email);
    const setCookie = cookieOf(res)!;
    const [pair, ...attributes] = setCookie.split("; ");
    expect(pair).toMatch(/^__Host-refresh_token=[0-9a-f-]{36}\.[A-Za-z0-9_-]{43}$/);
    expect(attributes).toEqual([expect.stringMatching(/^Max-Age=\d+$/), "Path=/", "Secure", "HttpOnly", "SameSite=Strict"]);
    expect(setCookie).not.toMatch(/domain=/i);
    const maxAge = Number(/Max-Age=(\d+)/.exec(setCookie)![1]);
    expect(Math.abs(maxAge - server.services.config.sessionMaxTtl)).toBeLessThanOrEqual(2);
    expect(res.data?.login.refreshToken).toBeNull();
    expect(res.data?.login.accessToken).toEqual(expect.any(String));
    expect(res.headers.get("cache-control")).toBe("no-store");
  });

  it("works for register too", async () => {
    const res = await server.request(
      RegisterDocument,
      { input: { email: uniqueEmail(), password: PASSWORD } },
      { headers: COOKIE },
    );
    expect(res.data?.register.refreshToken).toBeNull();
    expect(cookieOf(res)).toMatch(/^__Host-refresh_token=.+; Max-Age=\d+; Path=\/; Secure; HttpOnly; SameSite=Strict$/);
  });

  it("refreshes from the cookie alone, rotating it, with Max-Age the session's remaining life", async () => {
    const user = await signUp(server);
    const { res, pair } = await cookieLogin(user.email);
    await server.sql("UPDATE sessions SET expires_at = now() + interval '100 seconds' WHERE id = $1", [
      res.data!.login.session.id,
    ]);
    const refreshed = await server.request(RefreshSessionDocument, {}, { headers: { ...COOKIE, cookie: pair } });
    expect(refreshed.data?.refreshSession.session.id).toBe(res.data!.login.session.id);
    expect(refreshed.data?.refreshSession.refreshToken).toBeNull();
    const next = cookieOf(refreshed)!;
    expect(cookiePair(next)).not.toBe(pair);
    expect(Number(/Max-Age=(\d+)/.exec(next)![1])).toBeGreaterThanOrEqual(98);
    expect(Number(/Max-Age=(\d+)/.exec(next)![1])).toBeLessThanOrEqual(100);
    const me = await server.request(MeDocument, {}, { token: refreshed.data!.refreshSession.accessToken });
    expect(me.data?.me.id).toBe(user.user.id);
  });

  it("ignores the cookie unless the request asks for cookie mode", async () => {
    const user = await signUp(server);
    const { pair } = await cookieLogin(user.email);
    const res = await server.request(RefreshSessionDocument, {}, { headers: { cookie: pair } });
    expect(res.status).toBe(401); // the operation ran but produced nothing: the code's status
    expect(res.data).toBeNull();
    expect(res.errors?.[0].extensions).toEqual({ code: "UNAUTHENTICATED", reason: "TOKEN_MISSING" });
  });

  it("clears a cookie that can no longer work when a refresh with it is refused", async () => {
    const user = await signUp(server);
    const { res, pair } = await cookieLogin(user.email);
    await server.request(LogoutDocument, {}, { token: res.data!.login.accessToken });
    const refused = await server.request(RefreshSessionDocument, {}, { headers: { ...COOKIE, cookie: pair } });
    expect(refused.errors?.[0].extensions).toEqual({ code: "UNAUTHENTICATED", reason: "SESSION_REVOKED" });
    expect(cookieOf(refused)).toBe("__Host-refresh_token=; Max-Age=0; Path=/; Secure; HttpOnly; SameSite=Strict");
    expect(refused.headers.get("clear-site-data")).toBe('"cache", "storage"');
  });

  it("logout clears the cookie (Max-Age=0), ends the session, and may be repeated", async () => {
    const user = await signUp(server);
    const { res, pair } = await cookieLogin(user.email);
    const token = res.data!.login.accessToken;
    const out = await server.request(LogoutDocument, {}, { token, headers: { ...COOKIE, cookie: pair } });
    expect(out.data?.logout).toBe(true);
    expect(cookieOf(out)).toBe("__Host-refresh_token=; Max-Age=0; Path=/; Secure; HttpOnly; SameSite=Strict");
    expect((await server.request(MeDocument, {}, { token })).status).toBe(401);
    const again = await server.request(LogoutDocument, {}, { headers: { ...COOKIE, cookie: pair } });
    expect(again.data?.logout).toBe(true);
    expect(cookieOf(again)).toMatch(/Max-Age=0/);
  });

  it("logout in cookie mode tells the browser to clear the site's cache and storage; body mode and refreshes do not", async () => {
    const user = await signUp(server);
    const { res, pair } = await cookieLogin(user.email);
    const refreshed = await server.request(RefreshSessionDocument, {}, { headers: { ...COOKIE, cookie: pair } });
    expect(refreshed.data?.refreshSession.accessToken).toEqual(expect.any(String));
    expect(refreshed.headers.get("clear-site-data")).toBeNull();
    const bodyMode = await server.request(LogoutDocument, {}, { token: user.accessToken });
    expect(bodyMode.data?.logout).toBe(true);
    expect(bodyMode.headers.get("clear-site-data")).toBeNull();

    const out = await server.request(
      LogoutDocument,
      {},
      { token: res.data!.login.accessToken, headers: { ...COOKIE, cookie: cookiePair(cookieOf(refreshed)) } },
    );
    expect(out.data?.logout).toBe(true);
    expect(out.headers.get("clear-site-data")).toBe('"cache", "storage"');
    expect(out.headers.get("cache-control")).toBe("no-store");
  });

  it("logout with the cookie and no access token (it expired, say) ends the session the cookie belongs to", async () => {
    const user = await signUp(server);
    const { res, pair } = await cookieLogin(user.email);
    const out = await server.request(LogoutDocument, {}, { headers: { ...COOKIE, cookie: pair } });
    expect(out.data?.logout).toBe(true);
    expect(cookieOf(out)).toMatch(/Max-Age=0/);
    expect((await server.request(MeDocument, {}, { token: res.data!.login.accessToken })).errors?.[0].extensions).toEqual({
      code: "UNAUTHENTICATED",
      reason: "SESSION_REVOKED",
    });
    const [row] = await server.sql<{ revoked_reason: string }>("SELECT revoked_reason FROM sessions WHERE id = $1", [
      res.data!.login.session.id,
    ]);
    expect(row.revoked_reason).toBe("LOGOUT");
    // The user's other session is untouched.
    expect((await server.request(MeDocument, {}, { token: user.accessToken })).data?.me.id).toBe(user.user.id);
  });

  it("a forged cookie sent to logout ends nothing (spent ones: see logout.test.ts)", async () => {
    const user = await signUp(server);
    const { res } = await cookieLogin(user.email);
    const sessionId = res.data!.login.session.id;
    const forged = `__Host-refresh_token=${sessionId}.${"A".repeat(43)}`;
    expect((await server.request(LogoutDocument, {}, { headers: { ...COOKIE, cookie: forged } })).data?.logout).toBe(true);
    const [row] = await server.sql<{ revoked_at: Date | null }>("SELECT revoked_at FROM sessions WHERE id = $1", [sessionId]);
    expect(row.revoked_at).toBeNull();
  });

  it("sends Cache-Control: no-store on token responses in body mode too", async () => {
    const user = await signUp(server);
    const res = await server.request(LoginDocument, { input: { email: user.email, password: PASSWORD } });
    expect(res.data?.login.refreshToken).toEqual(expect.any(String));
    expect(cookieOf(res)).toBeNull();
    expect(res.headers.get("cache-control")).toBe("no-store");
  });
});

describe("CSRF protection", () => {
  const loginBody = (email: string) =>
    JSON.stringify({ query: `mutation { login(input: { email: "${email}", password: "${PASSWORD}" }) { accessToken } }` });

  it.each([
    ["text/plain", "text/plain"],
    ["a form", "application/x-www-form-urlencoded"],
    ["multipart", "multipart/form-data; boundary=x"],
  ])("refuses a login sent as %s with 415, creating no session", async (_name, contentType) => {
    const user = await signUp(server);
    const res = await server.post(loginBody(user.email), { headers: { "content-type": contentType, ...COOKIE } });
    expect(res.status).toBe(415);
    expect(res.errors).toEqual([
      { message: "Send the request as application/json.", extensions: { code: "UNSUPPORTED_MEDIA_TYPE" } },
    ]);
    expect(await server.sql("SELECT count(*)::int AS n FROM sessions WHERE user_id = $1", [user.user.id])).toEqual([{ n: 1 }]);
  });

  it("refuses a mutation over GET, even with the preflight header", async () => {
    const user = await signUp(server);
    const query = encodeURIComponent(`mutation { logoutAllDevices(keepCurrent: false) }`);
    const res = await fetch(`${server.url}?query=${query}`, {
      headers: { authorization: `Bearer ${user.accessToken}`, "apollo-require-preflight": "true" },
    });
    expect(res.status).toBe(405);
    expect(((await res.json()) as { errors: { extensions: { code: string } }[] }).errors[0].extensions.code).toBe("BAD_REQUEST");
    expect((await server.request(MeDocument, {}, { token: user.accessToken })).status).toBe(200);
  });

  it("refuses a GET query without a preflight-forcing header", async () => {
    const res = await fetch(`${server.url}?query=${encodeURIComponent("{ __typename }")}`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { errors: { extensions: { code: string } }[] }).errors[0].extensions.code).toBe("BAD_REQUEST");
  });

  it("refuses a request from an origin off the list that carries the refresh cookie or asks for cookie mode", async () => {
    const user = await signUp(server);
    const { pair } = await cookieLogin(user.email);
    const attempts: Record<string, string>[] = [
      { origin: EVIL, cookie: pair },
      { origin: EVIL, ...COOKIE },
      { origin: "null", ...COOKIE, cookie: pair },
    ];
    for (const headers of attempts) {
      const res = await server.request(RefreshSessionDocument, {}, { headers });
      expect(res.status).toBe(403);
      expect(res.errors).toEqual([
        { message: "This origin may not use the refresh cookie.", extensions: { code: "FORBIDDEN_ORIGIN" } },
      ]);
      expect(res.headers.get("access-control-allow-origin")).toBeNull();
    }
    // The cookie still works from the app's own origin.
    const ok = await server.request(RefreshSessionDocument, {}, { headers: { origin: APP, ...COOKIE, cookie: pair } });
    expect(ok.data?.refreshSession.refreshToken).toBeNull();
  });
});

describe("CORS", () => {
  it("echoes an allow-listed origin, with credentials", async () => {
    const res = await server.post({ query: "{ __typename }" }, { headers: { origin: APP } });
    expect(res.headers.get("access-control-allow-origin")).toBe(APP);
    expect(res.headers.get("access-control-allow-credentials")).toBe("true");
    expect(res.headers.get("vary")).toMatch(/Origin/);
  });

  it.each([EVIL, "null", `${APP}.evil.test`, "http://app.example.test", `${APP}:8443`])(
    "never echoes the untrusted origin %s",
    async (origin) => {
      const res = await server.post({ query: "{ __typename }" }, { headers: { origin } });
      expect(res.headers.get("access-control-allow-origin")).toBeNull();
      expect(res.headers.get("access-control-allow-credentials")).toBeNull();
    },
  );

  it("answers a preflight from an allow-listed origin, allowing the cookie-mode header", async () => {
    const res = await fetch(server.url, {
      method: "OPTIONS",
      headers: {
        origin: APP,
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type, x-auth-transport",
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe(APP);
    expect(res.headers.get("access-control-allow-credentials")).toBe("true");
    expect(res.headers.get("access-control-allow-headers")).toContain("x-auth-transport");
  });

  it("refuses a preflight from any other origin, without CORS headers", async () => {
    const res = await fetch(server.url, {
      method: "OPTIONS",
      headers: { origin: EVIL, "access-control-request-method": "POST" },
    });
    expect(res.status).toBe(403);
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
    expect(((await res.json()) as { errors: { extensions: { code: string } }[] }).errors[0].extensions.code).toBe(
      "FORBIDDEN_ORIGIN",
    );
  });
});
