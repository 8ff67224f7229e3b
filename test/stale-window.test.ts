import { staleWindowTrials } from "../drills/stale-window";
import { startTestServer, type TestServer } from "./support/test-server";

/**
 * The stale-window trials on one instance: once revokeSession has answered, no request sent
 * afterwards with the revoked session's token is answered with data, under concurrent load.
 * Across instances: bench/cross-instance-drill.ts (`npm run drills`, `npm run drill:cross-instance`).
 */
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

describe("the stale window of a revocation on one instance", () => {
  it("is empty: no request sent after revokeSession answered gets data", async () => {
    const figures = await staleWindowTrials({ revokerUrl: server.url, observerUrl: server.url, trials: 10 });
    expect(figures.violations).toEqual([]);
    expect(figures.stale).toBe(0);
    expect(figures.requests).toBeGreaterThan(10 * 4);
  });
});
