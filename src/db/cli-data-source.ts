import "reflect-metadata";
import { loadConfig } from "../config/environment";
import { createDataSource } from "./data-source";
import { resolveDatabase } from "./database-url";

/**
 * The data source the TypeORM CLI uses (`npm run migration:*`): the same entities, migrations
 * and database as the server, embedded PostgreSQL included when DATABASE_URL is unset.
 */
export const dataSource = (async () => {
  const config = loadConfig();
  const { url } = await resolveDatabase(config);
  return createDataSource({ url });
})();
