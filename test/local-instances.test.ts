import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, realpathSync, rmSync, statSync } from "node:fs";
import { request } from "node:http";
import path from "node:path";

/**
 * A developer's machine: `npm start` with no DATABASE_URL and no JWT_PRIVATE_KEYS, a second
 * `npm start`, the migration CLI and the benchmark, all on one data folder; then Ctrl-C. Every
 * process here is the real built program; they share one embedded PostgreSQL cluster.
 */
const ROOT = path.join(__dirname, "..");
const MAIN = path.join(ROOT, "dist", "src", "main.js");
const DATA_DIR = path.join(ROOT, ".data", "test-local-instances");
const CLUSTER = path.join(DATA_DIR, "postgres");
const children: ChildProcess[] = [];

/** What a developer's shell has: no DATABASE_URL, no JWT_PRIVATE_KEYS, NODE_ENV unset (development). */
function devEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, DATA_DIR, PORT: "0", PASSWORD_HASH_COST: "10", LOG_LEVEL: "info", ...extra };
}

interface Instance {
  child: ChildProcess;
  url: string;
  /** Every JSON log line so far. */
  logs: Record<string, unknown>[];
  exit: Promise<number | null>;
}

const exitOf = (child: ChildProcess) =>
  new Promise<number | null>((resolve) =>
    child.exitCode !== null ? resolve(child.exitCode) : child.once("exit", (code) => resolve(code)),
  );

/** `node dist/src/main.js`, in a process group of its own (as a terminal's foreground job is). */
function start(env: NodeJS.ProcessEnv = devEnv()): Promise<Instance> {
  const child = spawn(process.execPath, [MAIN], { cwd: ROOT, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  const logs: Record<string, unknown>[] = [];
  const exit = exitOf(child);
  return new Promise((resolve, reject) => {
    let out = "";
    let pending = "";
    const timer = setTimeout(() => reject(new Error(`not ready in time:\n${out}`)), 60_000);
    child.stdout!.on("data", (chunk: Buffer) => {
      out += chunk;
      pending += chunk;
      const lines = pending.split("\n");
      pending = lines.pop()!;
      for (const line of lines) {
        const entry = JSON.parse(line) as Record<string, unknown>;
        logs.push(entry);
        if (entry.msg === "session API ready") {
          clearTimeout(timer);
          resolve({ child, url: entry.url as string, logs, exit });
        }
      }
    });
    child.stderr!.on("data", (chunk: Buffer) => (out += chunk));
    void exit.then((code) => reject(new Error(`exited with ${code}:\n${out}`)));
  });
}

/** Runs a command to its end: exit code and everything it printed. */
function run(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  let out = "";
  child.stdout.on("data", (c: Buffer) => (out += c));
  child.stderr.on("data", (c: Buffer) => (out += c));
  return exitOf(child).then((code) => ({ code, out }));
}

async function gql(url: string, query: string, token?: string) {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query }),
  });
  return (await res.json()) as { data?: Record<string, Record<string, unknown> | null>; errors?: unknown[] };
}

const PASSWORD = "correct horse battery staple";
const credentials = (email: string) => `input: { email: "${email}", password: "${PASSWORD}" }`;
const me = async (url: string, token: string) => (await gql(url, "{ me { email } }", token)).data?.me?.email;

/** The embedded server's postmaster, from the cluster's lock file. */
const postmasterPid = () => Number(readFileSync(path.join(CLUSTER, "postmaster.pid"), "utf8").split("\n")[0]);
const isRunning = (pid: number) =>
  existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].startsWith("Z");

afterAll(async () => {
  const running = children.filter((c) => c.exitCode === null && c.signalCode === null);
  for (const child of running) child.kill("SIGTERM");
  await Promise.all(running.map(exitOf));
  // As root the cluster folder is a link to a cluster the `postgres` user can reach: remove both.
  if (existsSync(CLUSTER)) rmSync(realpathSync(CLUSTER), { recursive: true, force: true });
  rmSync(DATA_DIR, { recursive: true, force: true });
});

