import type { Browser, BrowserContext } from "playwright-core";
import { openDevice } from "./app-driver";
import { launchBrowser } from "./browser";
import { type ExampleApp, serveExampleApp } from "./example-app";
import { startTestServer, type TestServer } from "./test-server";

export interface BrowserSuite {
  /** The built example app on its own origin, pointed at `server`. */
  app: ExampleApp;
  /** The real server, allowing the app's origin. */
  server: TestServer;
  chromium: Browser;
  /** A new device (browser context), closed after the test that opened it. */
  newDevice(): Promise<BrowserContext>;
}

/**
 * The harness the browser test files share, registered as jest hooks: the example app, the
 * real server with `env`, one Chromium; the fields are set once `beforeAll` has run.
 */
export function browserSuite(
  env: Record<string, string> = {},
  options: { prepareDevice?: (device: BrowserContext) => Promise<void> } = {},
): BrowserSuite {
  const devices: BrowserContext[] = [];
  const suite = {
    async newDevice() {
      const device = await openDevice(suite.chromium);
      devices.push(device);
      await options.prepareDevice?.(device);
      return device;
    },
  } as BrowserSuite;
  beforeAll(async () => {
    suite.app = await serveExampleApp();
    suite.server = await startTestServer({ CORS_ORIGINS: suite.app.origin, ...env });
    suite.app.apiUrl = suite.server.url;
    suite.chromium = await launchBrowser();
  });
  afterAll(async () => {
    await suite.chromium?.close();
    await suite.server?.stop();
    await suite.app?.close();
  });
  afterEach(async () => {
    await Promise.all(devices.splice(0).map((d) => d.close()));
  });
  return suite;
}
