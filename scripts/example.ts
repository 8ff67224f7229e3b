import "reflect-metadata";
import { spawn } from "node:child_process";
import path from "node:path";
import { startServer } from "../src/app/server";
import { keepDevSigningKeys, withSigningKeys } from "../src/config/dev-signing-keys";
import { loadConfig } from "../src/config/environment";
import { resolveDatabase } from "../src/db/database-url";
import { createLogger, wantsPrettyLogs } from "../src/lib/logger";

/**
 * npm run example [-- --port 5173 --api-port 4000]
 *
 * Starts the session API (development mode; the embedded PostgreSQL unless DATABASE_URL is
 * set) and the example web app's Vite dev server, prints the app's URL, and stops both on
 * Ctrl-C. Page and API share the host name `localhost` (different ports are the same site),
 * which the refresh cookie (`__Host-`, SameSite=Strict) needs.
 */
const ROOT = path.join(__dirname, "..", "..");

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  const value = i === -1 ? fallback : Number(process.argv[i + 1]);
  if (!Number.isInteger(value) || value < 1 || value > 65535) throw new Error(`${name} needs a port number`);
  return value;
}

async function waitForHttp(url: string, timeoutMs: number): Promise<void> {
  for (const end = Date.now() + timeoutMs; ; ) {
    try {
      await fetch(url);
      return;
    } catch (error) {
      if (Date.now() > end) throw new Error(`${url} did not answer: ${String(error)}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

async function main() {
  const appPort = option("--port", 5173);
  const apiPort = option("--api-port", 4000);
  const appOrigin = `http://localhost:${appPort}`;
  let config = loadConfig({
    ...process.env,
    NODE_ENV: "development",
    PORT: String(apiPort),
    HOST: "localhost",
    CORS_ORIGINS: appOrigin,
    LOG_LEVEL: process.env.LOG_LEVEL ?? "warn",
  });
  const logger = createLogger(config.logLevel, undefined, { pretty: wantsPrettyLogs(config.env, process.stdout.isTTY) });
  // As `npm start` in development: the signing secret kept in the data folder, so a restart
  // of the example keeps its sessions.
  if (config.jwt.generated) config = withSigningKeys(config, (await keepDevSigningKeys(config.dataDir)).keys);
  const database = await resolveDatabase(config);
  const api = await startServer(config, { databaseUrl: database.url, logger });

  const viteBin = path.join(path.dirname(require.resolve("vite/package.json")), "bin", "vite.js");
  const vite = spawn(
    process.execPath,
    [viteBin, "--port", String(appPort), "--strictPort", "--clearScreen", "false", "--logLevel", "warn"],
    {
      cwd: path.join(ROOT, "examples", "web"),
      env: { ...process.env, VITE_API_URL: `http://localhost:${apiPort}/graphql` },
      stdio: ["ignore", "inherit", "inherit"],
    },
  );

  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    vite.kill("SIGTERM");
    await api.stop();
    await database.stop();
    process.exit(code);
  };
  vite.once("exit", (code) => {
    if (!stopping) console.error(`the Vite dev server exited (${code})`);
    void stop(code ?? 1);
  });
  process.on("SIGINT", () => void stop(0));
  process.on("SIGTERM", () => void stop(0));

  await waitForHttp(appOrigin, 30_000);
  console.log(`\n  Example app: ${appOrigin}\n\n  (API and Vite dev server running; Ctrl-C stops both.)\n`);
}

main().catch((error: unknown) => {
  console.error("example failed to start:", error instanceof Error ? error.message : error);
  process.exit(1);
});
