import { mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { type EmbeddedPostgres, startEmbeddedPostgres } from "../../src/dev/embedded-postgres";

/**
 * A PostgreSQL cluster of the drill's own (the embedded binaries, a fresh data folder, a free
 * port), which the drill may kill -9 and start again on the same port and data.
 */
export interface PrivatePostgres {
  /** The same URL before and after a restart. */
  readonly url: string;
  /** SIGKILL to the postmaster and every backend at once, as a crashed machine leaves it. */
  kill(): Promise<void>;
  /** Starts the cluster again on its data and port (crash recovery runs). */
  restart(): Promise<void>;
  /** Stops it and deletes its data. */
  dispose(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function parentOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return null;
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return false;
  }
};

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  if (process.platform !== "linux") throw new Error("the database drills read /proc: Linux only");
  const folder = mkdtempSync(path.join(tmpdir(), "drill-pg-"));
  const dataDir = path.join(folder, "pg");
  const port = await freePort();
  let pg: EmbeddedPostgres = await startEmbeddedPostgres({ dataDir, port });
  return {
    url: pg.url,
    async kill() {
      const postmaster = Number(readFileSync(path.join(realpathSync(dataDir), "postmaster.pid"), "utf8").split("\n")[0]);
      const backends = readdirSync("/proc")
        .filter((name) => /^\d+$/.test(name))
        .map(Number)
        .filter((pid) => parentOf(pid) === postmaster);
      for (const pid of [postmaster, ...backends]) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
      while ([postmaster, ...backends].some(alive)) await new Promise((r) => setTimeout(r, 10));
    },
    async restart() {
      pg = await startEmbeddedPostgres({ dataDir, port });
    },
    async dispose() {
      await pg.stop();
      const cluster = realpathSync(dataDir);
      rmSync(cluster, { recursive: true, force: true });
      rmSync(folder, { recursive: true, force: true });
    },
  };
}
