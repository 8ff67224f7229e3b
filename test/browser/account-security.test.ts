import type { BrowserContext } from "playwright-core";
import {
  appearedAt,
  clickedAt,
  clockNextClick,
  currentSessionId,
  sessionRow,
  signInThroughApp,
  signUpThroughApp,
  watchFor,
} from "../support/app-driver";
import { browserSuite } from "../support/browser-suite";
import { keepScreenshot } from "../support/screenshots";
import { PASSWORD, uniqueEmail } from "../support/users";

/** Account security on every device (issue 18), in real Chromium against the real server. */
const suite = browserSuite();

const CHROME_WINDOWS =
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";

const extra: BrowserContext[] = [];
afterEach(async () => {
  await Promise.all(extra.splice(0).map((device) => device.close()));
});

/** A device whose browser says it is Chrome on Windows, whatever Chromium runs the test. */
async function windowsDevice(): Promise<BrowserContext> {
  const device = await suite.chromium.newContext({ userAgent: CHROME_WINDOWS, viewport: { width: 1000, height: 760 } });
  device.setDefaultTimeout(10_000);
  extra.push(device);
  return device;
}

/** A, B and then C sign in to one account; A and B are on the devices page first. */
async function threeDevices() {
  const email = uniqueEmail();
  const a = await signUpThroughApp(await suite.newDevice(), suite.app, { email, password: PASSWORD, deviceName: "Laptop" });
  const b = await signInThroughApp(await suite.newDevice(), suite.app, { email, password: PASSWORD, deviceName: "Phone" });
  const bId = await currentSessionId(b);
  await sessionRow(a, bId).waitFor();
  return { email, a, b, bId };
}

describe("a sign-in on another device", () => {
  it("appears in A's list within a second, with the banner naming the browser and OS, and no click on Refresh", async () => {
    const { email, a } = await threeDevices();
    const c = await signInThroughApp(await windowsDevice(), suite.app, { email, password: PASSWORD, deviceName: "Work PC" });
    const cId = await currentSessionId(c);

    // C's sign-in has committed (C shows its devices page); A hears of it by the push alone.
    const banner = a.getByTestId("new-sign-in");
    await banner.waitFor({ timeout: 1000 });
    expect(await banner.getAttribute("data-session-id")).toBe(cId);
    expect(await banner.textContent()).toContain("New sign-in on Chrome, Windows");
    expect(await banner.getByTestId("not-me").textContent()).toBe("This wasn\u2019t me");
    await sessionRow(a, cId).waitFor({ timeout: 1000 });
    expect(await sessionRow(a, cId).textContent()).toContain("Work PC");
    await keepScreenshot(a, "new-sign-in-banner.png", { fullPage: true });
  });

  it("reaches A within a second of C's sign-in request", async () => {
    const { email, a } = await threeDevices();
    const c = await (await windowsDevice()).newPage();
    await c.goto(`${suite.app.origin}/sign-in`);
    await c.getByTestId("sign-in-page").waitFor();
    await c.fill('input[name="email"]', email);
    await c.fill('input[name="password"]', PASSWORD);
    await watchFor(a, '[data-testid="new-sign-in"]');
    const [response] = await Promise.all([
      c.waitForResponse((r) => r.request().postData()?.includes("mutation SignIn") ?? false),
      c.click('button[type="submit"]'),
    ]);
    const answeredAt = Date.now();
    expect(response.status()).toBe(200);
    expect((await appearedAt(a)) - answeredAt).toBeLessThan(1000);
  });
});

describe('"This wasn\'t me"', () => {
  it("signs out B and C at once, each showing the reason, then asks A for a new password", async () => {
    const { email, a, b } = await threeDevices();
    const c = await signInThroughApp(await windowsDevice(), suite.app, { email, password: PASSWORD, deviceName: "Thief" });
    await a.getByTestId("new-sign-in").waitFor();
    await watchFor(b, '[data-testid="signed-out"]');
    await watchFor(c, '[data-testid="signed-out"]');

    // Timed inside the pages: from A's click to the first frame of each signed-out screen.
    await clockNextClick(a);
    await a.getByTestId("not-me").click();
    const clicked = await clickedAt(a);
    for (const page of [b, c]) {
      expect((await appearedAt(page)) - clicked).toBeLessThan(1000);
      expect(await page.getByTestId("signed-out").getAttribute("data-reason")).toBe("SECURITY_CONCERN");
      expect(await page.getByTestId("signed-out").textContent()).toContain("Your account was secured");
    }
    await keepScreenshot(c, "signed-out-security-concern.png");

    const form = a.getByTestId("change-password");
    await form.waitFor();
    await form.locator('input[name="currentPassword"]').fill(PASSWORD);
    await form.locator('input[name="newPassword"]').fill("a brand new passphrase");
    await form.locator('button[type="submit"]').click();
    await a.getByTestId("message").getByText("Your password was changed").waitFor();
    const [row] = await suite.server.sql<{ n: number }>(
      `SELECT count(*)::int AS n FROM security_events e JOIN users u ON u.id = e.user_id
       WHERE u.email = $1 AND e.type = 'PASSWORD_CHANGED'`,
      [email],
    );
    expect(row.n).toBe(1);
  });
});

