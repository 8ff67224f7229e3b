import "reflect-metadata";
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Client } from "pg";
import { startServer } from "../src/app/server";
import { loadConfig } from "../src/config/environment";
import { resolveDatabase } from "../src/db/database-url";
import { generateSigningKey } from "../src/lib/signing-keys";
import {
  appearedAt,
  clickedAt,
  clockNextClick,
  currentSessionId,
  openDevice,
  signInThroughApp,
  signUpThroughApp,
  watchFor,
} from "../test/support/app-driver";
import { launchBrowser } from "../test/support/browser";
import { serveExampleApp } from "../test/support/example-app";

/**
 * npm run bench:browser [-- --trials 50]
 *
 * What a user sees: the time from the revoking click on device A ("Sign out this device" on the
 * devices page) to device B's signed-out screen, in real headless Chromium, both devices on the
 * built example app against the real server (production mode) on this machine. Each trial
 * signs in a new B through the form; A refreshes its list and revokes B. The time is taken
 * inside the pages: A's click as A received it, B's first frame after the screen rendered.
 * Writes bench/results/browser.md.
 */
const WARM_UP = 2;
const PASSWORD = "bench password, long enough";

function trialsOption(): number {
  const i = process.argv.indexOf("--trials");
  const n = i === -1 ? 50 : Number(process.argv[i + 1]);
  if (!Number.isInteger(n) || n < 1) throw new Error("--trials needs a positive integer");
  return n;
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

async function main() {
  const trials = trialsOption();
  const app = await serveExampleApp();
  const config = loadConfig({
    ...process.env,
    NODE_ENV: "production",
    JWT_PRIVATE_KEYS: generateSigningKey("ES256"),
    PORT: "0",
    HOST: "127.0.0.1",
    CORS_ORIGINS: app.origin,
    REGISTER_MAX_PER_IP: "100000", // a sign-up per trial, all from this machine
    LOG_LEVEL: "silent",
  });
  const database = await resolveDatabase(config);
  const schema = `bench_${randomBytes(4).toString("hex")}`;
  const admin = new Client({ connectionString: database.url });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  const server = await startServer(config, { databaseUrl: database.url, dbSchema: schema });
  app.apiUrl = server.url;
  const chromium = await launchBrowser();
  const times: number[] = [];
  try {
    const email = `bench-${randomBytes(4).toString("hex")}@example.test`;
    const a = await signUpThroughApp(await openDevice(chromium), app, { email, password: PASSWORD, deviceName: "A" });
    for (let trial = 0; trial < WARM_UP + trials; trial++) {
      const device = await openDevice(chromium);
      const b = await signInThroughApp(device, app, { email, password: PASSWORD, deviceName: `B${trial}` });
      const bId = await currentSessionId(b);
      await a.getByTestId("refresh").click();
      const row = a.locator(`[data-testid="session-row"][data-session-id="${bId}"]`);
      await row.waitFor();
      await watchFor(b, '[data-testid="signed-out"]');
      await clockNextClick(a);
      await row.getByTestId("revoke").click();
      const elapsed = (await appearedAt(b)) - (await clickedAt(a));
      if (trial >= WARM_UP) times.push(elapsed);
      await device.close();
    }
  } finally {
    await chromium.close();
    await server.stop();
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
    await database.stop();
    await app.close();
  }

  const sorted = [...times].sort((x, y) => x - y);
  const ms = (v: number) => `${v.toFixed(1)} ms`;
  const lines = [
    "# Browser: revoking click on A to B's signed-out screen",
    "",
    "`npm run bench:browser` (bench/browser-revocation.ts) writes this file.",
    "",
    `Real headless Chromium ${chromium.version()}, two browser contexts (devices A and B) on the built example app, the API in production mode on this machine. ${trials} trials after ${WARM_UP} warm-up trials; in each, a new B signs in through the form, A clicks \u201cSign out this device\u201d on B's row, and the time runs from A's click (as A's page received it) to the first frame after B's page rendered its signed-out screen.`,
    "",
    "| trials | p50 | p90 | p99 | min | max |",
    "|---:|---:|---:|---:|---:|---:|",
    `| ${trials} | ${ms(percentile(sorted, 50))} | ${ms(percentile(sorted, 90))} | ${ms(percentile(sorted, 99))} | ${ms(sorted[0])} | ${ms(sorted[sorted.length - 1])} |`,
    "",
    `Machine: ${os.cpus().length} \u00d7 ${os.cpus()[0]?.model ?? "cpu"}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${database.embedded ? "embedded PostgreSQL 18" : "PostgreSQL from DATABASE_URL"}; browser, API and database share the machine.`,
    "",
  ];
  const file = path.join(__dirname, "..", "..", "bench", "results", "browser.md");
  writeFileSync(file, lines.join("\n"));
  console.log(lines.join("\n"));
  console.log(`wrote ${path.relative(process.cwd(), file)}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
