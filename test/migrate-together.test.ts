import { spawnSync } from "node:child_process";
import path from "node:path";
import { MIGRATIONS } from "../src/db/migrations";
import { generateSigningKey } from "../src/lib/signing-keys";
import { createTestSchema, databaseUrl, startTestServer, type TestServer } from "./support/test-server";

/**
 * Replicas start together (a rolling deploy, `docker compose up --scale`): migrations run under
 * an advisory lock, so one instance migrates and the others wait and find nothing to do. The
 * migration step can also run alone (`npm run migrate`), with servers started MIGRATIONS=skip.
 */
const ROOT = path.join(__dirname, "..");
const leftovers: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const dispose of leftovers.reverse()) await dispose();
});

async function readyz(server: TestServer): Promise<number> {
  return (await fetch(new URL("/readyz", server.url))).status;
}

/** `npm run migrate`'s script, on one schema of the test database. */
function migrate(schema: string) {
  const url = new URL(databaseUrl());
  url.searchParams.set("options", `-c search_path=${schema}`);
  return spawnSync(process.execPath, [path.join(ROOT, "dist", "scripts", "migrate.js")], {
    env: { PATH: process.env.PATH, NODE_ENV: "test", DATABASE_URL: url.toString() },
    encoding: "utf8",
    timeout: 60_000,
  });
}

it("starts four instances at once on an empty schema: all four become ready, and each migration ran once", async () => {
  const schema = await createTestSchema();
  leftovers.push(schema.drop);
  const signingKeys = generateSigningKey("ES256");
  const starts = await Promise.allSettled([1, 2, 3, 4].map(() => startTestServer({}, { dbSchema: schema.name, signingKeys })));
  const servers = starts.flatMap((start) => (start.status === "fulfilled" ? [start.value] : []));
  for (const server of servers) leftovers.push(server.stop);
  expect(starts.map((start) => (start.status === "rejected" ? String(start.reason) : "started"))).toEqual(
    Array(4).fill("started"),
  );
  expect(await Promise.all(servers.map(readyz))).toEqual([200, 200, 200, 200]);
  const applied = await servers[0].sql<{ name: string }>("SELECT name FROM migrations ORDER BY id");
  expect(applied.map((row) => row.name)).toEqual(MIGRATIONS.map((m) => m.name));
}, 60_000);

it("refuses to start with MIGRATIONS=skip while a migration is pending, and says what to run", async () => {
  const schema = await createTestSchema();
  leftovers.push(schema.drop);
  await expect(startTestServer({ MIGRATIONS: "skip" }, { dbSchema: schema.name })).rejects.toThrow(
    `MIGRATIONS=skip, but the database schema is not current: ${MIGRATIONS.length} migration(s) pending`,
  );
  await expect(startTestServer({ MIGRATIONS: "skip" }, { dbSchema: schema.name })).rejects.toThrow("Run `npm run migrate`");
});

it("migrates alone with npm run migrate, finds nothing to do the second time, and then MIGRATIONS=skip starts", async () => {
  const schema = await createTestSchema();
  leftovers.push(schema.drop);
  const first = migrate(schema.name);
  expect({ status: first.status, stdout: first.stdout }).toEqual({ status: 0, stdout: expect.stringContaining("applied: ") });
  const second = migrate(schema.name);
  expect({ status: second.status, stdout: second.stdout }).toEqual({
    status: 0,
    stdout: "the schema is current: nothing to apply\n",
  });
  const server = await startTestServer({ MIGRATIONS: "skip" }, { dbSchema: schema.name });
  leftovers.push(server.stop);
  expect(await readyz(server)).toBe(200);
}, 60_000);
