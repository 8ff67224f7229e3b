import "reflect-metadata";
import { crossInstanceDrill } from "../bench/cross-instance-drill";
import { loadConfig } from "../src/config/environment";
import { resolveDatabase } from "../src/db/database-url";
import { generateSigningKey } from "../src/lib/signing-keys";
import { blackHoleDrill } from "./black-hole";
import { crashMidMutationDrill } from "./crash-mid-mutation";
import { databaseKillDrill } from "./database-kill";
import { fuzz } from "./fuzz/fuzz";
import { notesApiDrill } from "./notes-api-drill";
import { rollingRestartDrill } from "./rolling-restart";
import { staleWindowTrials } from "./stale-window";
import { createDrillSchema, startDrillServer } from "./support/drill-server";
import type { DrillFigures } from "./support/outage";
import { seedFrom } from "./support/random";

/**
 * `npm run drills [-- --only=kill,blackhole] [-- --quick]`: the long versions of the fault
 * drills the test suite runs short, against a real PostgreSQL (DATABASE_URL, or the embedded
 * one; the kill drill always starts a cluster of its own). Prints, for each drill, the outage,
 * the requests refused, the stale answers, the time to recover. Exits 1 when a drill that
 * asserts its contract broke it. FUZZ_SEED replays the fuzzer and the crash delays.
 */
interface Section {
  name: string;
  run(databaseUrl: string): Promise<DrillFigures | DrillFigures[]>;
}

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const only = args
  .find((a) => a.startsWith("--only="))
  ?.slice("--only=".length)
  .split(",");
const seed = seedFrom(process.env.FUZZ_SEED);
const fuzzBudgetMs = Number(process.env.FUZZ_BUDGET_MS ?? (quick ? 10_000 : 60_000));

/** Starts `count` instances on one schema, sharing a signing key, and runs `body` with them. */
async function withInstances<T>(databaseUrl: string, count: number, body: (urls: string[]) => Promise<T>): Promise<T> {
  const schema = await createDrillSchema(databaseUrl);
  const signingKeys = generateSigningKey("ES256");
  const servers = [];
  try {
    for (let i = 0; i < count; i++) servers.push(await startDrillServer(databaseUrl, {}, { dbSchema: schema.name, signingKeys }));
    return await body(servers.map((s) => s.url));
  } finally {
    for (const server of servers) await server.stop();
    await schema.drop();
  }
}

/**
 * The drills, in order. The cross-instance ones (a stale window across two server processes,
 * and a silent partition of one of them) are bench/cross-instance-drill.ts's, printed here.
 */
