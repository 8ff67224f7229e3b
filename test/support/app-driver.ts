/// <reference lib="dom" /> -- the page.evaluate callbacks below run in the browser
import type { Browser, BrowserContext, Page } from "playwright-core";
import type { ExampleApp } from "./example-app";

/**
 * Drives the example app the way a person does: through its forms and buttons, finding
 * elements by the test ids the app renders.
 */

/** A new browser context: its own cookies and storage, as another device would have. */
export async function openDevice(browser: Browser): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: { width: 1000, height: 760 } });
  // A wait that fails says what it waited for, well before the test's own timeout.
  context.setDefaultTimeout(10_000);
  return context;
}

export interface Credentials {
  email: string;
  password: string;
  deviceName?: string;
}

/** Opens the app in a new tab of `device` and signs in through the form; resolves on the devices page. */
export function signInThroughApp(device: BrowserContext, app: ExampleApp, credentials: Credentials): Promise<Page> {
  return submitThroughApp("sign-in", device, app, credentials);
}

/** The same through the sign-up form: a new account whose only session is this device's. */
export function signUpThroughApp(device: BrowserContext, app: ExampleApp, credentials: Credentials): Promise<Page> {
  return submitThroughApp("sign-up", device, app, credentials);
}

async function submitThroughApp(
  form: "sign-in" | "sign-up",
  device: BrowserContext,
  app: ExampleApp,
  { email, password, deviceName }: Credentials,
) {
  const page = await device.newPage();
  await page.goto(`${app.origin}/${form}`);
  await page.getByTestId(`${form}-page`).waitFor();
  await page.fill('input[name="email"]', email);
  await page.fill('input[name="password"]', password);
  if (deviceName) await page.fill('input[name="deviceName"]', deviceName);
  await page.click('button[type="submit"]');
  await page.getByTestId("devices-page").waitFor();
  return page;
}

/** The session id of the page's own row in its device list. */
export async function currentSessionId(page: Page): Promise<string> {
  const row = page.locator('[data-testid="session-row"][data-current="true"]');
  await row.waitFor();
  return (await row.getAttribute("data-session-id"))!;
}

export const sessionRow = (page: Page, sessionId: string) =>
  page.locator(`[data-testid="session-row"][data-session-id="${sessionId}"]`);

/** "Sign out this device" on another device's row, then the confirmation the app asks for. */
export async function revokeThroughApp(page: Page, sessionId: string): Promise<void> {
  await sessionRow(page, sessionId).getByTestId("revoke").click();
  await sessionRow(page, sessionId).getByTestId("confirm-revoke").click();
}

/**
 * Starts watching for `selector` to appear in the page; `appearedAt(page)` later resolves with
 * the wall-clock time (ms) of the first frame after it did. Installed before the action that
 * should cause it, so the time is taken inside the page, not by polling from the test.
 */
export async function watchFor(page: Page, selector: string): Promise<void> {
  await page.evaluate((sel) => {
    const w = window as unknown as { __appeared: Promise<number> };
    w.__appeared = new Promise<number>((resolve) => {
      const done = () => requestAnimationFrame(() => resolve(performance.timeOrigin + performance.now()));
      if (document.querySelector(sel)) return done();
      const observer = new MutationObserver(() => {
        if (!document.querySelector(sel)) return;
        observer.disconnect();
        done();
      });
      observer.observe(document, { childList: true, subtree: true });
    });
  }, selector);
}

export const appearedAt = (page: Page): Promise<number> =>
  page.evaluate(() => (window as unknown as { __appeared: Promise<number> }).__appeared);

/** Records the wall-clock time (ms) of the page's next click, as the page received it. */
export async function clockNextClick(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { __clickedAt?: number };
    delete w.__clickedAt;
    document.addEventListener("click", () => (w.__clickedAt = performance.timeOrigin + performance.now()), {
      capture: true,
      once: true,
    });
  });
}

export const clickedAt = (page: Page): Promise<number> =>
  page.evaluate(() => (window as unknown as { __clickedAt: number }).__clickedAt);

/** Whether any of the signed-in user's data is in the page's DOM right now. */
export function showsProtectedData(page: Page, email: string): Promise<boolean> {
  return page.evaluate(
    // biome-ignore lint/performance/useDomNodeTextContent: the rendered text is what a person would see
    (text) => document.body.innerText.includes(text) || document.querySelector('[data-testid="devices-page"]') !== null,
    email,
  );
}

/**
 * Records in every page of `device` what it showed at its latest `pageshow`: for a page coming
 * back from the back-forward cache, that is the DOM as it was cached, before any listener of
 * the app has run. (The Chromium these tests run, a headless shell driven by Playwright, never
 * restores from that cache: Playwright turns it off, and the shell reports
 * BackForwardCacheDisabledForDelegate even when it is on. Coming back is then a reload, which
 * the same record covers.)
 */
export async function recordPageShows(device: BrowserContext): Promise<void> {
  await device.addInitScript(() => {
    addEventListener("pageshow", (event) => {
      // biome-ignore lint/performance/useDomNodeTextContent: the rendered text is what a person would see
      (window as unknown as { __pageshow: object }).__pageshow = { persisted: event.persisted, text: document.body.innerText };
    });
  });
}

export const lastPageShow = (page: Page): Promise<{ persisted: boolean; text: string }> =>
  page.evaluate(() => (window as unknown as { __pageshow: { persisted: boolean; text: string } }).__pageshow);
