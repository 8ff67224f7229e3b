import "reflect-metadata";
import { type ChildProcess, fork } from "node:child_process";
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { Session as Inspector } from "node:inspector/promises";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { Client } from "pg";
import WebSocket from "ws";
import { loadConfig } from "../src/config/environment";
import { resolveDatabase } from "../src/db/database-url";
import { generateSigningKey } from "../src/lib/signing-keys";

/**
 * npm run bench:live [-- --sockets N] [--tabs T] [--rounds R] [--quick]
 *
 * Opens N sockets for one user across two server instances (separate processes on one
 * database), runs one logoutAllDevices(keepCurrent: true) and reports how fast the events
 * reached the sockets, what CPU time each process spent on it, and what an open socket costs
 * the servers in memory. It does that R times (default 5) on the same two servers: round 1 is
 * the first time they ever close sockets (cold JIT), later rounds show servers that have.
 * With BENCH_PROF=<dir>, every process writes a CPU profile of the last round there.
 *
 * Sockets map to sessions as T tabs per session (a browser with several tabs open is one
 * session with several sockets). With one session per socket, 1,000 sockets would need
 * 999 events x 1,000 sockets, about a million messages, for one user: not a realistic load.
 */
interface Options {
  sockets: number;
  tabs: number;
  rounds: number;
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
  return {
    sockets: value("--sockets", quick ? 12 : 1000),
    tabs: value("--tabs", quick ? 3 : 10),
    rounds: value("--rounds", quick ? 1 : 5),
  };
}

interface Instance {
  child: ChildProcess;
  url: string;
  wsUrl: string;
}

function startInstance(env: NodeJS.ProcessEnv): Promise<Instance> {
  const child = fork(path.join(__dirname, "live-server.js"), [], { env, execArgv: ["--expose-gc"], stdio: "inherit" });
  return new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`bench server exited with ${code}`)));
    child.once("message", (message: { url: string; wsUrl: string }) =>
      resolve({ child, url: message.url, wsUrl: message.wsUrl }),
    );
  });
}

/** Sends `{ type, ...extra }` to a server process and waits for its `<type>:done` answer. */
function request<T>(instance: Instance, type: string, extra: object = {}): Promise<T> {
  return new Promise((resolve) => {
    const onMessage = (message: { type: string } & T) => {
      if (message.type !== `${type}:done`) return;
      instance.child.off("message", onMessage);
      resolve(message);
    };
    instance.child.on("message", onMessage);
    instance.child.send({ type, ...extra });
  });
}

interface Memory {
  heapUsed: number;
  rss: number;
  sockets: number;
}

