import { request } from "node:http";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { generateSigningKey } from "../src/lib/signing-keys";
import { type ChildServer, startChildServer, urlInSchema } from "./support/child-server";
import { createDrillSchema } from "./support/drill-server";
import { DRILL_PASSWORD, uniqueEmail } from "./support/load";
import type { DrillFigures } from "./support/outage";

/**
 * Rolling restart: two server processes behind a TCP balancer, under load, each restarted in
 * turn with SIGTERM (as an orchestrator does). The contract it checks:
 * - every HTTP answer is 200, or a documented refusal (503 with Retry-After);
 * - every WebSocket closed by a restart is closed with 1001 and reconnects (to the survivor);
 * - no revoked session is answered at any point (a logout, then the same token at once, on
 *   whichever instance the balancer picks);
 * - each instance exits 0.
 * Requests open a connection each, as a balancer in front of an instance sees them.
 */
export interface RollingRestartOptions {
  databaseUrl: string;
  /** Devices calling `me` in a loop. */
  devices: number;
  /** How long each instance runs between restarts, ms. */
  settleMs: number;
}

interface Posted {
  status: number;
  retryAfter: boolean;
  body: string;
}

/** A POST on a connection of its own; status 0: no answer (refused, reset). */
function post(port: number, body: string, token?: string): Promise<Posted> {
  return new Promise((resolve) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path: "/graphql",
        method: "POST",
        agent: false,
        headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
        timeout: 10_000,
      },
      (res) => {
        let text = "";
        res.on("data", (chunk) => (text += chunk));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, retryAfter: res.headers["retry-after"] !== undefined, body: text }),
        );
        res.on("error", () => resolve({ status: 0, retryAfter: false, body: "" }));
      },
    );
    req.on("error", () => resolve({ status: 0, retryAfter: false, body: "" }));
    req.on("timeout", () => req.destroy());
    req.end(body);
  });
}

const gqlBody = (query: string, variables?: Record<string, unknown>) => JSON.stringify({ query, variables });

