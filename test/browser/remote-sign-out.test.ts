import {
  appearedAt,
  clickedAt,
  clockNextClick,
  currentSessionId,
  lastPageShow,
  recordPageShows,
  revokeThroughApp,
  sessionRow,
  showsProtectedData,
  signInThroughApp,
  signUpThroughApp,
  watchFor,
} from "../support/app-driver";
import { browserSuite } from "../support/browser-suite";
import { ELSEWHERE_PATH } from "../support/example-app";
import { keepScreenshot } from "../support/screenshots";
import { PASSWORD, uniqueEmail } from "../support/users";
import { sleep } from "../support/wait";

/** Two browser contexts are two devices of one user, both on the example app against the real server. */

const suite = browserSuite({}, { prepareDevice: recordPageShows });

/** A user who signed up on a phone (B) and then signed in on a laptop (A); A's list shows both. */
async function twoDevices(email = uniqueEmail()) {
  const b = await signUpThroughApp(await suite.newDevice(), suite.app, { email, password: PASSWORD, deviceName: "Phone" });
  const a = await signInThroughApp(await suite.newDevice(), suite.app, { email, password: PASSWORD, deviceName: "Laptop" });
  const bId = await currentSessionId(b);
  await sessionRow(a, bId).waitFor();
  return { email, a, b, bId };
}

describe("signing out another device from the devices page", () => {
  it("shows B the signed-out screen naming the reason within a second of A's click, with no action on B, and A's list drops B live", async () => {
    const { a, b, bId } = await twoDevices("ada@example.com");
    await keepScreenshot(a, "devices-page.png", { fullPage: true });

    await watchFor(b, '[data-testid="signed-out"]');
    // The app asks first; the clock runs from the confirming click.
    await sessionRow(a, bId).getByTestId("revoke").click();
    await clockNextClick(a);
    await sessionRow(a, bId).getByTestId("confirm-revoke").click();
    const elapsed = (await appearedAt(b)) - (await clickedAt(a));

    expect(elapsed).toBeLessThan(1000);
    expect(await b.getByTestId("signed-out").getAttribute("data-reason")).toBe("REVOKED");
    expect(await b.getByTestId("signed-out").textContent()).toContain("This device was signed out from another device");
    await sessionRow(a, bId).waitFor({ state: "detached" });
    expect(await a.getByTestId("sign-out-others").textContent()).toBe("Sign out all other devices (0)");
    const [row] = await suite.server.sql<{ revoked_reason: string }>("SELECT revoked_reason FROM sessions WHERE id = $1", [bId]);
    expect(row.revoked_reason).toBe("REVOKED");
    await keepScreenshot(b, "signed-out.png");
  });
});

describe("the back button after a remote sign-out", () => {
  it("shows no protected data when going back in the app's history", async () => {
    const { email, a, b, bId } = await twoDevices();
    await revokeThroughApp(a, bId);
    await b.getByTestId("signed-out").waitFor();

    await b.goBack();
    await b.getByTestId("sign-in-page").waitFor();
    expect(await showsProtectedData(b, email)).toBe(false);
    await b.goBack();
    await b.getByTestId("sign-up-page").waitFor();
    expect(await showsProtectedData(b, email)).toBe(false);
  });

  it("shows no protected data when B leaves the signed-out screen for another page and comes back", async () => {
    const { email, a, b, bId } = await twoDevices();
    await revokeThroughApp(a, bId);
    await b.getByTestId("signed-out").waitFor();
    await b.goto(`${suite.app.origin}${ELSEWHERE_PATH}`);

    await b.goBack();
    await b.getByTestId("signed-out").waitFor();
    const shown = await lastPageShow(b);
    expect(shown.text).not.toContain(email);
    expect(await showsProtectedData(b, email)).toBe(false);
  });

  it("shows no protected data when B comes back to the devices page it left for another page before being signed out", async () => {
    const { email, a, b, bId } = await twoDevices();
    await b.goto(`${suite.app.origin}${ELSEWHERE_PATH}`);
    await revokeThroughApp(a, bId);
    await sessionRow(a, bId).waitFor({ state: "detached" });

    await b.goBack();
    await b.locator('[data-testid="sign-in-page"], [data-testid="signed-out"]').waitFor();
    expect(await showsProtectedData(b, email)).toBe(false);
    const shown = await lastPageShow(b);
    expect(shown.text).not.toContain(email);
  });
});

describe("a revoked page", () => {
  it("makes no further WebSocket connection attempts, even after a reload", async () => {
    const { a, b, bId } = await twoDevices();
    let upgrades = 0;
    const count = () => void upgrades++;
    suite.front.httpServer.on("upgrade", count);
    try {
      const before = upgrades;
      await revokeThroughApp(a, bId);
      await b.getByTestId("signed-out").waitFor();
      await sleep(3000);
      await b.reload();
      await b.getByTestId("signed-out").or(b.getByTestId("sign-in-page")).waitFor();
      await sleep(2000);
      expect(upgrades - before).toBe(0);
    } finally {
      suite.front.httpServer.off("upgrade", count);
    }
  });
});