const email = `local-${randomBytes(4).toString("hex")}@example.test`;
let first: Instance;
let token: string;

describe("a second local instance", () => {
  it("uses the embedded PostgreSQL the first one started, and accepts the first one's access tokens", async () => {
    first = await start();
    const registered = await gql(first.url, `mutation { register(${credentials(email)}) { accessToken } }`);
    token = registered.data!.register!.accessToken as string;
    expect(first.logs).toContainEqual(
      expect.objectContaining({ msg: "JWT_PRIVATE_KEYS not set: made a development signing key and kept it in the data folder" }),
    );

    const second = await start();
    expect(second.logs).toContainEqual(
      expect.objectContaining({
        ownerPid: first.child.pid,
        msg: expect.stringContaining("embedded PostgreSQL another local instance started"),
      }),
    );
    expect(second.logs).toContainEqual(
      expect.objectContaining({ msg: "JWT_PRIVATE_KEYS not set: using the development signing keys kept in the data folder" }),
    );
    expect(await me(second.url, token)).toBe(email);
    // Kept for the owner only.
    expect(statSync(path.join(DATA_DIR, "jwt-keys.pem")).mode & 0o777).toBe(0o600);

    // The second one leaves the server to its owner.
    const postmaster = postmasterPid();
    second.child.kill("SIGTERM");
    expect(await second.exit).toBe(0);
    expect(isRunning(postmaster)).toBe(true);
    expect(await me(first.url, token)).toBe(email);
  }, 120_000);

  it("is what the migration CLI and the benchmark use too, instead of refusing", async () => {
    const migrations = await run(
      [path.join(ROOT, "node_modules", "typeorm", "cli.js"), "-d", "dist/src/db/cli-data-source.js", "migration:run"],
      devEnv(),
    );
    expect(migrations).toEqual({ code: 0, out: expect.stringContaining("No migrations are pending") });

    const bench = await run([path.join(ROOT, "dist", "bench", "run.js"), "--quick", "--only=context"], {
      // Its servers run as in production, with full-cost hashing.
      ...devEnv({ LOG_LEVEL: "silent" }),
      PASSWORD_HASH_COST: undefined,
    });
    expect(bench).toEqual({ code: 0, out: expect.stringContaining("## The context builder alone") });
    expect(bench.out).toContain("embedded PostgreSQL 18");
    // Neither stopped the server they borrowed.
    expect(await me(first.url, token)).toBe(email);
  }, 120_000);

  it("is what the admin CLI uses too: a service key it makes works on the running instance, and ends when revoked", async () => {
    // `npm run admin -- create-key`: a key the running instance accepts, then refuses once revoked.
    const adminCli = path.join(ROOT, "dist", "src", "admin", "cli.js");
    const created = await run([adminCli, "admin", "create-key", "--name", "local", "--scopes", "sessions:read"], devEnv());
    expect(created.code).toBe(0);
    const key = created.out.trimEnd().split("\n").pop()!;
    const asKey = (url: string) =>
      fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `ApiKey ${key}` },
        body: JSON.stringify({ query: "{ serviceKey { name } }" }),
      }).then((r) => r.json());
    expect(await asKey(first.url)).toEqual({ data: { serviceKey: { name: "local" } } });
    expect(await run([adminCli, "admin", "revoke-key", key.split("_")[1]], devEnv())).toMatchObject({ code: 0 });
    expect(await asKey(first.url)).toMatchObject({ errors: [{ extensions: { reason: "SERVICE_KEY_REVOKED" } }] });
    // `npm run keys -- list`: the development ring, one key signing.
    const keys = await run([adminCli, "keys", "list"], devEnv());
    expect(keys).toEqual({ code: 0, out: expect.stringMatching(/^\S{43} {2}ES256 {2}private {2}signs now\n$/) });
  }, 120_000);
});

