import type { Server } from "node:http";
import type { Browser, BrowserContext } from "playwright-core";
import { openDevice } from "./app-driver";
import { launchBrowser } from "./browser";
import { type ExampleApp, serveExampleApp } from "./example-app";
import { startTestServer, type TestServer } from "./test-server";
import { startTestSupergraph } from "./test-supergraph";

/**
 * `BROWSER_API=gateway` (the jest project "through the gateway", jest.config.js) points the
 * example app at examples/supergraph's gateway, in front of the session API and the notes
 * subgraph, instead of at the session API itself: the same tests, the same assertions.
 */
export const THROUGH_GATEWAY = process.env.BROWSER_API === "gateway";

export interface BrowserSuite {
  /** The built example app on its own origin, pointed at `front`. */
  app: ExampleApp;
  /** The real session API, allowing the app's origin: its database and services. */
  server: TestServer;
  /** What the app's pages talk to, HTTP and WebSocket: the session API, or the gateway in front of it. */
  front: { url: string; httpServer: Server };
  chromium: Browser;
  /** A new device (browser context), closed after the test that opened it. */
  newDevice(): Promise<BrowserContext>;
}

/**
 * The harness the browser test files share, registered as jest hooks: the example app, the
 * real server with `env` (behind the gateway with BROWSER_API=gateway), one Chromium; the
 * fields are set once `beforeAll` has run.
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
    if (THROUGH_GATEWAY) {
      const { supergraph, server } = await startTestSupergraph(
        { CORS_ORIGINS: suite.app.origin, ...env },
        { corsOrigins: [suite.app.origin] },
      );
      suite.server = server;
      suite.front = { url: supergraph.gateway.url, httpServer: supergraph.gateway.httpServer };
    } else {
      suite.server = await startTestServer({ CORS_ORIGINS: suite.app.origin, ...env });
      suite.front = { url: suite.server.url, httpServer: suite.server.httpServer };
    }
    suite.app.apiUrl = suite.front.url;
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
