import "reflect-metadata";
import { startServer } from "./app/server";
import { keepDevSigningKeys, withSigningKeys } from "./config/dev-signing-keys";
import { type Config, ConfigError, loadConfig } from "./config/environment";
import { resolveDatabase } from "./db/database-url";
import { createLogger, wantsPrettyLogs } from "./lib/logger";

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
  const logger = createLogger(config.logLevel, undefined, { pretty: wantsPrettyLogs(config.env, process.stdout.isTTY) });
  if (config.env === "development" && config.jwt.generated) {
    const kept = await keepDevSigningKeys(config.dataDir);
    config = withSigningKeys(config, kept.keys);
    logger.info(
      { file: kept.file },
      kept.created
        ? "JWT_PRIVATE_KEYS not set: made a development signing key and kept it in the data folder"
        : "JWT_PRIVATE_KEYS not set: using the development signing keys kept in the data folder",
    );
  }
  // The embedded server's own log lines are detail; its start-up messages are worth seeing.
  const database = await resolveDatabase(config, (msg) => (msg.startsWith("postgres:") ? logger.debug(msg) : logger.info(msg)));
  if (database.embedded) {
    logger.info(
      { dir: config.embeddedPgDir, ...(database.sharedWith ? { ownerPid: database.sharedWith } : {}) },
      database.sharedWith
        ? "using the embedded PostgreSQL another local instance started (DATABASE_URL not set); it stops when that instance stops"
        : "using embedded PostgreSQL (DATABASE_URL not set)",
    );
  }
  const server = await startServer(config, { databaseUrl: database.url, logger });

  let stopping = false;
  // Ctrl-C reaches the whole terminal's process group, but not the embedded PostgreSQL (it runs
  // in a session of its own): requests in flight finish on a live database, then it is stopped.
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
  // Last: whoever waits for this line may signal the process at once.
  logger.info({ url: server.url }, "session API ready");
}

main().catch((error: unknown) => {
  console.error("start-up failed:", error instanceof Error ? error.message : error);
  process.exit(1);
});
