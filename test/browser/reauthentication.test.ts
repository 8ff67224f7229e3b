import { currentSessionId, revokeThroughApp, sessionRow, signInThroughApp, signUpThroughApp } from "../support/app-driver";
import { browserSuite } from "../support/browser-suite";
import { keepScreenshot } from "../support/screenshots";
import { PASSWORD, uniqueEmail } from "../support/users";
import { sleep } from "../support/wait";

/** A session counts as fresh for 2 s after its password was proved; then sensitive actions ask again. */
const FRESH_SESSION_TTL = 2;

const suite = browserSuite({ FRESH_SESSION_TTL: String(FRESH_SESSION_TTL) });

/** The first device signs up, the others sign in: the account has exactly these sessions. */
async function signedInDevices(...names: string[]) {
  const email = uniqueEmail();
  const pages = [];
  for (const name of names) {
    const device = await suite.newDevice();
    pages.push(
      await (pages.length === 0 ? signUpThroughApp : signInThroughApp)(device, suite.app, {
        email,
        password: PASSWORD,
        deviceName: name,
      }),
    );
  }
  return pages;
}

describe("a sensitive action on a stale session", () => {
  it("\u201cSign out all other devices\u201d shows the count, asks for the password, refuses a wrong one, then signs the others out", async () => {
    const [phone, tablet, laptop] = await signedInDevices("Phone", "Tablet", "Laptop");
    await sessionRow(laptop, await currentSessionId(phone)).waitFor();
    await sessionRow(laptop, await currentSessionId(tablet)).waitFor();
    const button = laptop.getByTestId("sign-out-others");
    expect(await button.textContent()).toBe("Sign out all other devices (2)");
    await sleep(FRESH_SESSION_TTL * 1000 + 500);

    await button.click();
    const dialog = laptop.getByTestId("reauth-dialog");
    await dialog.waitFor();
    await dialog.locator('input[type="password"]').fill("not the password");
    await dialog.locator('button[type="submit"]').click();
    await dialog.getByRole("alert").waitFor();
    expect(await phone.getByTestId("devices-page").isVisible()).toBe(true);
    await dialog.locator('input[type="password"]').fill(PASSWORD);
    await keepScreenshot(laptop, "reauthenticate.png");
    await dialog.locator('button[type="submit"]').click();

    await laptop.getByTestId("message").filter({ hasText: "Signed out 2 other devices." }).waitFor();
    await dialog.waitFor({ state: "detached" });
    for (const page of [phone, tablet]) {
      await page.getByTestId("signed-out").waitFor();
      expect(await page.getByTestId("signed-out").getAttribute("data-reason")).toBe("LOGOUT_ALL");
    }
    expect(await button.textContent()).toBe("Sign out all other devices (0)");
    expect(await laptop.getByTestId("devices-page").isVisible()).toBe(true);
  });

  it("revoking one device asks for the password too, and cancelling leaves that device signed in", async () => {
    const [phone, laptop] = await signedInDevices("Phone", "Laptop");
    const phoneId = await currentSessionId(phone);
    await sleep(FRESH_SESSION_TTL * 1000 + 500);

    await revokeThroughApp(laptop, phoneId);
    const dialog = laptop.getByTestId("reauth-dialog");
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await dialog.waitFor({ state: "detached" });
    expect(await sessionRow(laptop, phoneId).isVisible()).toBe(true);
    expect(await phone.getByTestId("devices-page").isVisible()).toBe(true);

    await revokeThroughApp(laptop, phoneId);
    await dialog.locator('input[type="password"]').fill(PASSWORD);
    await dialog.locator('button[type="submit"]').click();
    await phone.getByTestId("signed-out").waitFor();
    await sessionRow(laptop, phoneId).waitFor({ state: "detached" });
  });
});