const SECTIONS: Section[] = [
  {
    name: "kill",
    run: () => databaseKillDrill({ outageMs: quick ? 2000 : 10_000, devices: quick ? 4 : 12, boundSeconds: 1 }),
  },
  {
    name: "blackhole",
    run: (databaseUrl) =>
      blackHoleDrill({ databaseUrl, outageMs: quick ? 4500 : 15_000, devices: quick ? 4 : 12, boundSeconds: 1 }),
  },
  {
    name: "crash",
    run: (databaseUrl) => crashMidMutationDrill({ databaseUrl, rounds: quick ? 4 : 30, seed }),
  },
  {
    name: "stale",
    run: (databaseUrl) =>
      withInstances(databaseUrl, 1, ([a]) =>
        staleWindowTrials({ revokerUrl: a, observerUrl: a, trials: quick ? 10 : 100, label: "stale window, one instance" }),
      ),
  },
  {
    name: "rolling",
    run: (databaseUrl) => rollingRestartDrill({ databaseUrl, devices: quick ? 3 : 6, settleMs: quick ? 1500 : 4000 }),
  },
  {
    name: "cross",
    run: (databaseUrl) => crossInstanceDrill({ databaseUrl, trials: quick ? 100 : 2000 }),
  },
  {
    name: "notes",
    run: async (databaseUrl) => {
      const report = await notesApiDrill({ databaseUrl, trials: quick ? 20 : 200 });
      return { ...report, notes: `${report.notes}; logout p50 ${report.revokeMs.p50} ms, p99 ${report.revokeMs.p99} ms` };
    },
  },
  {
    name: "fuzz",
    run: async (databaseUrl) => {
      const schema = await createDrillSchema(databaseUrl);
      const server = await startDrillServer(databaseUrl, { LOGIN_MAX_FAILURES_PER_IP: "1000000" }, { dbSchema: schema.name });
      try {
        const report = await fuzz({ url: server.url, seed, budgetMs: fuzzBudgetMs, logLines: () => server.logLines });
        return {
          drill: "seeded fuzzer",
          outageMs: null,
          requests: report.cases,
          refused: null,
          stale: 0,
          recoverMs: null,
          slowestMs: null,
          violations: report.failures.map(
            (f) =>
              `${f.fuzzClass}:${f.index} ${f.problems.join("; ")} — sent ${f.sent.slice(0, 200)} — got ${f.answer.slice(0, 200)}`,
          ),
          notes:
            `FUZZ_SEED=${seed}, ${fuzzBudgetMs / 1000} s: ${Object.entries(report.byClass)
              .map(([c, n]) => `${c} ${n}`)
              .join(", ")}; ` +
            `codes seen ${[...report.codes].sort().join(" ")}; close codes seen ${[...report.closeCodes].sort().join(" ")}`,
        };
      } finally {
        await server.stop();
        await schema.drop();
      }
    },
  },
];

const ms = (value: number | null) => (value === null ? "–" : value >= 1000 ? `${(value / 1000).toFixed(1)} s` : `${value} ms`);
const num = (value: number | null) => (value === null ? "–" : String(value));

async function main() {
  const config = loadConfig({ ...process.env, LOG_LEVEL: "warn" });
  const database = await resolveDatabase(config);
  const results: { section: Section; figures: DrillFigures | null; error?: unknown }[] = [];
  try {
    for (const section of SECTIONS) {
      if (only && !only.includes(section.name)) continue;
      const started = Date.now();
      process.stdout.write(`drill ${section.name} ... `);
      try {
        const answered = await section.run(database.url);
        const all = Array.isArray(answered) ? answered : [answered];
        for (const figures of all) results.push({ section, figures });
        console.log(`${all.some((f) => f.violations.length) ? "BROKE ITS CONTRACT" : "held"} (${ms(Date.now() - started)})`);
      } catch (error) {
        results.push({ section, figures: null, error });
        console.log(`could not run: ${(error as Error).message}`);
      }
    }
  } finally {
    await database.stop();
  }

  console.log(
    "\n| drill | outage | requests | refused (503) | stale answers | time to recover | slowest answer in the fault | result |",
  );
  console.log("|---|---|---|---|---|---|---|---|");
  for (const { section, figures } of results) {
    if (!figures) {
      console.log(`| ${section.name} | – | – | – | – | – | – | could not run |`);
      continue;
    }
    const verdict = figures.violations.length ? "FAILED" : "held";
    console.log(
      `| ${figures.drill} | ${ms(figures.outageMs)} | ${figures.requests} | ${num(figures.refused)} | ${figures.stale} | ${ms(figures.recoverMs)} | ${ms(figures.slowestMs)} | ${verdict} |`,
    );
  }
  for (const { section, figures, error } of results) {
    if (figures?.notes) console.log(`\n${figures.drill}: ${figures.notes}`);
    for (const violation of figures?.violations.slice(0, 10) ?? []) console.log(`  - ${violation}`);
    if (error) console.log(`\n${section.name}: ${String((error as Error).stack ?? error)}`);
  }
  const failed = results.some(({ figures }) => !figures || figures.violations.length > 0);
  process.exit(failed ? 1 : 0);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
