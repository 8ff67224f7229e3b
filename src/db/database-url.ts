import path from "node:path";
import type { Config } from "../config/environment";
import { startEmbeddedPostgres } from "../dev/embedded-postgres";

export interface Database {
  url: string;
  /** Stops the embedded server, if this process started it; a no-op for DATABASE_URL or a reused one. */
  stop(): Promise<void>;
  embedded: boolean;
  /** Embedded and already running for another local process (its pid), which owns and stops it. */
  sharedWith?: number;
}

/**
 * DATABASE_URL when set; otherwise the embedded PostgreSQL with its data in EMBEDDED_PG_DIR,
 * started here or, when another local process (a running `npm start`) already serves that
 * folder, that process's server.
 */
export async function resolveDatabase(config: Config, log: (msg: string) => void = () => undefined): Promise<Database> {
  if (config.databaseUrl) return { url: config.databaseUrl, stop: async () => undefined, embedded: false };
  const pg = await startEmbeddedPostgres({
    dataDir: path.resolve(config.embeddedPgDir),
    port: config.embeddedPgPort || undefined, // 0: any free port, as unset
    log,
  });
  return { url: pg.url, stop: () => pg.stop(), embedded: true, sharedWith: pg.sharedWith };
}
