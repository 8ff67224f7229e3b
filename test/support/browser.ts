import chromiumBinary from "@sparticuz/chromium";
import { chromium, type Browser, type BrowserContext } from "playwright-core";

/**
 * Real headless Chromium for browser tests. The binary comes from the @sparticuz/chromium npm
 * package (it ships Chromium, so a fresh machine needs nothing else); the flags are ours, not
 * the package's serverless defaults (which disable web security and run a single process).
 * Playwright gives each launch a new empty profile. No fallback and no skip: if Chromium
 * cannot start, the test that asked for it fails.
 */
const FLAGS = [
  "--no-sandbox", // CI runs as root
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export interface TestBrowser {
  browser: Browser;
  /** A new browser context: its own cookies and storage, as another device would have. */
  newDevice(): Promise<BrowserContext>;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<TestBrowser> {
  const browser = await chromium.launch({
    executablePath: await chromiumBinary.executablePath(),
    headless: true,
    args: FLAGS,
    // Playwright turns the back-forward cache off by default; users' browsers have it on, and
    // what a page shows when restored from it is part of what the tests check.
    ignoreDefaultArgs: ["--disable-back-forward-cache"],
  });
  return {
    browser,
    async newDevice() {
      const context = await browser.newContext({ viewport: { width: 1000, height: 760 } });
      // Fail a wait with Playwright's message (what was awaited) well before the test's own timeout.
      context.setDefaultTimeout(10_000);
      return context;
    },
    close: () => browser.close(),
  };
}
