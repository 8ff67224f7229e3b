import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";

/**
 * `npm start` with no DATABASE_URL: the built server runs on an embedded PostgreSQL, keeps its
 * data in EMBEDDED_PG_DIR, and starts again after being killed with SIGKILL.
 */
const MAIN = path.join(__dirname, "..", "dist", "src", "main.js");
const ADMIN_CLI = path.join(__dirname, "..", "dist", "src", "admin", "cli.js");
const dataDir = mkdtempSync(path.join(tmpdir(), "embedded-pg-"));
const children: ChildProcess[] = [];

/** What `npm start` and `npm run admin` see here: no DATABASE_URL. */
const embeddedEnv = () => ({
  PATH: process.env.PATH,
  DATA_DIR: dataDir,
  EMBEDDED_PG_DIR: path.join(dataDir, "pg"),
  PASSWORD_HASH_COST: "10",
});

function start(port: number): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [MAIN], {
    env: { ...embeddedEnv(), PORT: String(port), LOG_LEVEL: "info" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`not ready in time:\n${out}`)), 60_000);
    child.stdout!.on("data", (chunk: Buffer) => {
      out += chunk;
      const ready = /"url":"([^"]+)","msg":"session API ready"/.exec(out);
      if (ready) {
        clearTimeout(timer);
        resolve({ child, url: ready[1] });
      }
    });
    child.stderr!.on("data", (chunk: Buffer) => (out += chunk));
    child.on("exit", (code) => reject(new Error(`exited with ${code}:\n${out}`)));
  });
}

const exited = (child: ChildProcess) => new Promise((r) => child.once("exit", r));

async function gql(url: string, query: string, token?: string) {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query }),
  });
  return (await res.json()) as { data?: Record<string, { user: { email: string }; accessToken: string; role: string }> };
}

afterAll(async () => {
  const running = children.filter((c) => c.exitCode === null && c.signalCode === null);
  for (const child of running) child.kill("SIGTERM");
  await Promise.all(running.map(exited));
  // As root the data folder is a link to a cluster the `postgres` user can reach: remove both.
  const cluster = path.join(dataDir, "pg");
  if (existsSync(cluster)) rmSync(realpathSync(cluster), { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
});

it("runs on an embedded PostgreSQL, and keeps its data across a SIGKILL and a restart", async () => {
  const port = 40000 + Math.floor(Math.random() * 20000);
  const first = await start(port);
  const registered = await gql(
    first.url,
    'mutation { register(input: { email: "kill@example.test", password: "kept across a kill" }) { user { email } } }',
  );
  expect(registered.data?.register.user.email).toBe("kill@example.test");

  first.child.kill("SIGKILL");
  await exited(first.child);

  const second = await start(port);
  const login = await gql(
    second.url,
    'mutation { login(input: { email: "kill@example.test", password: "kept across a kill" }) { user { email } } }',
  );
  expect(login.data?.login.user.email).toBe("kill@example.test");
  second.child.kill("SIGTERM");
  expect(await exited(second.child)).toBe(0);
}, 160_000);

it("lets npm run admin -- grant reach the embedded PostgreSQL the running server uses", async () => {
  const server = await start(40000 + Math.floor(Math.random() * 20000));
  const registered = await gql(
    server.url,
    'mutation { register(input: { email: "support@example.test", password: "a support desk passphrase" }) { accessToken user { email } } }',
  );
  const token = registered.data?.register.accessToken;
  const ask = () => gql(server.url, '{ adminUser(email: "support@example.test") { role } }', token);
  expect((await ask()).data).toEqual({ adminUser: null });

  // Asynchronously: a blocked event loop would miss the server closing an idle keep-alive socket.
  const grant = await promisify(execFile)(process.execPath, [ADMIN_CLI, "admin", "grant", "support@example.test"], {
    env: embeddedEnv(),
    timeout: 60_000,
  });
  expect(grant.stderr).toBe("");
  expect(grant.stdout).toMatch(/^support@example\.test \([0-9a-f-]{36}\) is now ADMIN\n$/);
  expect((await ask()).data).toEqual({ adminUser: { role: "ADMIN" } });
  // The command line used the server's database and left it running.
  server.child.kill("SIGTERM");
  expect(await exited(server.child)).toBe(0);
}, 120_000);

it("has a second local instance follow the first one's database when that one restarts (the cluster keeps its port)", async () => {
  const port = 40000 + Math.floor(Math.random() * 20000);
  const owner = await start(port);
  const follower = await start(port + 1);
  owner.child.kill("SIGTERM");
  await exited(owner.child);
  const restarted = await start(port);
  let ready = 0;
  for (let i = 0; i < 60 && ready !== 200; i++) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    ready = (await fetch(new URL("/readyz", follower.url))).status;
  }
  expect(ready).toBe(200);
  const registered = await gql(
    follower.url,
    'mutation { register(input: { email: "follow@example.test", password: "follows across a restart" }) { user { email } } }',
  );
  expect(registered.data?.register.user.email).toBe("follow@example.test");
  follower.child.kill("SIGTERM");
  restarted.child.kill("SIGTERM");
  expect(await Promise.all([exited(follower.child), exited(restarted.child)])).toEqual([0, 0]);
}, 160_000);