/** Round robin over the backends; a backend that refuses the connection is skipped, as a balancer's retry does. */
function startBalancer(backends: number[]): Promise<{ port: number; close(): Promise<void> }> {
  let next = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    sockets.add(client);
    client.on("close", () => sockets.delete(client));
    client.pause();
    const attempt = (tries: number) => {
      const port = backends[next++ % backends.length];
      const upstream = createConnection({ host: "127.0.0.1", port });
      upstream.once("connect", () => {
        client.pipe(upstream).pipe(client);
        client.resume();
        // pipe() ends each side after the other's last byte: a close frame or a response
        // written just before the server closed still arrives. Errors drop both.
        upstream.on("error", () => client.destroy());
        client.on("error", () => upstream.destroy());
      });
      upstream.once("error", () => {
        if (upstream.readyState === "closed" && tries < backends.length * 2) attempt(tries + 1);
        else client.destroy();
      });
    };
    attempt(0);
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve({
        port: (server.address() as { port: number }).port,
        close: () =>
          new Promise((done) => {
            for (const socket of sockets) socket.destroy();
            server.close(() => done());
          }),
      }),
    ),
  );
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export async function rollingRestartDrill(options: RollingRestartOptions): Promise<DrillFigures> {
  const schema = await createDrillSchema(options.databaseUrl);
  const env = {
    DATABASE_URL: urlInSchema(options.databaseUrl, schema.name),
    JWT_PRIVATE_KEYS: generateSigningKey("ES256"),
    NODE_ENV: "test",
    PASSWORD_HASH_COST: "10",
    LOG_LEVEL: "info",
  };
  const ports = [await freePort(), await freePort()];
  const servers: ChildServer[] = [];
  const violations: string[] = [];
  const counts = { requests: 0, ok: 0, refused: 0, stale: 0, revocationTrials: 0, socketCloses: [] as number[], reconnects: 0 };
  let balancer: { port: number; close(): Promise<void> } | undefined;
  let running = true;
  let ws: ReturnType<typeof createClient> | undefined;
  try {
    for (const port of ports) servers.push(await startChildServer({ ...env, PORT: String(port) }));
    balancer = await startBalancer(ports);
    const lb = balancer.port;

    const signUp = async () => {
      const email = uniqueEmail();
      for (let i = 0; i < 20; i++) {
        const res = await post(
          lb,
          gqlBody("mutation ($e: String!, $p: String!) { register(input: { email: $e, password: $p }) { accessToken } }", {
            e: email,
            p: DRILL_PASSWORD,
          }),
        );
        const token = res.status === 200 ? (JSON.parse(res.body).data?.register?.accessToken as string | undefined) : undefined;
        if (token) return { email, token };
      }
      throw new Error("rolling restart drill: could not register");
    };
    const judge = (res: Posted, what: string) => {
      counts.requests++;
      if (res.status === 200 && !res.body.includes('"errors"')) counts.ok++;
      else if (res.status === 503 && res.retryAfter && res.body.includes("SERVICE_UNAVAILABLE")) counts.refused++;
      else violations.push(`${what}: ${res.status || "no answer"} ${res.body.slice(0, 120)}`);
    };

    // Steady load: devices calling `me`.
    const devices = await Promise.all(Array.from({ length: options.devices }, signUp));
    const load = devices.map(async (device) => {
      while (running) judge(await post(lb, gqlBody("{ me { id } }"), device.token), "me");
    });

    // Revocations throughout: a second session logs out, and its token is tried at once.
    const owner = await signUp();
    const revocations = (async () => {
      while (running) {
        const login = await post(
          lb,
          gqlBody("mutation ($e: String!, $p: String!) { login(input: { email: $e, password: $p }) { accessToken } }", {
            e: owner.email,
            p: DRILL_PASSWORD,
          }),
        );
        const token = login.status === 200 ? (JSON.parse(login.body).data?.login?.accessToken as string | undefined) : undefined;
        if (!token) continue;
        for (let i = 0; i < 2; i++) await post(lb, gqlBody("{ me { id } }"), token); // cached on both instances
        const logout = await post(lb, gqlBody("mutation { logout }"), token);
        if (logout.status !== 200 || !logout.body.includes('"logout":true')) continue;
        counts.revocationTrials++;
        for (let i = 0; i < 4; i++) {
          const after = await post(lb, gqlBody("{ me { id } }"), token);
          if (after.status === 200 && after.body.includes('"me":{')) counts.stale++;
        }
      }
    })();

    // A live connection, retrying as the SDK does on 1001.
    let connected = 0;
    ws = createClient({
      url: `ws://127.0.0.1:${lb}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: () => ({ authorization: `Bearer ${owner.token}` }),
      lazy: false,
      retryAttempts: Number.POSITIVE_INFINITY,
      retryWait: () => new Promise((resolve) => setTimeout(resolve, 100)),
      shouldRetry: () => true,
      on: {
        connected: () => void connected++,
        closed: (event) => {
          if (running) counts.socketCloses.push((event as { code: number }).code);
        },
      },
    });
    ws.subscribe(
      { query: "subscription { sessionRevoked { sessionId } }" },
      { next: () => undefined, error: () => undefined, complete: () => undefined },
    );

    await new Promise((resolve) => setTimeout(resolve, options.settleMs));
    for (let i = 0; i < servers.length; i++) {
      const before = connected;
      servers[i].child.kill("SIGTERM");
      await servers[i].exited;
      if (servers[i].child.exitCode !== 0) violations.push(`instance ${i + 1} exited ${servers[i].child.exitCode} on SIGTERM`);
      // The survivor carries everything while this one is down.
      await new Promise((resolve) => setTimeout(resolve, options.settleMs / 2));
      servers[i] = await startChildServer({ ...env, PORT: String(ports[i]) });
      await new Promise((resolve) => setTimeout(resolve, options.settleMs));
      if (connected <= before && counts.socketCloses.length > 0)
        violations.push(`the live connection did not reconnect after restart ${i + 1}`);
    }
    running = false;
    await Promise.all([...load, revocations]);
    counts.reconnects = connected - 1;
    const unexpectedCloses = counts.socketCloses.filter((code) => code !== 1001);
    if (unexpectedCloses.length) violations.push(`sockets closed with ${unexpectedCloses.join(", ")} (expected 1001)`);
    if (counts.stale > 0) violations.push(`${counts.stale} answers for a revoked session`);
    if (counts.revocationTrials === 0) violations.push("no logout completed: nothing was checked");
  } finally {
    running = false;
    ws?.dispose();
    await balancer?.close();
    for (const server of servers) {
      if (server.child.exitCode === null) {
        server.child.kill("SIGTERM");
        await server.exited;
      }
    }
    await schema.drop();
  }
  return {
    drill: "rolling restart (2 instances, SIGTERM one at a time)",
    outageMs: null,
    requests: counts.requests,
    refused: counts.refused,
    stale: counts.stale,
    recoverMs: null,
    slowestMs: null,
    violations,
    notes:
      `${counts.ok} answered 200, ${counts.refused} refused 503 with Retry-After; ${counts.revocationTrials} logouts, ` +
      `each token tried 4 times at once: ${counts.stale} stale; socket closes: ${counts.socketCloses.join(", ") || "none"}, ` +
      `reconnects: ${counts.reconnects}`,
  };
}
