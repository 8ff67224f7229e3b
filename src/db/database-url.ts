import path from "node:path";
import type { Config } from "../config/environment";
import { startEmbeddedPostgres } from "../dev/embedded-postgres";

export interface Database {
  url: string;
  /** Stops the embedded server, if one was started; a no-op for DATABASE_URL. */
  stop(): Promise<void>;
  embedded: boolean;
}

/** DATABASE_URL when set; otherwise an embedded PostgreSQL with its data in EMBEDDED_PG_DIR. */
export async function resolveDatabase(config: Config, log: (msg: string) => void = () => undefined): Promise<Database> {
  if (config.databaseUrl) return { url: config.databaseUrl, stop: async () => undefined, embedded: false };
  const pg = await startEmbeddedPostgres({ dataDir: path.resolve(config.embeddedPgDir), log });
  return { url: pg.url, stop: () => pg.stop(), embedded: true };
}
