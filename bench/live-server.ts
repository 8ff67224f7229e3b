import "reflect-metadata";
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import path from "node:path";
import { startServer } from "../src/app/server";
import { loadConfig } from "../src/config/environment";

/**
 * One server instance for the live benchmark, in its own process so its memory, CPU time and
 * event loop are its own. Talks to the parent over IPC: "ready" with its URL, then answers
 * each request `{ type }` with `{ type: "<type>:done", ... }`.
 */
async function main() {
  const config = loadConfig();
  const dbSchema = process.env.BENCH_DB_SCHEMA;
  const server = await startServer(config, { databaseUrl: config.databaseUrl!, dbSchema });
  const profiler = new Session();
  let cpuFrom = process.cpuUsage();
  process.send?.({ type: "ready", url: server.url, wsUrl: server.wsUrl });
  process.on("message", async (message: { type: string; profileDir?: string }) => {
    const done = (reply: object = {}) => process.send?.({ type: `${message.type}:done`, ...reply });
    switch (message.type) {
      case "memory": {
        // Twice: the first pass can leave work for the second.
        global.gc?.();
        global.gc?.();
        const { heapUsed, rss } = process.memoryUsage();
        return done({ heapUsed, rss, sockets: server.services.live.size });
      }
      case "measure-start":
        cpuFrom = process.cpuUsage();
        if (message.profileDir) {
          profiler.connect();
          await profiler.post("Profiler.enable");
          await profiler.post("Profiler.setSamplingInterval", { interval: 250 });
          await profiler.post("Profiler.start");
        }
        return done();
      case "measure-stop": {
        // All of the process's threads: the event loop, V8's compiler and GC helpers, libuv.
        const cpu = process.cpuUsage(cpuFrom);
        if (message.profileDir) {
          const { profile } = await profiler.post("Profiler.stop");
          writeFileSync(path.join(message.profileDir, `server-${process.pid}.cpuprofile`), JSON.stringify(profile));
          profiler.disconnect();
        }
        return done({ userMs: cpu.user / 1000, systemMs: cpu.system / 1000 });
      }
      case "stop":
        await server.stop();
        process.exit(0);
    }
  });
}

main().catch((error: unknown) => {
  console.error("bench server failed:", error);
  process.exit(1);
});
