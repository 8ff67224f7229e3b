import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { Client } from "pg";
import { MIGRATIONS } from "../src/db/migrations";
import { databaseUrl } from "./support/test-server";

/**
 * The npm scripts' TypeORM CLI, on the compiled data source, against a database of its own:
 * migrations apply, match the entities exactly (nothing left to generate), and revert.
 */
const name = `migrations_${randomBytes(4).toString("hex")}`;
const url = new URL(databaseUrl());
url.pathname = `/${name}`;
const ROOT = path.join(__dirname, "..");

// What a build leaves behind when a migration's source is deleted: tsc never removes output.
// Newer than every real migration, so a glob over dist/ would run it last.
const STALE_NAME = `StaleLeftover${randomBytes(3).toString("hex")}`;
const STALE_FILE = path.join(ROOT, "dist", "migrations", `1999999999999-${STALE_NAME}.js`);
const STALE_JS = `"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
class ${STALE_NAME}1999999999999 {
  name = "${STALE_NAME}1999999999999";
  async up(q) { await q.query('CREATE TABLE "stale_leftover" (id int)'); }
  async down(q) { await q.query('DROP TABLE "stale_leftover"'); }
}
exports.${STALE_NAME}1999999999999 = ${STALE_NAME}1999999999999;
`;

async function query<T>(sql: string, target = databaseUrl()): Promise<T[]> {
  const client = new Client({ connectionString: target });
  await client.connect();
  try {
    return (await client.query(sql)).rows as T[];
  } finally {
    await client.end();
  }
}

function typeorm(...args: string[]) {
  const cli = path.join(ROOT, "node_modules", "typeorm", "cli.js");
  const dataSource = path.join(ROOT, "dist", "src", "db", "cli-data-source.js");
  return spawnSync(process.execPath, [cli, "-d", dataSource, ...args], {
    env: { PATH: process.env.PATH, DATABASE_URL: url.toString() },
    encoding: "utf8",
    timeout: 60_000,
  });
}

beforeAll(async () => {
  await query(`CREATE DATABASE ${name}`);
  mkdirSync(path.dirname(STALE_FILE), { recursive: true });
  writeFileSync(STALE_FILE, STALE_JS);
});
afterAll(async () => {
  rmSync(STALE_FILE, { force: true });
  await query(`DROP DATABASE ${name} WITH (FORCE)`);
});

it("applies every migration, leaves nothing for migration:generate to find, and reverts", async () => {
  const run = typeorm("migration:run");
  expect(run.status).toBe(0);
  expect(run.stdout).toContain("has been executed successfully");

  // The compiled output in dist/ holds a migration with no source: it is never run.
  expect(run.stdout).not.toContain(STALE_NAME);
  const applied = await query<{ name: string }>("SELECT name FROM migrations ORDER BY timestamp", url.toString());
  expect(applied.map((m) => m.name)).toEqual(MIGRATIONS.map((m) => m.name));
  expect(await query("SELECT to_regclass('stale_leftover') AS t", url.toString())).toEqual([{ t: null }]);

  const check = typeorm("migration:generate", "--check", "--dr", "migrations/Drift");
  expect({ status: check.status, out: check.stdout }).toEqual({
    status: 0,
    out: expect.stringContaining("No changes in database schema were found"),
  });

  const revert = typeorm("migration:revert");
  expect(revert.status).toBe(0);
  expect(revert.stdout).toContain("reverted successfully");
}, 120_000);

it("lists exactly the migrations in migrations/, in order, so none is forgotten or left over", () => {
  const files = readdirSync(path.join(ROOT, "migrations"))
    .filter((f) => f.endsWith(".ts"))
    .sort()
    .map((f) => {
      const [, timestamp, className] = /^(\d+)-(\w+)\.ts$/.exec(f) ?? [];
      return `${className}${timestamp}`;
    });
  expect(MIGRATIONS.map((m) => m.name)).toEqual(files);
});
