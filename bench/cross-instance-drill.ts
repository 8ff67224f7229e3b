import "reflect-metadata";
import { randomBytes } from "node:crypto";
import autocannon from "autocannon";
import { Client } from "pg";
import { loadConfig } from "../src/config/environment";
import { resolveDatabase } from "../src/db/database-url";
import { startTcpProxy } from "../test/support/tcp-proxy";
import { gql, meStatus, mintSessions, percentile, startTarget, type Target } from "./targets";

/**
 * `npm run drill:cross-instance [-- --trials=2000] [--quick]`: the cross-instance promise
 * under fault, with every instance a process of its own on one database (DATABASE_URL, or
 * the embedded one).
 *
 * 1. Stale window: load on instance B; a session cached on B is logged out on A; right
 *    after `logout` returns, B is asked with its token until it refuses. Every answer with
 *    data is stale.
 * 2. Silent partition: B reaches the database through a proxy that holds every byte and
 *    resets nothing. Right after the hold begins, the session is logged out on A while B is
 *    asked without pause: how long B still answers from memory, and whether anything it
 *    answers is answered after `logout` returned.
 *
 * `crossInstanceDrill` answers the figures, so another drill runner can print them.
 */
export interface CrossInstanceFigures {
  drill: string;
  /** How long the fault lasted (the partition), or null. */
  outageMs: number | null;
  requests: number;
  /** Requests refused or unanswered, where that is the point (the partition), or null. */
  refused: number | null;
  /** Answers with data to requests sent after the revoking call returned: must be 0. */
  stale: number;
  recoverMs: null;
  slowestMs: null;
  violations: string[];
  notes: string;
}

const PASSWORD = "drill password, not a secret";
const ME = "{ me { id } }";

interface Probe {
  sentAt: number;
  status: number | "no answer";
}

/** One `me`; an answer that does not come within `timeoutMs` is "no answer" (a black-holed pool). */
async function probe(url: string, token: string, timeoutMs: number): Promise<Probe> {
  const sentAt = performance.now();
  try {
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: ME }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.text();
    return { sentAt, status: res.status };
  } catch {
    return { sentAt, status: "no answer" };
  }
}