interface CpuTime {
  userMs: number;
  systemMs: number;
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
    this.ws.once("open", () =>
      this.ws.send(JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${this.token}` } })),
    );
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

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
const ms = (n: number) => `${n.toFixed(1)} ms`;
const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;

async function waitFor(check: () => boolean, timeoutMs: number, what: string) {
  for (const end = Date.now() + timeoutMs; !check(); ) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

interface Session {
  accessToken: string;
  sessionId: string;
}

/** The two server processes and one user on them, for as many rounds as asked. */
class Bench {
  private readonly email = `bench-${randomBytes(4).toString("hex")}@example.test`;
  private readonly password = "benchmark passphrase";
  private keeper!: Session;
  /** The keeper's own tabs stay open from round to round. */
  private kept: Socket[] = [];
  readonly sockets: Socket[] = [];

  constructor(
    private readonly instances: Instance[],
    private readonly options: Options,
  ) {}

  private signIn(instance: Instance, deviceName: string): Promise<Session> {
    return gql<{ login: { accessToken: string; session: { id: string } } }>(instance.url, SIGN_IN, {
      input: { email: this.email, password: this.password, deviceName },
    }).then(({ login }) => ({ accessToken: login.accessToken, sessionId: login.session.id }));
  }

  /** Registers the user; the registering session is the keeper, the one that stays signed in. */
  async register() {
    const { register } = await gql<{ register: { accessToken: string; session: { id: string } } }>(
      this.instances[0].url,
      `mutation($input: RegisterInput!) { register(input: $input) { accessToken session { id } } }`,
      { input: { email: this.email, password: this.password, deviceName: "device 0" } },
    );
    this.keeper = { accessToken: register.accessToken, sessionId: register.session.id };
  }

  /** Signs in the other sessions and opens every socket not yet open, alternating instances. */
  async openSockets(): Promise<void> {
    const sessionCount = Math.ceil(this.options.sockets / this.options.tabs);
    const sessions = [this.keeper];
    for (let i = 1; i < sessionCount; i++) sessions.push(await this.signIn(this.instances[i % 2], `device ${i}`));
    const planned: { instance: Instance; session: Session }[] = [];
    for (let j = 0; j < this.options.sockets; j++) {
      const session = sessions[Math.floor(j / this.options.tabs)];
      if (session === this.keeper && this.kept.length > 0) continue;
      planned.push({ instance: this.instances[j % 2], session });
    }
    // In batches, each socket created just before it is opened (its `open` event must be heard).
    this.sockets.length = 0;
    this.sockets.push(...this.kept);
    for (let i = 0; i < planned.length; i += 100) {
      const batch = planned
        .slice(i, i + 100)
        .map(({ instance, session }) => new Socket(instance.wsUrl, session.accessToken, session.sessionId));
      this.sockets.push(...batch);
      await Promise.all(batch.map((s) => s.open()));
    }
    this.kept = this.sockets.filter((s) => s.sessionId === this.keeper.sessionId);
    // Every subscription is live once every socket has heard a throwaway session end.
    for (let attempt = 0; ; attempt++) {
      const throwaway = await this.signIn(this.instances[0], "throwaway");
      await gql(this.instances[0].url, "mutation { logout }", {}, throwaway.accessToken);
      try {
        await waitFor(() => this.sockets.every((s) => s.heard(throwaway.sessionId)), 3000, "subscriptions");
        break;
      } catch (error) {
        if (attempt === 5) throw error;
      }
    }
    for (const s of this.sockets) s.arrivals.length = 0;
  }

  /** One logoutAllDevices(keepCurrent: true), measured from the client and in every process. */
  async round(profileDir?: string) {
    const client = new Inspector();
    if (profileDir) {
      client.connect();
      await client.post("Profiler.enable");
      await client.post("Profiler.setSamplingInterval", { interval: 250 });
      await client.post("Profiler.start");
    }
    await Promise.all(this.instances.map((i) => request(i, "measure-start", { profileDir })));
    const clientCpu = process.cpuUsage();

    const started = performance.now();
    const { logoutAllDevices: ended } = await gql<{ logoutAllDevices: number }>(
      this.instances[0].url,
      "mutation { logoutAllDevices(keepCurrent: true) }",
      {},
      this.keeper.accessToken,
    );
    const answeredIn = performance.now() - started;
    const revoked = this.sockets.filter((s) => s.sessionId !== this.keeper.sessionId);
    await waitFor(
      () => revoked.every((s) => s.closedAt !== null) && this.kept.every((s) => s.arrivals.length >= ended),
      60_000,
      "every event and close",
    );

    const clientTime = process.cpuUsage(clientCpu);
    const servers = await Promise.all(this.instances.map((i) => request<CpuTime>(i, "measure-stop", { profileDir })));
    if (profileDir) {
      const { profile } = await client.post("Profiler.stop");
      writeFileSync(path.join(profileDir, "client.cpuprofile"), JSON.stringify(profile));
      client.disconnect();
    }

    const latencies = this.sockets.flatMap((s) => s.arrivals.map((a) => a.at - started)).sort((x, y) => x - y);
    const keptLast = Math.max(...this.kept.map((s) => Math.max(...s.arrivals.map((a) => a.at - started))));
    const ownEvent = revoked
      .map((s) => s.arrivals.find((a) => a.data.includes(s.sessionId) && a.data.includes('"current":true')))
      .map((a) => (a ? a.at - started : Infinity))
      .sort((x, y) => x - y);
    const closedLast = Math.max(...revoked.map((s) => (s.closedAt ?? Infinity) - started));
    const wrongCloses = revoked.filter((s) => s.closeCode !== 4403).length;
    const cpu = (t: CpuTime) => `${ms(t.userMs + t.systemMs)}`;
    return {
      ended,
      wrongCloses,
      p99: percentile(latencies, 99),
      lines: [
        `logoutAllDevices(keepCurrent: true) ended ${ended} sessions; answered in ${ms(answeredIn)}`,
        `events delivered: ${latencies.length}; delivery latency (mutation sent -> event received) p50 ${ms(percentile(latencies, 50))}, p99 ${ms(percentile(latencies, 99))}, max ${ms(latencies[latencies.length - 1])}`,
        `own-session event (current: true) on the ${revoked.length} revoked sockets: p50 ${ms(percentile(ownEvent, 50))}, p99 ${ms(percentile(ownEvent, 99))}`,
        `all ${revoked.length} revoked sockets closed (4403) by ${ms(closedLast)}${wrongCloses ? `; ${wrongCloses} closed with another code` : ""}; the ${this.kept.length} kept sockets heard all ${ended} events by ${ms(keptLast)}`,
        `CPU time in the round: servers ${servers.map(cpu).join(" + ")}, client ${cpu({ userMs: clientTime.user / 1000, systemMs: clientTime.system / 1000 })}`,
      ],
    };
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
  let bench: Bench | undefined;
  try {
    const env = {
      ...process.env,
      NODE_ENV: "test",
      DATABASE_URL: database.url,
      BENCH_DB_SCHEMA: schema,
      JWT_PRIVATE_KEYS: generateSigningKey("ES256"),
      PASSWORD_HASH_COST: "10",
      // One user's 1000 sockets from this one machine: far past the per-user and per-IP defaults.
      // And 100 sessions plus a throwaway sign-in per round: past the session limit (100), which
      // would end the least recently active one and close its sockets mid-benchmark.
      MAX_SESSIONS_PER_USER: "0",
      WS_MAX_PER_USER: "100000",
      WS_MAX_PER_IP: "100000",
      WS_MAX_CONNECTIONS: "100000",
      HTTP_MAX_CONNECTIONS_PER_IP: "100000",
      LOG_LEVEL: "silent",
      PORT: "0",
      HOST: "127.0.0.1",
    };
    // One after the other: both would race to run the migrations.
    instances.push(await startInstance(env));
    instances.push(await startInstance(env));
    bench = new Bench(instances, options);
    await bench.register();

    const sessionCount = Math.ceil(options.sockets / options.tabs);
    console.log(`live revocation benchmark (2 server processes + this client process, ${os.cpus().length} cores)`);
    console.log(
      `model: ${options.sockets} sockets for one user, ${options.tabs} per session (tabs) -> ${sessionCount} sessions, alternating between the 2 instances; ${options.rounds} round(s)`,
    );
    const p99s: number[] = [];
    for (let round = 1; round <= options.rounds; round++) {
      const before = await Promise.all(instances.map((i) => request<Memory>(i, "memory")));
      await bench.openSockets();
      const after = await Promise.all(instances.map((i) => request<Memory>(i, "memory")));
      const result = await bench.round(round === options.rounds ? process.env.BENCH_PROF : undefined);
      console.log(`round ${round}${round === 1 ? " (first, cold)" : ""}:`);
      for (const line of result.lines) console.log(`  ${line}`);
      if (round === 1) {
        const sum = (list: Memory[], key: "heapUsed" | "rss") => list.reduce((n, m) => n + m[key], 0);
        const opened = after.reduce((n, m) => n + m.sockets, 0) - before.reduce((n, m) => n + m.sockets, 0);
        console.log(
          `  memory per open socket: heap ${kb((sum(after, "heapUsed") - sum(before, "heapUsed")) / opened)}, RSS ${kb((sum(after, "rss") - sum(before, "rss")) / opened)} ` +
            `(servers' heap ${kb(sum(before, "heapUsed"))} -> ${kb(sum(after, "heapUsed"))}, RSS ${kb(sum(before, "rss"))} -> ${kb(sum(after, "rss"))}, ${opened} sockets opened)`,
        );
      }
      if (result.wrongCloses > 0) process.exitCode = 1;
      p99s.push(result.p99);
    }
    const warm = p99s.slice(1).sort((x, y) => x - y);
    if (warm.length > 0) {
      console.log(
        `summary: delivery p99 ${ms(p99s[0])} in round 1 (cold); rounds 2-${options.rounds}: ${p99s.slice(1).map(ms).join(", ")}`,
      );
    }
  } finally {
    for (const s of bench?.sockets ?? []) s.close();
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
