import "reflect-metadata";
import { loadConfig } from "../src/config/environment";
import { startServer } from "../src/server";

/**
 * One server instance for the live benchmark, in its own process so its memory and event
 * loop are its own. Talks to the parent over IPC: "ready" with its URL, memory on request.
 */
async function main() {
  const config = loadConfig();
  const dbSchema = process.env.BENCH_DB_SCHEMA;
  const server = await startServer(config, { databaseUrl: config.databaseUrl!, dbSchema });
  process.send?.({ type: "ready", url: server.url, wsUrl: server.wsUrl });
  process.on("message", async (message: { type: string }) => {
    if (message.type === "memory") {
      // Twice: the first pass can leave work for the second.
      global.gc?.();
      global.gc?.();
      const { heapUsed, rss } = process.memoryUsage();
      process.send?.({ type: "memory", heapUsed, rss, sockets: server.services.live.size });
    } else if (message.type === "stop") {
      await server.stop();
      process.exit(0);
    }
  });
}

main().catch((error: unknown) => {
  console.error("bench server failed:", error);
  process.exit(1);
});
