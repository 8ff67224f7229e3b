import type { Browser } from "playwright-core";
import { RevokeSessionDocument } from "../gql/graphql";
import { currentSessionId, openDevice, signInThroughApp } from "../support/app-driver";
import { launchBrowser } from "../support/browser";
import { type ExampleApp, serveExampleApp } from "../support/example-app";
import { createTestSchema, startTestServer, type TestServer } from "../support/test-server";
import { PASSWORD, signIn, signUp } from "../support/users";
import { until } from "../support/wait";

/**
 * The API restarts under an open page, on the same port and database but with a new signing
 * secret: the page's access token no longer verifies, so only a refreshed one can reconnect
 * its socket.
 */
let app: ExampleApp;
let schema: { name: string; drop(): Promise<void> };
let server: TestServer;
let chromium: Browser;

const start = (port = "0") => startTestServer({ CORS_ORIGINS: app.origin, PORT: port }, { dbSchema: schema.name });

beforeAll(async () => {
  app = await serveExampleApp();
  schema = await createTestSchema();
  server = await start();
  app.apiUrl = server.url;
  chromium = await launchBrowser();
});
afterAll(async () => {
  await chromium?.close();
  await server?.stop();
  await schema?.drop();
  await app?.close();
});

it("reconnects an open page after a server restart with a fresh token, and the page still hears a later revocation", async () => {
  const { email } = await signUp(server);
  const page = await signInThroughApp(await openDevice(chromium), app, { email, password: PASSWORD });
  const sessionId = await currentSessionId(page);
  await until(() => server.services.live.size === 1, 5000);

  const port = new URL(server.url).port;
  await server.stop();
  server = await start(port);
  await until(() => server.services.live.size === 1, 15_000);
  expect(await page.getByTestId("devices-page").isVisible()).toBe(true);

  const other = await signIn(server, email);
  const revoked = await server.request(RevokeSessionDocument, { id: sessionId }, { token: other.accessToken });
  expect(revoked.data?.revokeSession).toBe(true);
  await page.getByTestId("signed-out").waitFor();
  expect(await page.getByTestId("signed-out").getAttribute("data-reason")).toBe("REVOKED");
});
