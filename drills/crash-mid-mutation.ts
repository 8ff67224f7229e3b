import { Client } from "pg";
import { generateSigningKey } from "../src/lib/signing-keys";
import { hashSecret, parseRefreshToken } from "../src/sessions/refresh-token";
import { type ChildServer, startChildServer, urlInSchema } from "./support/child-server";
import { createDrillSchema } from "./support/drill-server";
import { type Answer, gql, hasData } from "./support/http";
import { DRILL_PASSWORD, OPERATIONS, uniqueEmail } from "./support/load";
import type { DrillFigures } from "./support/outage";
import { Random } from "./support/random";
import { newWebhookSecret, WebhookReceiver } from "./support/webhook-receiver";

export interface CrashOptions {
  databaseUrl: string;
  /** Kills: each round starts the built server, fires the mutations and SIGKILLs it. */
  rounds: number;
  seed: number;
  /** The kill comes at a random delay in [0, maxDelayMs] after the mutations were sent. */
  maxDelayMs?: number;
}

interface Device {
  sessionId: string;
  accessToken: string;
  refreshToken: string;
}

interface Account {
  userId: string;
  email: string;
  devices: Device[];
}

type Credentials = { accessToken: string; refreshToken: string };

const CHANGE_PASSWORD = "mutation ($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) }";

function sessionOf(accessToken: string): string {
  return JSON.parse(Buffer.from(accessToken.split(".")[1], "base64url").toString()).sid as string;
}

async function account(url: string, devices: number): Promise<Account> {
  const email = uniqueEmail();
  const first = await gql(url, OPERATIONS.register, { e: email, p: DRILL_PASSWORD });
  const list: Credentials[] = [(first.json!.data as { register: Credentials }).register];
  for (let i = 1; i < devices; i++) {
    const login = await gql(url, OPERATIONS.login, { e: email, p: DRILL_PASSWORD });
    list.push((login.json!.data as { login: Credentials }).login);
  }
  const withIds = list.map((c) => ({ ...c, sessionId: sessionOf(c.accessToken) }));
  const me = await gql(url, OPERATIONS.me, undefined, { token: withIds[0].accessToken });
  return { userId: (me.json!.data as { me: { id: string } }).me.id, email, devices: withIds };
}

/**
 * kill -9 of the built server (`node dist/src/main.js`) while `logoutAllDevices`,
 * `refreshSession` and `changePassword` are in flight, then the database checked for what
 * every operation promises: all or nothing, and nothing that was answered is undone.
 *
 * - every session is active, or revoked with a reason and an entry in the activity log;
 * - logoutAllDevices ended all the other sessions or none;
 * - the refresh token is the session's current one or its just-spent one, never both;
 * - changePassword changed the password and ended the other sessions, or did neither.
 */
