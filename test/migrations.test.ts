import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { Client } from "pg";
import { databaseUrl } from "./support/test-server";

/**
 * The npm scripts' TypeORM CLI, on the compiled data source, against a database of its own:
 * migrations apply, match the entities exactly (nothing left to generate), and revert.
 */
const name = `migrations_${randomBytes(4).toString("hex")}`;
const url = new URL(databaseUrl());
url.pathname = `/${name}`;

async function admin(sql: string) {
  const client = new Client({ connectionString: databaseUrl() });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

function typeorm(...args: string[]) {
  const cli = path.join(__dirname, "..", "node_modules", "typeorm", "cli.js");
  const dataSource = path.join(__dirname, "..", "dist", "src", "db", "cli-data-source.js");
  return spawnSync(process.execPath, [cli, "-d", dataSource, ...args], {
    env: { PATH: process.env.PATH, DATABASE_URL: url.toString() },
    encoding: "utf8",
    timeout: 60_000,
  });
}

beforeAll(() => admin(`CREATE DATABASE ${name}`));
afterAll(() => admin(`DROP DATABASE ${name} WITH (FORCE)`));

it("applies every migration, leaves nothing for migration:generate to find, and reverts", () => {
  const run = typeorm("migration:run");
  expect(run.status).toBe(0);
  expect(run.stdout).toContain("has been executed successfully");

  const check = typeorm("migration:generate", "--check", "--dr", "migrations/Drift");
  expect({ status: check.status, out: check.stdout }).toEqual({ status: 0, out: expect.stringContaining("No changes in database schema were found") });

  const revert = typeorm("migration:revert");
  expect(revert.status).toBe(0);
  expect(revert.stdout).toContain("reverted successfully");
}, 120_000);
