import type { BrowserContext } from "playwright-core";
import { RefreshSessionDocument } from "../gql/graphql";
import { currentSessionId, showsProtectedData, signInThroughApp } from "../support/app-driver";
import { browserSuite } from "../support/browser-suite";
import { PASSWORD, signUp } from "../support/users";
import { eventually, sleep } from "../support/wait";

/**
 * Tabs of one browser context share the refresh cookie: one device, one session. Access
 * tokens live 2 s here, so "expired" is a real wait.
 */
const ACCESS_TOKEN_TTL = 2;

const suite = browserSuite({ ACCESS_TOKEN_TTL: String(ACCESS_TOKEN_TTL) });

const refreshCookie = async (device: BrowserContext) =>
  (await device.cookies()).find((c) => c.name === "__Host-refresh_token")?.value;
const sessionRow = (id: string) =>
  suite.server.sql<{ revoked_at: Date | null; revoked_reason: string | null }>(
    "SELECT revoked_at, revoked_reason FROM sessions WHERE id = $1",
    [id],
  );

describe("two tabs of one browser", () => {
  it("signing out in one tab signs out the other, which says why", async () => {
    const { email } = await signUp(suite.server);
    const device = await suite.newDevice();
    const first = await signInThroughApp(device, suite.app, { email, password: PASSWORD });
    const second = await device.newPage();
    await second.goto(`${suite.app.origin}/`);
    await second.getByTestId("devices-page").waitFor();

    await first.getByTestId("sign-out").click();
    await first.getByTestId("sign-in-page").waitFor();
    await second.getByTestId("signed-out").waitFor();
    expect(await second.getByTestId("signed-out").getAttribute("data-reason")).toBe("SIGNED_OUT_IN_ANOTHER_TAB");
    expect(await showsProtectedData(second, email)).toBe(false);
  });
});

describe("ten tabs reloading at once with an expired access token", () => {
  it("all stay signed in on one session, which is not revoked, and the refresh token rotates without a reuse alarm", async () => {
    const { email } = await signUp(suite.server);
    const device = await suite.newDevice();
    const first = await signInThroughApp(device, suite.app, { email, password: PASSWORD });
    const sessionId = await currentSessionId(first);
    const tabs = [first];
    for (let i = 1; i < 10; i++) {
      const tab = await device.newPage();
      await tab.goto(`${suite.app.origin}/`);
      tabs.push(tab);
    }
    await Promise.all(tabs.map((tab) => tab.getByTestId("devices-page").waitFor()));
    const cookieBefore = await refreshCookie(device);
    await sleep(ACCESS_TOKEN_TTL * 1000 + 500);

    await Promise.all(tabs.map((tab) => tab.reload()));
    await Promise.all(tabs.map((tab) => tab.getByTestId("devices-page").waitFor({ timeout: 20_000 })));

    for (const tab of tabs) expect(await currentSessionId(tab)).toBe(sessionId);
    expect(await sessionRow(sessionId)).toEqual([{ revoked_at: null, revoked_reason: null }]);
    const cookieAfter = await refreshCookie(device);
    expect(cookieAfter).toEqual(expect.any(String));
    expect(cookieAfter).not.toBe(cookieBefore);
    const reuse = await suite.server.sql("SELECT id FROM security_events WHERE type = 'REFRESH_TOKEN_REUSE'");
    expect(reuse).toEqual([]);
    // The cookie the tabs ended with is the live one. With 2 s tokens an open tab refreshes
    // (ahead of expiry) every couple of seconds, so the jar may be read just before such a
    // rotation lands: then the server answers REFRESH_TOKEN_ROTATED, and the jar's next cookie works.
    await eventually(async () => {
      const refreshed = await suite.server.request(
        RefreshSessionDocument,
        {},
        { headers: { "x-auth-transport": "cookie", cookie: `__Host-refresh_token=${await refreshCookie(device)}` } },
      );
      expect(refreshed.errors?.map((e) => e.extensions.reason) ?? []).not.toContain("REFRESH_TOKEN_REUSE");
      expect(refreshed.data?.refreshSession.session.id).toBe(sessionId);
    });
  });
});

describe("signing out with an expired access token", () => {
  it("ends the server session: the refresh cookie the browser held no longer works", async () => {
    const { email } = await signUp(suite.server);
    const device = await suite.newDevice();
    const page = await signInThroughApp(device, suite.app, { email, password: PASSWORD });
    const sessionId = await currentSessionId(page);
    await sleep(ACCESS_TOKEN_TTL * 1000 + 500);
    const held = await refreshCookie(device);

    await page.getByTestId("sign-out").click();
    await page.getByTestId("sign-in-page").waitFor();

    await eventually(async () =>
      expect(await sessionRow(sessionId)).toEqual([{ revoked_at: expect.any(Date), revoked_reason: "LOGOUT" }]),
    );
    // The row commits before the logout's answer (which clears the cookie) reaches the browser.
    await eventually(async () => expect(await refreshCookie(device)).toBeUndefined());
    const replay = await suite.server.request(
      RefreshSessionDocument,
      {},
      { headers: { "x-auth-transport": "cookie", cookie: `__Host-refresh_token=${held}` } },
    );
    expect(replay.data).toBeNull();
    expect(replay.errors?.map((e) => e.extensions)).toEqual([{ code: "UNAUTHENTICATED", reason: "SESSION_REVOKED" }]);
  });
});