export async function crashMidMutationDrill(
  options: CrashOptions,
): Promise<DrillFigures & { committed: number; rolledBack: number }> {
  const random = new Random(options.seed);
  const schema = await createDrillSchema(options.databaseUrl);
  // Every committed revocation must reach a webhook receiver, across the kills.
  const secret = newWebhookSecret();
  const receiver = await WebhookReceiver.start(secret);
  const env = {
    WEBHOOK_URLS: receiver.url,
    WEBHOOK_SECRET: secret,
    OUTBOX_POLL_MS: "50",
    WEBHOOK_BACKOFF_MS: "50",
    WEBHOOK_MAX_BACKOFF: "1",
    DATABASE_URL: urlInSchema(options.databaseUrl, schema.name),
    NODE_ENV: "test",
    PASSWORD_HASH_COST: "10",
    REGISTER_MAX_PER_IP: "100000",
    JWT_PRIVATE_KEYS: generateSigningKey("ES256"),
  };
  const sql = new Client({ connectionString: options.databaseUrl, options: `-c search_path=${schema.name}` });
  await sql.connect();
  const violations: string[] = [];
  const restartMs: number[] = [];
  let requests = 0;
  let committed = 0;
  let rolledBack = 0;
  let webhookFigures = "";
  let server: ChildServer | null = null;
  try {
    for (let round = 0; round < options.rounds; round++) {
      const startedAt = Date.now();
      server = await startChildServer(env);
      if (round > 0) restartMs.push(Date.now() - startedAt);
      if (round === 0) await endpointRegistered(sql);
      const [a, b, c] = await Promise.all([account(server.url, 4), account(server.url, 2), account(server.url, 4)]);
      const [{ password_hash: hashBefore }] = (await sql.query("SELECT password_hash FROM users WHERE id = $1", [c.userId])).rows;
      const spent = parseRefreshToken(b.devices[1].refreshToken)!;

      const answers: { op: string; answer: Answer | null }[] = [
        { op: "logoutAllDevices", answer: null },
        { op: "refreshSession", answer: null },
        { op: "changePassword", answer: null },
      ];
      const calls = [
        gql(server.url, OPERATIONS.logoutAllDevices, undefined, { token: a.devices[0].accessToken }),
        gql(server.url, OPERATIONS.refreshSession, { t: b.devices[1].refreshToken }),
        gql(
          server.url,
          CHANGE_PASSWORD,
          { c: DRILL_PASSWORD, n: `${DRILL_PASSWORD} ${round}` },
          { token: c.devices[0].accessToken },
        ),
      ];
      calls.forEach((call, i) => void call.then((answer) => (answers[i].answer = answer)));
      requests += calls.length;
      await new Promise((r) => setTimeout(r, random.int(0, options.maxDelayMs ?? 150)));
      server.child.kill("SIGKILL");
      await server.exited;
      await Promise.all(calls);
      // What had been answered (with data) when the process died must have stuck.
      const answeredBeforeKill = answers.map(({ answer }) => answer !== null && answer.status === 200 && hasData(answer));
      server = null;

      const fail = (what: string) => violations.push(`round ${round} (seed ${options.seed}): ${what}`);
      // Every session: active, or revoked with a reason and an entry in the activity log.
      const unlogged = await sql.query(`
        SELECT s.id, s.revoked_reason FROM sessions s
        WHERE s.revoked_at IS NOT NULL AND (s.revoked_reason IS NULL OR NOT EXISTS (
          SELECT 1 FROM security_events e
          WHERE e.user_id = s.user_id AND (e.session_id = s.id OR s.id = ANY(e.session_ids))
            AND e.details->>'reason' = s.revoked_reason))`);
      for (const row of unlogged.rows) fail(`session ${row.id} revoked (${row.revoked_reason}) with no log entry`);

      const revoked = async (ids: string[]) =>
        (await sql.query("SELECT count(*)::int AS n FROM sessions WHERE id = ANY($1) AND revoked_at IS NOT NULL", [ids])).rows[0]
          .n as number;
      const others = (acc: Account) => acc.devices.slice(1).map((d) => d.sessionId);

      const endedA = await revoked(others(a));
      if (endedA !== 0 && endedA !== 3) fail(`logoutAllDevices ended ${endedA} of 3 sessions`);
      if ((await revoked([a.devices[0].sessionId])) !== 0) fail("logoutAllDevices(keepCurrent) ended the current session");
      if (answeredBeforeKill[0] && endedA !== 3) fail("logoutAllDevices answered, then was undone");
      endedA === 3 ? committed++ : rolledBack++;

      const [row] = (await sql.query("SELECT secret_hash, previous_secret_hash FROM sessions WHERE id = $1", [spent.sessionId]))
        .rows;
      const h = hashSecret(spent.secret);
      const current = Buffer.compare(row.secret_hash, h) === 0;
      const justSpent = row.previous_secret_hash !== null && Buffer.compare(row.previous_secret_hash, h) === 0;
      if (current === justSpent)
        fail(`refresh token is ${current ? "both current and spent" : "neither current nor just spent"}`);
      if (answeredBeforeKill[1] && !justSpent) fail("refreshSession answered, then was undone");
      justSpent ? committed++ : rolledBack++;

      const [{ password_hash: hashAfter }] = (await sql.query("SELECT password_hash FROM users WHERE id = $1", [c.userId])).rows;
      const changed = hashAfter !== hashBefore;
      const endedC = await revoked(others(c));
      if (changed !== (endedC === 3) || (endedC !== 0 && endedC !== 3)) {
        fail(`changePassword: password ${changed ? "changed" : "unchanged"}, ${endedC} of 3 other sessions ended`);
      }
      if (answeredBeforeKill[2] && !changed) fail("changePassword answered, then was undone");
      changed ? committed++ : rolledBack++;
    }
    // One more start delivers what the last kill left undelivered; then every committed
    // revocation must have reached the receiver, each under one webhook-id.
    server = await startChildServer(env);
    const revokedRows = (await sql.query("SELECT id::text AS id, revoked_reason FROM sessions WHERE revoked_at IS NOT NULL"))
      .rows as { id: string; revoked_reason: string }[];
    const delivered = () =>
      new Set(
        receiver
          .distinct()
          .filter((e) => e.type === "session.revoked")
          .map((e) => e.data.sessionId),
      );
    for (const end = Date.now() + 20_000; Date.now() < end && revokedRows.some((r) => !delivered().has(r.id)); ) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const got = delivered();
    for (const row of revokedRows) {
      if (!got.has(row.id)) violations.push(`revocation of ${row.id} (${row.revoked_reason}) never reached the webhook receiver`);
    }
    const idsPerSession = new Map<unknown, Set<string>>();
    for (const e of receiver.deliveries.filter((d) => d.type === "session.revoked")) {
      idsPerSession.set(e.data.sessionId, (idsPerSession.get(e.data.sessionId) ?? new Set()).add(e.id));
    }
    for (const [sessionId, ids] of idsPerSession) {
      if (ids.size > 1) violations.push(`revocation of ${sessionId} delivered under ${ids.size} webhook-ids`);
    }
    if (receiver.rejected > 0) violations.push(`${receiver.rejected} webhook(s) failed the signature check`);
    webhookFigures = `${revokedRows.length} committed revocations, ${got.size} delivered, ${receiver.deliveries.length - receiver.distinct().length} redelivered`;
  } finally {
    await receiver.stop();
    if (server) {
      server.child.kill("SIGKILL");
      await server.exited;
    }
    await sql.end();
    await schema.drop();
  }
  return {
    drill: "server kill -9 mid-mutation",
    outageMs: null,
    requests,
    refused: null,
    stale: violations.length,
    recoverMs: restartMs.length ? Math.max(...restartMs) : null,
    slowestMs: null,
    violations,
    committed,
    rolledBack,
    notes: `${options.rounds} kills (seed ${options.seed}): ${committed} mutations committed, ${rolledBack} rolled back; recovery = restart of the server; webhooks: ${webhookFigures}`,
  };
}

/** The worker registers the endpoint on its first turn; events before that are not promised to it. */
async function endpointRegistered(sql: Client): Promise<void> {
  for (const end = Date.now() + 10_000; Date.now() < end; ) {
    if ((await sql.query("SELECT 1 FROM webhook_endpoints")).rows.length > 0) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("the webhook endpoint was never registered");
}
