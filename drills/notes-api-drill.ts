import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import path from "node:path";
import { Client } from "pg";
import { generateSigningKey } from "../src/lib/signing-keys";
import { createDrillSchema, type DrillServer, startDrillServer } from "./support/drill-server";
import { call, gql } from "./support/http";
import { DRILL_PASSWORD, OPERATIONS, uniqueEmail } from "./support/load";
import type { DrillFigures } from "./support/outage";
import { createDrillServiceKey } from "./support/service-key";

/** The example backend, built by `npm run build:notes` (found from source and from dist/ alike). */
function notesMain(): string {
  for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const main = path.join(dir, "examples", "notes-api", "dist", "main.js");
    if (existsSync(main)) return main;
  }
  throw new Error("examples/notes-api is not built: npm run build:notes");
}

export interface NotesDrillOptions {
  databaseUrl: string;
  trials: number;
  /** REVOCATION_LEASE_MS of the session API instances (default 2000). */
  leaseMs?: number;
}

export interface NotesDrillReport extends DrillFigures {
  /** The revoking call (logout), answered: its percentiles over the trials, ms. */
  revokeMs: { p50: number; p99: number; max: number };
}

interface NotesProcess {
  url: string;
  child: ChildProcess;
  output: string[];
  stop(): Promise<void>;
}

/** One notes-api process, verifying sessions against `sessionApiUrl`; resolves once it listens. */
export async function startNotesApi(env: {
  sessionApiUrl: string;
  serviceKey: string;
  databaseUrl: string;
  schema: string;
}): Promise<NotesProcess> {
  const output: string[] = [];
  const child = spawn(process.execPath, [notesMain()], {
    env: {
      PATH: process.env.PATH,
      SESSION_API_URL: env.sessionApiUrl,
      SESSION_SERVICE_KEY: env.serviceKey,
      DATABASE_URL: env.databaseUrl,
      NOTES_DB_SCHEMA: env.schema,
      PORT: "0",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`notes-api did not start: ${output.join("")}`)), 20_000);
    const onLine = (chunk: Buffer) => {
      output.push(chunk.toString());
      const found = /notes-api listening on (\S+)/.exec(output.join(""));
      if (found) {
        clearTimeout(timer);
        resolve(found[1]);
      }
    };
    child.stdout?.on("data", onLine);
    child.stderr?.on("data", (chunk: Buffer) => output.push(chunk.toString()));
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`notes-api exited (${code}): ${output.join("")}`));
    });
  });
  return {
    url,
    child,
    output,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/**
 * "Logout really logs out" past the session API's door. Two session API instances on one
 * database and two notes-api processes, each verifying against one instance. Each trial signs
 * in, writes and reads a note through both backends, logs out on one instance (alternating),
 * and then asks both backends for the notes at once: each must answer 401 SESSION_REVOKED.
 * A 200 there is a stale answer. The logout's own latency is recorded: it includes every
 * connected verifier's acknowledgement.
 */
export async function notesApiDrill(options: NotesDrillOptions): Promise<NotesDrillReport> {
  const env = { REVOCATION_LEASE_MS: String(options.leaseMs ?? 2000), LOGIN_MAX_FAILURES_PER_IP: "1000000" };
  const schema = await createDrillSchema(options.databaseUrl);
  const notesSchema = `notes_${randomBytes(6).toString("hex")}`;
  const admin = new Client({ connectionString: options.databaseUrl });
  await admin.connect();
  await admin.query(`CREATE SCHEMA "${notesSchema}"`);
  const servers: DrillServer[] = [];
  const backends: NotesProcess[] = [];
  const violations: string[] = [];
  const revokeMs: number[] = [];
  let requests = 0;
  let stale = 0;
  try {
    const signingKeys = generateSigningKey("ES256");
    for (let i = 0; i < 2; i++)
      servers.push(await startDrillServer(options.databaseUrl, env, { dbSchema: schema.name, signingKeys }));
    const serviceKey = await createDrillServiceKey(servers[0], "notes-api", ["sessions:stream"]);
    for (const server of servers) {
      backends.push(
        await startNotesApi({
          sessionApiUrl: server.url.replace(/\/graphql$/, ""),
          serviceKey,
          databaseUrl: options.databaseUrl,
          schema: notesSchema,
        }),
      );
    }
    const email = uniqueEmail();
    const registered = await gql(servers[0].url, OPERATIONS.register, { e: email, p: DRILL_PASSWORD });
    if (registered.status !== 200) throw new Error(`register failed: ${registered.body}`);

    for (let trial = 0; trial < options.trials; trial++) {
      const signedIn = await gql(servers[trial % 2].url, OPERATIONS.login, { e: email, p: DRILL_PASSWORD });
      const token = (signedIn.json?.data as { login?: { accessToken: string } } | undefined)?.login?.accessToken;
      if (!token) throw new Error(`login failed: ${signedIn.body}`);
      const written = await call(`${backends[trial % 2].url}/notes`, JSON.stringify({ body: `note ${trial}` }), { token });
      const read = await call(`${backends[(trial + 1) % 2].url}/notes`, undefined, { token, method: "GET" });
      requests += 2;
      if (written.status !== 201 || read.status !== 200 || !read.body.includes(`note ${trial}`)) {
        violations.push(
          `trial ${trial}: a signed-in user's notes were not served (${written.status}, ${read.status}: ${read.body.slice(0, 120)})`,
        );
        continue;
      }
      const revoker = servers[Math.floor(trial / 2) % 2];
      const started = performance.now();
      const logout = await gql(revoker.url, "mutation { logout }", undefined, { token });
      revokeMs.push(performance.now() - started);
      if ((logout.json?.data as { logout?: boolean } | undefined)?.logout !== true) {
        violations.push(`trial ${trial}: logout failed: ${logout.body.slice(0, 120)}`);
        continue;
      }
      const after = await Promise.all(backends.map((b) => call(`${b.url}/notes`, undefined, { token, method: "GET" })));
      requests += after.length;
      for (const [i, answer] of after.entries()) {
        const reason = (answer.json?.errors?.[0]?.extensions as { reason?: unknown } | undefined)?.reason;
        if (answer.status === 200) {
          stale++;
          violations.push(`trial ${trial}: notes-api ${i} served a logged-out session's notes`);
        } else if (answer.status !== 401 || reason !== "SESSION_REVOKED") {
          violations.push(`trial ${trial}: notes-api ${i} answered ${answer.status} ${answer.body.slice(0, 120)}`);
        }
      }
    }
    for (const server of servers) for (const line of server.unexpected()) violations.push(`server logged: ${line.slice(0, 200)}`);
  } finally {
    for (const backend of backends) await backend.stop();
    for (const server of servers) await server.stop();
    await admin.query(`DROP SCHEMA IF EXISTS "${notesSchema}" CASCADE`).catch(() => undefined);
    await admin.end();
    await schema.drop();
  }
  const sorted = [...revokeMs].sort((x, y) => x - y);
  return {
    drill: "notes-api: logout on either of two instances, next request on two backends",
    outageMs: null,
    requests,
    refused: null,
    stale,
    recoverMs: null,
    slowestMs: null,
    violations,
    revokeMs: { p50: round(percentile(sorted, 50)), p99: round(percentile(sorted, 99)), max: round(sorted.at(-1) ?? 0) },
    notes: `${options.trials} trials`,
  };
}

const round = (ms: number) => Math.round(ms * 10) / 10;