describe("the devices page", () => {
  it("asks before ending another device's session, and names devices in the activity log", async () => {
    const { a, b, bId } = await threeDevices();
    await sessionRow(a, bId).getByTestId("revoke").click();
    await sessionRow(a, bId).getByTestId("cancel-revoke").click();
    expect(await b.getByTestId("devices-page").isVisible()).toBe(true);
    await sessionRow(a, bId).getByTestId("revoke").click();
    expect(await sessionRow(a, bId).getByTestId("confirm-revoke").textContent()).toBe("Sign out");
    expect(await sessionRow(a, bId).textContent()).toContain("Sign out Phone?");

    await a.reload();
    await a.getByTestId("activity-log").waitFor();
    const devices = await a.getByTestId("activity-device").allTextContents();
    expect(devices.some((d) => d.startsWith("Phone"))).toBe(true);
    expect(devices.some((d) => d.startsWith("Laptop"))).toBe(true);
  });
});

describe("the sign-in form", () => {
  it('without "Keep me signed in" leaves a refresh cookie that dies with the browser; with it, one that lasts', async () => {
    const email = uniqueEmail();
    await signUpThroughApp(await suite.newDevice(), suite.app, { email, password: PASSWORD });
    const device = await suite.newDevice();
    const page = await device.newPage();
    await page.goto(`${suite.app.origin}/sign-in`);
    await page.getByTestId("sign-in-page").waitFor();
    expect(await page.getByTestId("remember-me").isChecked()).toBe(true);
    await page.fill('input[name="email"]', email);
    await page.fill('input[name="password"]', PASSWORD);
    await page.getByTestId("remember-me").uncheck();
    await page.click('button[type="submit"]');
    await page.getByTestId("devices-page").waitFor();
    const cookies = await device.cookies();
    const refresh = cookies.find((c) => c.name === "__Host-refresh_token");
    const deviceCookie = cookies.find((c) => c.name === "__Host-device");
    expect(refresh?.expires).toBe(-1); // a session cookie
    expect(deviceCookie?.expires).toBeGreaterThan(Date.now() / 1000 + 300 * 24 * 3600);
    expect(deviceCookie).toMatchObject({ httpOnly: true, secure: true, sameSite: "Lax" });

    // Reloading keeps the session (the browser is still open).
    await page.reload();
    await page.getByTestId("devices-page").waitFor();
  });

  it("loads signed out with no error in the console (no refresh is sent that could only be refused)", async () => {
    const device = await suite.newDevice();
    const page = await device.newPage();
    const errors: string[] = [];
    page.on("console", (message) => message.type() === "error" && errors.push(message.text()));
    const refreshes: string[] = [];
    page.on("request", (request) => request.postData()?.includes("refreshSession") && refreshes.push(request.url()));
    await page.goto(`${suite.app.origin}/`);
    await page.getByTestId("sign-in-page").waitFor();

    // And after signing in and out again.
    await page.fill('input[name="email"]', (await signUpForEmail()).email);
    await page.fill('input[name="password"]', PASSWORD);
    await page.click('button[type="submit"]');
    await page.getByTestId("devices-page").waitFor();
    await page.getByTestId("sign-out").click();
    await page.getByTestId("sign-in-page").waitFor();
    await page.reload();
    await page.getByTestId("sign-in-page").waitFor();
    expect(errors).toEqual([]);
    expect(refreshes).toEqual([]);
  });
});

async function signUpForEmail() {
  const email = uniqueEmail();
  const res = await suite.server.post({
    query: "mutation ($input: RegisterInput!) { register(input: $input) { accessToken } }",
    variables: { input: { email, password: PASSWORD } },
  });
  expect(res.status).toBe(200);
  return { email };
}
