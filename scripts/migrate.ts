import "reflect-metadata";
import { ConfigError, loadConfig } from "../src/config/environment";
import { createDataSource } from "../src/db/data-source";
import { resolveDatabase } from "../src/db/database-url";
import { migrateUnderLock } from "../src/db/migrate";

/**
 * `npm run migrate`: applies pending migrations and exits, as a deploy step of its own (then
 * start the servers with MIGRATIONS=skip). Takes the same advisory lock as a starting server,
 * so it is safe beside instances that migrate themselves. DATABASE_LISTEN_URL, when set, is
 * used for everything here: DDL has no business going through a transaction pooler.
 */
async function main() {
  const config = loadConfig();
  const database = await resolveDatabase(config, (msg) => console.error(msg));
  const url = config.databaseListenUrl ?? database.url;
  const db = createDataSource({ url });
  await db.initialize();
  try {
    const applied = await migrateUnderLock(db, { lockUrl: url });
    console.log(applied.length ? `applied: ${applied.join(", ")}` : "the schema is current: nothing to apply");
  } finally {
    await db.destroy();
    await database.stop();
  }
}

main().catch((error: unknown) => {
  console.error(
    error instanceof ConfigError ? error.message : `migrate failed: ${error instanceof Error ? error.message : error}`,
  );
  process.exit(1);
});
