import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

/**
 * `npm start` with no DATABASE_URL: the built server runs on an embedded PostgreSQL, keeps its
 * data in EMBEDDED_PG_DIR, and starts again after being killed with SIGKILL.
 */
const MAIN = path.join(__dirname, "..", "dist", "src", "main.js");
const dataDir = mkdtempSync(path.join(tmpdir(), "embedded-pg-"));
const children: ChildProcess[] = [];

function start(port: number): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [MAIN], {
    env: {
      PATH: process.env.PATH,
      PORT: String(port),
      DATA_DIR: dataDir,
      EMBEDDED_PG_DIR: path.join(dataDir, "pg"),
      PASSWORD_HASH_COST: "10",
      LOG_LEVEL: "info",
    },
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

async function gql(url: string, query: string) {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query }),
  });
  return (await res.json()) as { data?: Record<string, { user: { email: string } }> };
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
    'mutation { register(input: { email: "kill@example.test", password: "password123" }) { user { email } } }',
  );
  expect(registered.data?.register.user.email).toBe("kill@example.test");

  first.child.kill("SIGKILL");
  await exited(first.child);

  const second = await start(port);
  const login = await gql(
    second.url,
    'mutation { login(input: { email: "kill@example.test", password: "password123" }) { user { email } } }',
  );
  expect(login.data?.login.user.email).toBe("kill@example.test");
  second.child.kill("SIGTERM");
  expect(await exited(second.child)).toBe(0);
}, 160_000);

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
    'mutation { register(input: { email: "follow@example.test", password: "password123" }) { user { email } } }',
  );
  expect(registered.data?.register.user.email).toBe("follow@example.test");
  follower.child.kill("SIGTERM");
  restarted.child.kill("SIGTERM");
  expect(await Promise.all([exited(follower.child), exited(restarted.child)])).toEqual([0, 0]);
}, 160_000);