describe("the development signing key", () => {
  it("outlives the process: a token from before a restart still works", async () => {
    const postmaster = postmasterPid();
    first.child.kill("SIGTERM");
    expect(await first.exit).toBe(0);
    // The owner stopped its server.
    expect(isRunning(postmaster)).toBe(false);

    const again = await start();
    expect(await me(again.url, token)).toBe(email);
    again.child.kill("SIGTERM");
    expect(await again.exit).toBe(0);
  }, 120_000);

  it("is never used in production, which still requires JWT_PRIVATE_KEYS", async () => {
    expect(existsSync(path.join(DATA_DIR, "jwt-keys.pem"))).toBe(true);
    const production = await run([MAIN], devEnv({ NODE_ENV: "production", PASSWORD_HASH_COST: "17" }));
    expect(production.code).toBe(1);
    expect(production.out).toMatch(/JWT_PRIVATE_KEYS is required in production/);
    expect(production.out).not.toContain("session API ready");
  }, 60_000);
});

describe("Ctrl-C", () => {
  it("reaches the server's whole process group, yet a request in flight finishes on a live database before PostgreSQL stops", async () => {
    const instance = await start();
    const postmaster = postmasterPid();
    const { port } = new URL(instance.url);
    const body = JSON.stringify({ query: `mutation { login(${credentials(email)}) { user { email } } }` });

    // A request whose body is still arriving when the signal comes.
    let inFlight!: ReturnType<typeof request>;
    const response = new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(
        {
          host: "127.0.0.1",
          port,
          path: "/graphql",
          method: "POST",
          headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
        },
        (res) => {
          let text = "";
          res.on("data", (c: Buffer) => (text += c));
          res.on("end", () => resolve({ status: res.statusCode!, text }));
        },
      );
      req.on("error", reject);
      req.write(body.slice(0, 20));
      inFlight = req;
    });
    await new Promise((r) => setTimeout(r, 200));

    // What the terminal does on Ctrl-C: SIGINT to every process in the foreground group.
    process.kill(-instance.child.pid!, "SIGINT");
    await new Promise((r) => setTimeout(r, 500));
    expect(isRunning(postmaster)).toBe(true);
    expect(instance.logs).toContainEqual(
      expect.objectContaining({ signal: "SIGINT", msg: "shutting down: finishing in-flight requests" }),
    );

    inFlight.end(body.slice(20));
    const { status, text } = await response;
    expect({ status, body: JSON.parse(text) as unknown }).toEqual({
      status: 200,
      body: { data: { login: { user: { email } } } },
    });
    expect(await instance.exit).toBe(0);
    expect(isRunning(postmaster)).toBe(false);
  }, 120_000);
});

describe("in a terminal", () => {
  it("logs human-readable lines, and one Ctrl-C at the keyboard shuts everything down cleanly", async () => {
    // `script` gives the server a pseudo-terminal; ^C typed into it is the terminal's Ctrl-C.
    const child = spawn("script", ["-qfec", `exec '${process.execPath}' '${MAIN}'`, "/dev/null"], {
      cwd: ROOT,
      env: devEnv(),
      stdio: ["pipe", "pipe", "pipe"],
    });
    children.push(child);
    const exit = exitOf(child);
    let screen = "";
    // biome-ignore lint/suspicious/noControlCharactersInRegex: strips the terminal's colour codes (ESC [ ... m)
    const plain = () => screen.replace(/\x1b\[[0-9;]*m/g, "");
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`not ready in time:\n${plain()}`)), 60_000);
      child.stdout!.on("data", (chunk: Buffer) => {
        screen += chunk;
        if (plain().includes("session API ready")) {
          clearTimeout(timer);
          resolve();
        }
      });
      void exit.then((code) => reject(new Error(`exited with ${code}:\n${plain()}`)));
    });
    expect(plain()).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: session API ready/m);
    expect(plain()).not.toContain('{"level"');
    const postmaster = postmasterPid();

    child.stdin!.write("\x03");
    expect(await exit).toBe(0);
    expect(plain()).toMatch(/INFO: shutting down: finishing in-flight requests\s+signal: "SIGINT"/);
    expect(isRunning(postmaster)).toBe(false);
  }, 120_000);
});