async function staleWindow(
  a: Target,
  b: Target,
  admin: Client,
  likeSessionId: string,
  trials: number,
): Promise<CrossInstanceFigures> {
  const [loadSession, ...sessions] = await mintSessions(admin, likeSessionId, trials + 1);
  let loadResult!: (result: autocannon.Result) => void;
  const loaded = new Promise<autocannon.Result>((resolve) => (loadResult = resolve));
  const load = autocannon(
    {
      url: b.url,
      connections: 8,
      duration: 24 * 3600,
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${loadSession.token}` },
      body: JSON.stringify({ query: ME }),
    },
    (_error, result) => loadResult(result),
  );
  const loadStarted = performance.now();
  let stale = 0;
  let worstMs = 0;
  let requests = 0;
  const times: number[] = [];
  const violations: string[] = [];
  try {
    for (const [trial, { token }] of sessions.entries()) {
      if ((await meStatus(b.url, token)) !== 200) throw new Error("B refused a live session");
      const start = performance.now();
      await gql(a.url, "mutation { logout }", token);
      const returnedAt = performance.now();
      times.push(returnedAt - start);
      for (;;) {
        const status = await meStatus(b.url, token);
        requests++;
        if (status !== 200) break;
        stale++;
        worstMs = Math.max(worstMs, performance.now() - returnedAt);
        if (violations.length < 10)
          violations.push(
            `trial ${trial}: B answered with data ${(performance.now() - returnedAt).toFixed(2)} ms after logout returned`,
          );
      }
    }
  } finally {
    load.stop();
  }
  const result = await loaded;
  const seconds = (performance.now() - loadStarted) / 1000;
  const ms = (p: number) => percentile(times, p).toFixed(2);
  return {
    drill: "stale window across instances",
    outageMs: null,
    requests,
    refused: null,
    stale,
    recoverMs: null,
    slowestMs: null,
    violations,
    notes:
      `${trials} trials; stale answers **${stale}**${stale ? ` (worst ${worstMs.toFixed(2)} ms after logout returned)` : ""}; ` +
      `logout p50 ${ms(50)} ms, p99 ${ms(99)} ms; load on B ${(result.requests.total / seconds).toFixed(0)} req/s (8 connections, ${result.non2xx + result.errors} errors)`,
  };
}

async function silentPartition(
  databaseUrl: string,
  schema: string,
  a: Target,
  admin: Client,
  likeSessionId: string,
  leaseMs: number,
): Promise<CrossInstanceFigures> {
  const url = new URL(databaseUrl);
  const proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port || 5432) });
  url.host = `127.0.0.1:${proxy.port}`;
  const b = await startTarget("ours", url.toString(), schema, { REVOCATION_LEASE_MS: String(leaseMs) });
  try {
    const [session] = await mintSessions(admin, likeSessionId, 1);
    if ((await meStatus(b.url, session.token)) !== 200) throw new Error("B refused a live session");
    await new Promise((r) => setTimeout(r, leaseMs)); // B has renewed its lease since, and A has heard it
    proxy.hold();
    const revokedAt = performance.now();
    const probes: Probe[] = [];
    const watchUntil = revokedAt + leaseMs + 3000;
    const watchers = Array.from({ length: 4 }, async () => {
      while (performance.now() < watchUntil) probes.push(await probe(b.url, session.token, 250));
    });
    await gql(a.url, "mutation { logout }", session.token);
    const returnedAt = performance.now();
    await Promise.all(watchers);
    proxy.restore();
    const fromMemory = probes.filter((p) => p.status === 200);
    const afterReturn = fromMemory.filter((p) => p.sentAt >= returnedAt);
    const lastMs = fromMemory.length ? Math.max(...fromMemory.map((p) => p.sentAt - revokedAt)) : 0;
    const refused = probes.filter((p) => p.status !== 200).length;
    return {
      drill: "silently partitioned instance",
      outageMs: Math.round(watchUntil - revokedAt),
      requests: probes.length,
      refused,
      stale: afterReturn.length,
      recoverMs: null,
      slowestMs: null,
      violations: afterReturn
        .slice(0, 10)
        .map((p) => `B answered with data ${(p.sentAt - returnedAt).toFixed(1)} ms after logout returned`),
      notes:
        `lease ${leaseMs} ms; B answered from memory ${fromMemory.length} times, the last ${lastMs.toFixed(0)} ms after the revocation began; ` +
        `${afterReturn.length} of them after logout returned (it took ${(returnedAt - revokedAt).toFixed(0)} ms); then ${refused} refused or unanswered`,
    };
  } finally {
    proxy.restore();
    await b.stop();
    await proxy.close();
  }
}

export async function crossInstanceDrill(options: {
  databaseUrl: string;
  trials: number;
  leaseMs?: number;
}): Promise<CrossInstanceFigures[]> {
  const schema = `drill_${randomBytes(4).toString("hex")}`;
  const admin = new Client({ connectionString: options.databaseUrl, options: `-c search_path=${schema}` });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  const started: Target[] = [];
  try {
    const a = await startTarget("ours", options.databaseUrl, schema); // applies the migrations
    started.push(a);
    const email = `drill-${randomBytes(4).toString("hex")}@example.test`;
    await gql(a.url, `mutation { register(input: { email: "${email}", password: "${PASSWORD}" }) { user { id } } }`);
    const owner = await gql(
      a.url,
      `mutation { login(input: { email: "${email}", password: "${PASSWORD}" }) { session { id } } }`,
    );
    const b = await startTarget("ours", options.databaseUrl, schema);
    started.push(b);
    const figures = [await staleWindow(a, b, admin, owner.login.session.id, options.trials)];
    await b.stop();
    started.pop();
    figures.push(await silentPartition(options.databaseUrl, schema, a, admin, owner.login.session.id, options.leaseMs ?? 2000));
    return figures;
  } finally {
    for (const target of started) await target.stop();
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
  }
}

async function main() {
  const quick = process.argv.includes("--quick");
  const trials = Number(process.argv.find((a) => a.startsWith("--trials="))?.slice("--trials=".length) ?? (quick ? 100 : 2000));
  const database = await resolveDatabase(loadConfig({ ...process.env, LOG_LEVEL: "silent" }));
  try {
    for (const figures of await crossInstanceDrill({ databaseUrl: database.url, trials })) {
      console.log(`\n## ${figures.drill}\n\n${figures.notes}`);
      for (const violation of figures.violations) console.log(`- ${violation}`);
    }
  } finally {
    await database.stop();
  }
}

if (require.main === module) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
