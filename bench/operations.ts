import "reflect-metadata";
import { randomBytes, randomUUID } from "node:crypto";
import { Client } from "pg";
import { loadConfig } from "../src/config/environment";
import { createDataSource } from "../src/db/data-source";
import { resolveDatabase } from "../src/db/database-url";
import { pgPool } from "../src/db/pg-pool";
import { currentRequestId, requestIdFrom, withRequestId } from "../src/lib/request-scope";
import { Metrics } from "../src/metrics/metrics";
import { PgSessionStore } from "../src/sessions/session.store";

/**
 * `npm run bench:operations`: what the operations features cost on the request path.
 * 1. DATABASE_PREPARED_STATEMENTS=false: the session lookup on a cache miss (the one hot
 *    statement we name) parsed and planned every time instead of prepared once per connection.
 * 2. A request's id (AsyncLocalStorage around the request) and its metrics (a histogram
 *    observation, a counter), per request, in process.
 * Slices alternate between the variants so that a busy machine weighs on both alike.
 */
const SLICES = 3;

async function timePerCall(calls: number, call: () => Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) await call();
  return Number(process.hrtime.bigint() - started) / calls;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function preparedStatements(url: string) {
  const schema = `bench_ops_${randomBytes(4).toString("hex")}`;
  const admin = new Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE SCHEMA "${schema}"`);
  const db = createDataSource({ url, schema, poolSize: 1 });
  try {
    await db.initialize();
    await db.runMigrations({ transaction: "each" });
    const pool = pgPool(db);
    const stores = { named: new PgSessionStore(pool), unnamed: new PgSessionStore(pool, { preparedStatements: false }) };
    const ids = Array.from({ length: 1000 }, () => randomUUID());
    let i = 0;
    const lookup = (store: PgSessionStore) => () => store.getSessionsAndUsers([ids[i++ % ids.length]]);
    await timePerCall(500, lookup(stores.named));
    await timePerCall(500, lookup(stores.unnamed));
    const results = { named: [] as number[], unnamed: [] as number[] };
    for (let slice = 0; slice < SLICES; slice++) {
      results.named.push(await timePerCall(3000, lookup(stores.named)));
      results.unnamed.push(await timePerCall(3000, lookup(stores.unnamed)));
    }
    return { named: median(results.named) / 1000, unnamed: median(results.unnamed) / 1000 };
  } finally {
    await db.destroy();
    await admin.query(`DROP SCHEMA "${schema}" CASCADE`);
    await admin.end();
  }
}

async function requestInstrumentation() {
  const metrics = new Metrics();
  const durations = metrics.histogram<"operation" | "status">({
    name: "bench_duration_seconds",
    help: "bench",
    labelNames: ["operation", "status"],
  });
  const hits = metrics.counter({ name: "bench_total", help: "bench" });
  // A request's shape: a few awaits, as the context builder and a resolver make.
  const work = async () => {
    for (let k = 0; k < 5; k++) await Promise.resolve();
    return currentRequestId();
  };
  const bare = () => work();
  const instrumented = () => {
    const started = performance.now();
    return withRequestId(requestIdFrom(undefined), work).then(() => {
      hits.inc();
      durations.observe({ operation: "query", status: "200" }, (performance.now() - started) / 1000);
    });
  };
  await timePerCall(20_000, bare);
  await timePerCall(20_000, instrumented);
  const results = { bare: [] as number[], instrumented: [] as number[] };
  for (let slice = 0; slice < SLICES; slice++) {
    results.bare.push(await timePerCall(100_000, bare));
    results.instrumented.push(await timePerCall(100_000, instrumented));
  }
  return { bare: median(results.bare), instrumented: median(results.instrumented) };
}

async function main() {
  const config = loadConfig({ ...process.env, LOG_LEVEL: "silent" });
  const database = await resolveDatabase(config);
  try {
    const statements = await preparedStatements(database.url);
    const request = await requestInstrumentation();
    console.log(`Node ${process.version}, ${SLICES} alternating slices, medians\n`);
    console.log("| measurement | per call |");
    console.log("|---|---:|");
    console.log(
      `| session lookup on a cache miss, named statement (prepared once per connection) | ${statements.named.toFixed(1)} µs |`,
    );
    console.log(
      `| the same, DATABASE_PREPARED_STATEMENTS=false (parsed and planned each time) | ${statements.unnamed.toFixed(1)} µs (+${(statements.unnamed - statements.named).toFixed(1)} µs, ×${(statements.unnamed / statements.named).toFixed(2)}) |`,
    );
    console.log(`| a request's awaits, bare | ${request.bare.toFixed(0)} ns |`);
    console.log(
      `| the same with its request id (AsyncLocalStorage) and metrics (a counter, a histogram) | ${request.instrumented.toFixed(0)} ns (+${(request.instrumented - request.bare).toFixed(0)} ns) |`,
    );
  } finally {
    await database.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
