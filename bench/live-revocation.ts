import "reflect-metadata";
import { fork, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { Client } from "pg";
import WebSocket from "ws";
import { loadConfig } from "../src/config/environment";
import { resolveDatabase } from "../src/db/database-url";

/**
 * npm run bench:live [-- --sockets N] [--tabs T] [--quick]
 *
 * Opens N sockets for one user across two server instances (separate processes on one
 * database), runs one logoutAllDevices(keepCurrent: true) and reports how fast the events
 * reached the sockets, and what an open socket costs the servers in memory.
 *
 * Sockets map to sessions as T tabs per session (a browser with several tabs open is one
 * session with several sockets). With one session per socket, 1,000 sockets would need
 * 999 events x 1,000 sockets, about a million messages, for one user: not a realistic load.
 */
interface Options {
  sockets: number;
  tabs: number;
}

function parseArgs(argv: string[]): Options {
  const quick = argv.includes("--quick");
  const value = (name: string, fallback: number) => {
    const i = argv.indexOf(name);
    if (i === -1) return fallback;
    const n = Number(argv[i + 1]);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${name} needs a positive integer`);
    return n;
  };
  return { sockets: value("--sockets", quick ? 12 : 1000), tabs: value("--tabs", quick ? 3 : 10) };
}

interface Instance {
  child: ChildProcess;
  url: string;
  wsUrl: string;
}

interface Memory {
  heapUsed: number;
  rss: number;
  sockets: number;
}

function startInstance(env: NodeJS.ProcessEnv): Promise<Instance> {
  const child = fork(path.join(__dirname, "live-server.js"), [], { env, execArgv: ["--expose-gc", ...(process.env.BENCH_PROF ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_PROF}`] : [])], stdio: "inherit" });
  return new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`bench server exited with ${code}`)));
    child.once("message", (message: { url: string; wsUrl: string }) => resolve({ child, url: message.url, wsUrl: message.wsUrl }));
  });
}

function ask(instance: Instance): Promise<Memory> {
  return new Promise((resolve) => {
    const onMessage = (message: Memory & { type: string }) => {
      if (message.type !== "memory") return;
      instance.child.off("message", onMessage);
      resolve(message);
    };
    instance.child.on("message", onMessage);
    instance.child.send({ type: "memory" });
  });
}

async function gql<T>(url: string, query: string, variables: Record<string, unknown> = {}, token?: string): Promise<T> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: T; errors?: unknown };
  if (!body.data) throw new Error(`request failed: ${JSON.stringify(body.errors)}`);
  return body.data;
}

const SIGN_IN = `mutation($input: LoginInput!) { login(input: $input) { accessToken session { id } } }`;
const SUBSCRIPTION = "subscription { sessionRevoked { sessionId reason revokedAt current } }";

/** A bare graphql-transport-ws socket that only timestamps what arrives (cheap on the client). */
class Socket {
  readonly arrivals: { at: number; data: string }[] = [];
  closedAt: number | null = null;
  closeCode: number | null = null;
  private ws: WebSocket;

