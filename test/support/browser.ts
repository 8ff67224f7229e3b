import chromiumBinary from "@sparticuz/chromium";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";

/**
 * A real headless Chromium for browser tests: the build the npm package @sparticuz/chromium
 * ships (unpacked to /tmp on first use), driven by playwright-core. It is started with our own
 * flags, never the package's `args` (those turn off web security and run a single process).
 *
 * Usage:
 *   const browser = await launchBrowser();            // once per file; close in afterAll
 *   const tab = await openPage(browser, [server.origin]);
 *   await tab.page.goto(`${server.origin}/graphql`);
 *   expect(tab.offOrigin).toEqual([]);                // nothing else was even attempted
 *   await tab.close();
 *   await browser.close();
 */
const FLAGS = [
  "--no-sandbox", // runs as root here
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-default-apps",
  "--disable-extensions",
  // Every host name but loopback fails to resolve: a page that reaches out fails loudly.
  "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
];

/** Starts headless Chromium with a new empty profile (Playwright makes one per launch). */
export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: await chromiumBinary.executablePath(), headless: true, args: FLAGS });
}

export interface IsolatedPage {
  page: Page;
  context: BrowserContext;
  /** Every request (HTTP or WebSocket) the page tried to make to an origin not allowed. */
  offOrigin: string[];
  /** Messages the page logged with console.error, and uncaught page errors. */
  errors: string[];
  close(): Promise<void>;
}

/**
 * A page in a fresh context (own cookies and storage) that may only talk to `allowedOrigins`
 * (e.g. `http://127.0.0.1:4321`): any other request is aborted before it leaves the browser,
 * and recorded in `offOrigin`, so a test can assert none was even attempted.
 */
export async function openPage(browser: Browser, allowedOrigins: string[]): Promise<IsolatedPage> {
  const context = await browser.newContext();
  const offOrigin: string[] = [];
  const errors: string[] = [];
  const allowed = (url: string) => {
    try {
      const { origin, protocol, host } = new URL(url);
      if (protocol === "ws:" || protocol === "wss:") return allowedOrigins.some((o) => new URL(o).host === host);
      return protocol === "data:" || protocol === "blob:" || allowedOrigins.includes(origin);
    } catch {
      return false;
    }
  };
  await context.route("**/*", (route) => {
    const url = route.request().url();
    if (allowed(url)) return route.continue();
    offOrigin.push(url);
    return route.abort("blockedbyclient");
  });
  const page = await context.newPage();
  page.on("websocket", (ws) => {
    if (!allowed(ws.url())) offOrigin.push(ws.url());
  });
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  page.on("pageerror", (error) => errors.push(error.message));
  return { page, context, offOrigin, errors, close: () => context.close() };
}
