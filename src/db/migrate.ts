import { Client } from "pg";
import type { DataSource } from "typeorm";
import { MIGRATIONS } from "./migrations";

/**
 * Migrations under a PostgreSQL advisory lock, so that replicas started together (a rolling
 * deploy, `docker compose up --scale`) never run the same DDL at once: without it two
 * instances both created the `migrations` table and one died on
 * `duplicate key value violates unique constraint "pg_type_typname_nsp_index"`. The first
 * instance to take the lock migrates; the others wait for it, then find nothing pending.
 *
 * The lock is a session lock, so it is held on a connection of its own, opened on `lockUrl`:
 * the direct URL behind a transaction pooler (a pooler may hand each statement to another
 * server connection, and the lock would be held by none of ours). The migrations themselves
 * run on the data source's pool. The key is per schema: tests run one schema per file.
 */
export async function migrateUnderLock(db: DataSource, options: { lockUrl: string; schema?: string }): Promise<string[]> {
  const lock = new Client({ connectionString: options.lockUrl });
  await lock.connect();
  try {
    const key = `session-api migrations ${options.schema ?? "public"}`;
    await lock.query("SELECT pg_advisory_lock(hashtext($1))", [key]);
    try {
      const applied = await db.runMigrations({ transaction: "each" });
      return applied.map((m) => m.name);
    } finally {
      await lock.query("SELECT pg_advisory_unlock(hashtext($1))", [key]);
    }
  } finally {
    await lock.end();
  }
}

/** The migrations this build knows that the database has not applied, by name (read only). */
export async function pendingMigrations(db: DataSource): Promise<string[]> {
  const [{ table }] = await db.query("SELECT to_regclass('migrations')::text AS table");
  const applied = new Set<string>(
    table === null ? [] : (await db.query("SELECT name FROM migrations")).map((row: { name: string }) => row.name),
  );
  return MIGRATIONS.map((m) => m.name).filter((name) => !applied.has(name));
}

export class SchemaNotCurrentError extends Error {
  constructor(readonly pending: string[]) {
    super(
      `MIGRATIONS=skip, but the database schema is not current: ${pending.length} migration(s) pending ` +
        `(${pending.join(", ")}). Run \`npm run migrate\` against this database first, or start without MIGRATIONS=skip.`,
    );
    this.name = "SchemaNotCurrentError";
  }
}