  constructor(
    url: string,
    readonly token: string,
    readonly sessionId: string,
  ) {
    this.ws = new WebSocket(url, "graphql-transport-ws");
    this.ws.once("open", () => this.ws.send(JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${this.token}` } })));
    this.ws.on("close", (code) => {
      this.closedAt = performance.now();
      this.closeCode = code;
    });
  }

  open(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.ws.once("error", reject);
      this.ws.once("close", (code) => reject(new Error(`socket closed with ${code} before the ack`)));
      this.ws.on("message", (data) => {
        const text = String(data);
        if (text.includes('"connection_ack"')) {
          this.ws.send(JSON.stringify({ id: "1", type: "subscribe", payload: { query: SUBSCRIPTION } }));
          resolve();
        } else {
          this.arrivals.push({ at: performance.now(), data: text });
        }
      });
    });
  }

  heard(sessionId: string): boolean {
    return this.arrivals.some((a) => a.data.includes(sessionId));
  }

  close() {
    this.ws.terminate();
  }
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
const ms = (n: number) => `${n.toFixed(1)} ms`;
const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;

async function waitFor(check: () => boolean, timeoutMs: number, what: string) {
  for (const end = Date.now() + timeoutMs; !check(); ) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const config = loadConfig();
  const database = await resolveDatabase(config);
  const schema = `bench_${randomBytes(5).toString("hex")}`;
  const admin = new Client({ connectionString: database.url });
  await admin.connect();
  await admin.query(`CREATE SCHEMA "${schema}"`);
  const instances: Instance[] = [];
  const sockets: Socket[] = [];
  try {
    const env = {
      ...process.env,
      NODE_ENV: "test",
      DATABASE_URL: database.url,
      BENCH_DB_SCHEMA: schema,
      JWT_SECRET: randomBytes(32).toString("hex"),
      PASSWORD_HASH_COST: "10",
      LOG_LEVEL: "silent",
      PORT: "0",
      HOST: "127.0.0.1",
    };
    // One after the other: both would race to run the migrations.
    instances.push(await startInstance(env));
    instances.push(await startInstance(env));
    const [first] = instances;

    const email = `bench-${randomBytes(4).toString("hex")}@example.test`;
    const password = "benchmark passphrase";
    // The registering session is session 0: the one that stays signed in.
    const { register } = await gql<{ register: { accessToken: string; session: { id: string } } }>(
      first.url,
      `mutation($input: RegisterInput!) { register(input: $input) { accessToken session { id } } }`,
      { input: { email, password, deviceName: "device 0" } },
    );
    const sessionCount = Math.ceil(options.sockets / options.tabs);
    const sessions = [{ accessToken: register.accessToken, sessionId: register.session.id }];
    for (let i = 1; i < sessionCount; i++) {
      const { login } = await gql<{ login: { accessToken: string; session: { id: string } } }>(
        instances[i % 2].url,
        SIGN_IN,
        { input: { email, password, deviceName: `device ${i}` } },
      );
      sessions.push({ accessToken: login.accessToken, sessionId: login.session.id });
    }

    const before = await Promise.all(instances.map(ask));
    // In batches, each socket created just before it is opened (its `open` event must be heard).
    for (let i = 0; i < options.sockets; i += 100) {
      const batch: Socket[] = [];
      for (let j = i; j < Math.min(options.sockets, i + 100); j++) {
        const session = sessions[Math.floor(j / options.tabs)];
        batch.push(new Socket(instances[j % 2].wsUrl, session.accessToken, session.sessionId));
      }
      sockets.push(...batch);
      await Promise.all(batch.map((s) => s.open()));
    }

    // Every subscription is live once every socket has heard a throwaway session end.
    for (let attempt = 0; ; attempt++) {
      const { login } = await gql<{ login: { accessToken: string; session: { id: string } } }>(first.url, SIGN_IN, {
        input: { email, password, deviceName: "throwaway" },
      });
      await gql(first.url, "mutation { logout }", {}, login.accessToken);
      try {
        await waitFor(() => sockets.every((s) => s.heard(login.session.id)), 3000, "subscriptions");
        break;
      } catch (error) {
        if (attempt === 5) throw error;
      }
    }
    const after = await Promise.all(instances.map(ask));
    for (const s of sockets) s.arrivals.length = 0;

    const keeper = sessions[0];
    const started = performance.now();
    const { logoutAllDevices: ended } = await gql<{ logoutAllDevices: number }>(
      first.url,
      "mutation { logoutAllDevices(keepCurrent: true) }",
      {},
      keeper.accessToken,
    );
    const answeredIn = performance.now() - started;
    const kept = sockets.filter((s) => s.sessionId === keeper.sessionId);
    const revoked = sockets.filter((s) => s.sessionId !== keeper.sessionId);
    await waitFor(
      () => revoked.every((s) => s.closedAt !== null) && kept.every((s) => s.arrivals.length >= ended),
      60_000,
      "every event and close",
    );

    const latencies = sockets.flatMap((s) => s.arrivals.map((a) => a.at - started)).sort((x, y) => x - y);
    const keptLast = Math.max(...kept.map((s) => Math.max(...s.arrivals.map((a) => a.at - started))));
    const ownEvent = revoked
      .map((s) => s.arrivals.find((a) => a.data.includes(s.sessionId) && a.data.includes('"current":true')))
      .map((a) => (a ? a.at - started : Infinity))
      .sort((x, y) => x - y);
    const closedLast = Math.max(...revoked.map((s) => (s.closedAt ?? Infinity) - started));
    const wrongCloses = revoked.filter((s) => s.closeCode !== 4403).length;
    const sum = (list: Memory[], key: "heapUsed" | "rss") => list.reduce((n, m) => n + m[key], 0);
    const open = after.reduce((n, m) => n + m.sockets, 0);

    console.log(`live revocation benchmark (2 server processes + this client process, ${require("node:os").cpus().length} cores)`);
    console.log(`model: ${options.sockets} sockets for one user, ${options.tabs} per session (tabs) -> ${sessionCount} sessions, alternating between the 2 instances`);
    console.log(`logoutAllDevices(keepCurrent: true) ended ${ended} sessions; answered in ${ms(answeredIn)}`);
    console.log(`events delivered: ${latencies.length} (an ended socket hears its own event; the kept sockets hear every one)`);
    console.log(`delivery latency (mutation sent -> event received): p50 ${ms(percentile(latencies, 50))}, p99 ${ms(percentile(latencies, 99))}, max ${ms(latencies[latencies.length - 1])}`);
    console.log(`own-session event (current: true) on the ${revoked.length} revoked sockets: p50 ${ms(percentile(ownEvent, 50))}, p99 ${ms(percentile(ownEvent, 99))}`);
    console.log(`all ${revoked.length} revoked sockets closed (4403) by ${ms(closedLast)}${wrongCloses ? `; ${wrongCloses} closed with another code` : ""}; the ${kept.length} kept sockets heard all ${ended} events by ${ms(keptLast)}`);
    console.log(
      `memory per open socket: heap ${kb((sum(after, "heapUsed") - sum(before, "heapUsed")) / open)}, RSS ${kb((sum(after, "rss") - sum(before, "rss")) / open)} ` +
        `(servers' heap ${kb(sum(before, "heapUsed"))} -> ${kb(sum(after, "heapUsed"))}, RSS ${kb(sum(before, "rss"))} -> ${kb(sum(after, "rss"))}, ${open} sockets open)`,
    );
    if (wrongCloses > 0) process.exitCode = 1;
  } finally {
    for (const s of sockets) s.close();
    await Promise.all(
      instances.map(
        (i) =>
          new Promise<void>((resolve) => {
            i.child.once("exit", () => resolve());
            i.child.send({ type: "stop" });
          }),
      ),
    );
    await admin.query(`DROP SCHEMA "${schema}" CASCADE`);
    await admin.end();
    await database.stop();
  }
}

main().catch((error: unknown) => {
  console.error("benchmark failed:", error instanceof Error ? error.message : error);
  process.exit(1);
});
