import { databaseKillDrill } from "../drills/database-kill";

/**
 * The database killed with SIGKILL under load and started again, the API left running (the
 * long version is `npm run drills`). The drill judges every answer; see drills/support/outage.ts.
 */
describe("when the database is killed under load and restarted", () => {
  it("refuses every request with 503 SERVICE_UNAVAILABLE and Retry-After meanwhile, and answers again without a restart", async () => {
    const figures = await databaseKillDrill({ outageMs: 1500, devices: 4 });
    expect(figures.violations).toEqual([]);
    expect(figures.stale).toBe(0);
    expect(figures.refused).toBeGreaterThan(0);
  }, 90_000);
});
