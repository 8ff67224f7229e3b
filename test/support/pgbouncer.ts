import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";

/**
 * Debian's PgBouncer, in transaction mode, on a free port in front of the test PostgreSQL,
 * as a managed database's pooler is. scripts/ensure-pgbouncer.sh installs it where missing.
 *
 * Per-file schemas: PgBouncer drops the `options` startup parameter (search_path) clients
 * send, so the pooled database entry sets the schema on each server connection it opens
 * (`connect_query`), as a production setup would set it on the role.
 */
export interface PgBouncer {
  /** postgres://… through the pooler, to the given schema. */
  url: string;
  version: string;
  stop(): Promise<void>;
}

const ROOT = path.join(__dirname, "..", "..");

function pgbouncerBinary(): string {
  const found = spawnSync(path.join(ROOT, "scripts", "ensure-pgbouncer.sh"), { encoding: "utf8", timeout: 300_000 });
  if (found.status !== 0) throw new Error(`PgBouncer is not available: ${found.stderr.trim()}`);
  return found.stdout.trim();
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function untilListening(port: number, child: ChildProcess, log: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) break;
    const ok = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ host: "127.0.0.1", port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.on("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  let tail = "";
  try {
    tail = readFileSync(log, "utf8").slice(-2000);
  } catch {}
  throw new Error(`PgBouncer did not start (exit ${child.exitCode}): ${tail}`);
}

export async function startPgBouncer(directUrl: string, schema: string): Promise<PgBouncer> {
  const bin = pgbouncerBinary();
  const version = spawnSync(bin, ["--version"], { encoding: "utf8" }).stdout.split("\n")[0];
  const target = new URL(directUrl);
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), "pgbouncer-"));
  chmodSync(dir, 0o777);
  const user = decodeURIComponent(target.username || "postgres");
  const log = path.join(dir, "pgbouncer.log");
  writeFileSync(path.join(dir, "userlist.txt"), `"${user}" "${decodeURIComponent(target.password)}"\n`);
  writeFileSync(
    path.join(dir, "pgbouncer.ini"),
    `[databases]
pooled = host=${target.hostname} port=${target.port || 5432} dbname=${target.pathname.slice(1)} user=${user} connect_query='SET search_path TO ${schema}'

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = ${port}
unix_socket_dir =
auth_type = trust
auth_file = ${dir}/userlist.txt
pool_mode = transaction
max_client_conn = 200
default_pool_size = 20
ignore_startup_parameters = extra_float_digits,options,statement_timeout,idle_in_transaction_session_timeout
logfile = ${log}
pidfile = ${dir}/pgbouncer.pid
`,
  );
  // PgBouncer refuses to run as root.
  const asRoot = process.getuid?.() === 0;
  const child = asRoot
    ? spawn("runuser", ["-u", "postgres", "--", bin, path.join(dir, "pgbouncer.ini")], { stdio: "ignore" })
    : spawn(bin, [path.join(dir, "pgbouncer.ini")], { stdio: "ignore" });
  await untilListening(port, child, log);
  return {
    url: `postgres://${encodeURIComponent(user)}@127.0.0.1:${port}/pooled`,
    version,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGTERM");
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
