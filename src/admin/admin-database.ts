import type { DataSource } from "typeorm";
import type { Config } from "../config/environment";
import { createDataSource } from "../db/data-source";
import { resolveDatabase } from "../db/database-url";

export interface AdminDatabase {
  db: DataSource;
  close(): Promise<void>;
}

/**
 * The data source the server uses: DATABASE_URL, or the embedded PostgreSQL in
 * EMBEDDED_PG_DIR (started here, or the one a running `npm start` already serves, as the
 * migration CLI does), with the server's migrations applied so a command never meets an old
 * schema.
 */
export async function openAdminDatabase(config: Config): Promise<AdminDatabase> {
  const database = await resolveDatabase(config);
  const db = createDataSource({ url: database.url, timeouts: config.databaseTimeouts });
  try {
    await db.initialize();
    await db.runMigrations({ transaction: "each" });
  } catch (error) {
    if (db.isInitialized) await db.destroy();
    await database.stop();
    throw error;
  }
  return {
    db,
    async close() {
      await db.destroy();
      await database.stop();
    },
  };
}
