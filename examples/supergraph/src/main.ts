import { readFileSync } from "node:fs";
import path from "node:path";
import { PORTS, SUPERGRAPH_FILE } from "./ports";
import { startSupergraph } from "./supergraph";

/**
 * npm run example:supergraph: the session API (federation mode), the notes subgraph and the
 * gateway, on the embedded PostgreSQL unless DATABASE_URL is set, serving the supergraph the
 * build composed. Prints the gateway's URL on a line of its own.
 */
async function main() {
  const supergraph = readFileSync(path.join(__dirname, "..", "..", "..", "..", SUPERGRAPH_FILE), "utf8");
  const running = await startSupergraph({
    api: { port: PORTS.sessionApi, env: { NODE_ENV: "development", LOG_LEVEL: "warn" } },
    notesPort: PORTS.notes,
    gatewayPort: PORTS.gateway,
    supergraph,
  });
  const stop = () =>
    void running.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error("the supergraph example failed to stop cleanly:", error instanceof Error ? error.message : error);
        process.exit(1);
      },
    );
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  console.log(running.gateway.url);
}

main().catch((error: unknown) => {
  console.error("the supergraph example failed to start:", error instanceof Error ? error.message : error);
  process.exit(1);
});
