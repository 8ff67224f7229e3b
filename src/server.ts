import type { DataSource } from "typeorm";
import { createServices, type Services } from "./app";
import type { Config } from "./config/environment";
import { createDataSource } from "./db/data-source";
import { createSchema } from "./graphql/schema";
import { startHttpServer } from "./http/server";
import { createLogger, type Logger } from "./lib/logger";
import { SessionPurge } from "./sessions/session-purge";

export interface RunningServer {
  url: string;
  services: Services;
  /** The periodic purge of ended sessions (tests run a pass on demand). */
  purge: SessionPurge;
  stop(): Promise<void>;
}

export interface StartOptions {
  databaseUrl: string;
  /** PostgreSQL schema to use (tests give each file its own). */
  dbSchema?: string;
  logger?: Logger;
  /**
   * A seam for the benchmark: lets it swap the session check for the strategies it compares
   * against (stateless JWT, a database read per request). The server itself never uses it.
   */
  configureServices?: (services: Services) => void;
}

/** Connects, applies pending migrations, and serves HTTP (and WebSocket) on config.host:port. */
export async function startServer(config: Config, options: StartOptions): Promise<RunningServer> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const db: DataSource = createDataSource({ url: options.databaseUrl, schema: options.dbSchema });
  await db.initialize();
  try {
    await db.runMigrations({ transaction: "each" });
    const services = createServices(config, db, logger);
    options.configureServices?.(services);
    const schema = await createSchema();
    const http = await startHttpServer(services, schema, { host: config.host, port: config.port });
    const purge = new SessionPurge(
      db,
      { retention: config.sessionRetention, idleTtl: config.sessionIdleTtl, intervalMs: config.sessionPurgeInterval * 1000 },
      logger,
    );
    purge.start();
    return {
      url: http.url,
      services,
      purge,
      async stop() {
        await http.stop();
        await purge.stop();
        await services.lastActive.close();
        await db.destroy();
      },
    };
  } catch (error) {
    await db.destroy();
    throw error;
  }
}
