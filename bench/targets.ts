import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import type { Client } from "pg";
import { loadConfig } from "../src/config/environment";
import { generateSigningKey } from "../src/lib/signing-keys";
import { AccessTokenService } from "../src/sessions/access-token";

/** The signing key every target process of one run shares, so a token works on all of them. */
export const JWT_PRIVATE_KEYS = generateSigningKey("ES256");

export interface Target {
  url: string;
  /** The in-server time of the request sent with `x-bench-timing: label` (see target-server.ts). */
  serverTime(label: string): Promise<number>;
  /** SIGTERM, as a deployment stops an instance (it leaves its lease); SIGKILL after 10 s. */
  stop(): Promise<void>;
  /** SIGKILL: a crash. */
  kill(): Promise<void>;
}

/** One target-server.ts process; `env` adds settings (REVOCATION_LEASE_MS) to the bench's own. */
export function startTarget(
  strategy: string,
  databaseUrl: string,
  schema: string,
  env: Record<string, string> = {},
): Promise<Target> {
  const child: ChildProcess = spawn(
    process.execPath,
    [path.join(__dirname, "target-server.js"), `--strategy=${strategy}`, `--schema=${schema}`],
    // NODE_ENV in the process too, as a deployment sets it: libraries (graphql-js) read it there.
    {
      env: { ...process.env, ...env, NODE_ENV: "production", DATABASE_URL: databaseUrl, JWT_PRIVATE_KEYS },
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const timings = new Map<string, number>();
  const timingWaiters = new Map<string, (ms: number) => void>();
  const serverTime = (label: string) =>
    new Promise<number>((resolve) => {
      if (timings.has(label)) return resolve(timings.get(label)!);
      timingWaiters.set(label, resolve);
    });
  const signal = async (name: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(name);
    const forced = setTimeout(() => child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(forced);
  };
  return new Promise((resolve, reject) => {
    // Line by line: `ready <url>` once, then `timing <label> <ms>` (see target-server.ts).
    let out = "";
    let pending = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      pending += chunk;
      const lines = pending.split("\n");
      pending = lines.pop()!;
      for (const line of lines) {
        const timing = /^timing (\S+) (\S+)$/.exec(line);
        if (timing) {
          timings.set(timing[1], Number(timing[2]));
          timingWaiters.get(timing[1])?.(Number(timing[2]));
          continue;
        }
        out += `${line}\n`;
        const ready = /^ready (\S+)$/.exec(line);
        if (ready) resolve({ url: ready[1], serverTime, stop: () => signal("SIGTERM"), kill: () => signal("SIGKILL") });
      }
    });
    child.once("exit", (code) => reject(new Error(`${strategy} server exited with ${code}: ${out}${pending}`)));
  });
}

// biome-ignore lint/suspicious/noExplicitAny: the bench reads answers by shape, unchecked
export async function gql<T = Record<string, any>>(url: string, query: string, token?: string, timingLabel?: string): Promise<T> {
  const res = await fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(timingLabel ? { "x-bench-timing": timingLabel } : {}),
    },
    body: JSON.stringify({ query }),
  });
  const body = (await res.json()) as { data?: T; errors?: unknown };
  if (!body.data) throw new Error(`${query}: ${JSON.stringify(body.errors)}`);
  return body.data;
}

/** The HTTP status of `{ me { id } }` with `token` (200 with data, or a refusal). */
export async function meStatus(url: string, token: string): Promise<number> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: "{ me { id } }" }),
  });
  await res.text();
  return res.status;
}

/**
 * `count` more live sessions of the user of `likeSessionId`, made in the database in one
 * statement, each with an access token signed with JWT_PRIVATE_KEYS: signing in this often at the
 * production password-hash cost would take minutes.
 */
export async function mintSessions(
  admin: Client,
  likeSessionId: string,
  count: number,
): Promise<{ sessionId: string; token: string }[]> {
  const config = loadConfig({ JWT_PRIVATE_KEYS });
  const tokens = new AccessTokenService(config.jwt.keys, {
    issuer: config.jwt.issuer,
    audience: config.jwt.audience,
    ttlSeconds: config.accessTokenTtl,
  });
  const { rows } = await admin.query<{ id: string; user_id: string; expires_at: Date }>(
    `INSERT INTO sessions (id, user_id, secret_hash, device_name, created_at, last_active_at, authenticated_at, expires_at)
     SELECT gen_random_uuid(), user_id, secret_hash, 'bench', now(), now(), now(), expires_at
     FROM sessions, generate_series(1, $2) WHERE id = $1
     RETURNING id, user_id, expires_at`,
    [likeSessionId, count],
  );
  return rows.map((row) => ({
    sessionId: row.id,
    token: tokens.sign({ userId: row.user_id, sessionId: row.id }, new Date(row.expires_at)).token,
  }));
}

/** The p-th percentile (0–100) of some timings. */
export function percentile(times: readonly number[], p: number): number {
  const sorted = [...times].sort((x, y) => x - y);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((sorted.length * p) / 100) - 1))];
}
