import "reflect-metadata";
import { ConfigError, loadConfig, type Config } from "./config/environment";
import { resolveDatabase } from "./db/database-url";
import { createLogger } from "./lib/logger";
import { startServer } from "./app/server";

async function main() {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
  const logger = createLogger(config.logLevel);
  // The embedded server's own log lines are detail; its start-up messages are worth seeing.
  const database = await resolveDatabase(config, (msg) => (msg.startsWith("postgres:") ? logger.debug(msg) : logger.info(msg)));
  if (database.embedded) logger.info({ dir: config.embeddedPgDir }, "using embedded PostgreSQL (DATABASE_URL not set)");
  const server = await startServer(config, { databaseUrl: database.url, logger });
  logger.info({ url: server.url }, "session API ready");

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down: finishing in-flight requests");
    try {
      await server.stop();
      await database.stop();
      process.exit(0);
    } catch (error) {
      logger.error({ err: error }, "shutdown failed");
      process.exit(1);
    }
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
}

main().catch((error: unknown) => {
  console.error("start-up failed:", error instanceof Error ? error.message : error);
  process.exit(1);
});
