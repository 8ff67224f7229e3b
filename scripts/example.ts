import "reflect-metadata";
import { spawn } from "node:child_process";
import path from "node:path";
import { PORTS } from "../examples/supergraph/src/ports";
import { startSupergraph } from "../examples/supergraph/src/supergraph";
import { startServer } from "../src/app/server";
import { keepDevSigningKeys, withSigningKeys } from "../src/config/dev-signing-keys";
import { loadConfig } from "../src/config/environment";
import { resolveDatabase } from "../src/db/database-url";
import { createLogger, wantsPrettyLogs } from "../src/lib/logger";

/**
 * npm run example [-- --port 5173 --api-port 4000] [-- --gateway]
 *
 * Starts the session API (development mode; the embedded PostgreSQL unless DATABASE_URL is
 * set) and the example web app's Vite dev server, prints the app's URL, and stops both on
 * Ctrl-C. Page and API share the host name `localhost` (different ports are the same site),
 * which the refresh cookie (`__Host-`, SameSite=Strict) needs. With `--gateway` the app talks
 * to examples/supergraph instead: the gateway (port 4002) in front of the session API in
 * federation mode and the notes subgraph.
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
  const logLevel = process.env.LOG_LEVEL ?? "warn";
  const api = process.argv.includes("--gateway")
    ? await startThroughGateway(apiPort, appOrigin, logLevel)
    : await startDirect(apiPort, appOrigin, logLevel);

  const viteBin = path.join(path.dirname(require.resolve("vite/package.json")), "bin", "vite.js");
  const vite = spawn(
    process.execPath,
    [viteBin, "--port", String(appPort), "--strictPort", "--clearScreen", "false", "--logLevel", "warn"],
    {
      cwd: path.join(ROOT, "examples", "web"),
      env: { ...process.env, VITE_API_URL: api.url },
      stdio: ["ignore", "inherit", "inherit"],
    },
  );

  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    vite.kill("SIGTERM");
    await api.stop();
    process.exit(code);
  };
  vite.once("exit", (code) => {
    if (!stopping) console.error(`the Vite dev server exited (${code})`);
    void stop(code ?? 1);
  });
  process.on("SIGINT", () => void stop(0));
  process.on("SIGTERM", () => void stop(0));

  await waitForHttp(appOrigin, 30_000);
  console.log(
    `\n  Example app: ${appOrigin}\n\n  (${api.what} and Vite dev server running, the app talking to ${api.url}; Ctrl-C stops both.)\n`,
  );
}

interface Started {
  /** The GraphQL endpoint the app's pages talk to. */
  url: string;
  what: string;
  stop(): Promise<void>;
}

/** The session API itself, as `npm start` runs it in development. */
async function startDirect(apiPort: number, appOrigin: string, logLevel: string): Promise<Started> {
  let config = loadConfig({
    ...process.env,
    NODE_ENV: "development",
    PORT: String(apiPort),
    HOST: "localhost",
    CORS_ORIGINS: appOrigin,
    LOG_LEVEL: logLevel,
  });
  const logger = createLogger(config.logLevel, undefined, { pretty: wantsPrettyLogs(config.env, process.stdout.isTTY) });
  // As `npm start` in development: the signing secret kept in the data folder, so a restart
  // of the example keeps its sessions.
  if (config.jwt.generated) config = withSigningKeys(config, (await keepDevSigningKeys(config.dataDir)).keys);
  const database = await resolveDatabase(config);
  const api = await startServer(config, { databaseUrl: database.url, logger });
  return {
    url: `http://localhost:${apiPort}/graphql`,
    what: "API",
    async stop() {
      await api.stop();
      await database.stop();
    },
  };
}

/** examples/supergraph on localhost, its gateway serving the app's origin. */
async function startThroughGateway(apiPort: number, appOrigin: string, logLevel: string): Promise<Started> {
  const supergraph = await startSupergraph({
    api: { port: apiPort, env: { NODE_ENV: "development", CORS_ORIGINS: appOrigin, LOG_LEVEL: logLevel } },
    host: "localhost",
    notesPort: PORTS.notes,
    gatewayPort: PORTS.gateway,
    corsOrigins: [appOrigin],
  });
  return { url: supergraph.gateway.url, what: "API, notes subgraph, gateway", stop: () => supergraph.stop() };
}

main().catch((error: unknown) => {
  console.error("example failed to start:", error instanceof Error ? error.message : error);
  process.exit(1);
});
