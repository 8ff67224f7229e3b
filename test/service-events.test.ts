import { randomUUID } from "node:crypto";
import { Client } from "pg";
import { ServiceScope } from "../src/service-keys/service-key";
import { LogoutAllDevicesDocument } from "./gql/graphql";
import { databaseUrl, startTestServer, type TestServer } from "./support/test-server";
import { signIn, signUp } from "./support/users";
import { eventually } from "./support/wait";

/**
 * The events feed (issue 21): `serviceEvents(after, first)` with a service key of scope
 * events:read. A reader that keeps its cursor sees every committed event exactly once, in the
 * feed's order, and never one from a transaction that rolled back, while sign-ins and
 * revocations commit in parallel.
 */
let server: TestServer;
let key: string;
beforeAll(async () => {
  server = await startTestServer();
  key = (await server.services.serviceKeys.createKey("warehouse", [ServiceScope.EVENTS_READ])).key;
});
afterAll(() => server.stop());

const FEED = `query ($after: String, $first: Int) {
  serviceEvents(after: $after, first: $first) {
    edges { cursor node { id type occurredAt userId data } }
    pageInfo { endCursor hasNextPage }
  }
}`;

interface Page {
  edges: {
    cursor: string;
    node: { id: string; type: string; occurredAt: string; userId: string; data: Record<string, unknown> };
  }[];
  pageInfo: { endCursor: string | null; hasNextPage: boolean };
}

async function page(after: string | null, first: number, apiKey = key): Promise<Page> {
  const res = await server.post({ query: FEED, variables: { after, first } }, { headers: { authorization: `ApiKey ${apiKey}` } });
  if (!res.data) throw new Error(JSON.stringify(res.errors));
  return (res.data as { serviceEvents: Page }).serviceEvents;
}

async function client(): Promise<Client> {
  const c = new Client({ connectionString: databaseUrl(), options: `-c search_path=${server.dbSchema}` });
  await c.connect();
  return c;
}

/** A session straight in the database, in the caller's transaction (the outbox trigger fires as for a sign-in). */
async function insertSession(c: Client, userId: string): Promise<string> {
  const id = randomUUID();
  await c.query(
    `INSERT INTO sessions (id, user_id, secret_hash, device_name, created_at, last_active_at, authenticated_at, expires_at)
     VALUES ($1, $2, '\\x00', 'sql', now(), now(), now(), now() + interval '1 hour')`,
    [id, userId],
  );
  return id;
}

async function userIdOf(email: string): Promise<string> {
  return (await server.sql<{ id: string }>("SELECT id FROM users WHERE email = $1", [email]))[0].id;
}

/**
 * A cursor past this user's sign-up event, and so past every event committed before it: the
 * feed passes an event only once no transaction that could still commit an earlier one is
 * open, on the whole cluster, so an end of the feed read at once may still lie before events
 * already committed (other test files keep transactions open). Pages until the sign-up is read.
 */
async function cursorPastSignUpOf(userId: string): Promise<string | null> {
  let cursor: string | null = null;
  let seen = false;
  await eventually(async () => {
    for (let p = await page(cursor, 1000); ; p = await page(cursor, 1000)) {
      cursor = p.pageInfo.endCursor;
      seen ||= p.edges.some((e) => e.node.userId === userId && e.node.type === "session.created");
      if (!p.pageInfo.hasNextPage) break;
    }
    expect(seen).toBe(true);
  }, 10_000);
  return cursor;
}

describe("serviceEvents", () => {
  it("is refused to a key without events:read and to a user's session", async () => {
    const other = (await server.services.serviceKeys.createKey("crm", [ServiceScope.SESSIONS_READ])).key;
    const res = await server.post({ query: FEED, variables: {} }, { headers: { authorization: `ApiKey ${other}` } });
    expect(res.errors?.[0].extensions?.code).toBe("FORBIDDEN");
    const user = await signUp(server);
    const asUser = await server.post({ query: FEED, variables: {} }, { token: user.accessToken });
    expect(asUser.errors?.[0].extensions?.code).toBe("FORBIDDEN");
    const bad = await server.post(
      { query: FEED, variables: { after: "not-a-cursor" } },
      { headers: { authorization: `ApiKey ${key}` } },
    );
    expect(bad.errors?.[0].extensions?.code).toBe("BAD_USER_INPUT");
  });

  it("does not pass an event that got an earlier number but commits later", async () => {
    const user = await signUp(server);
    const userId = await userIdOf(user.email);
    const cursor = await cursorPastSignUpOf(userId);
    const early = await client();
    const late = await client();
    try {
      await early.query("BEGIN");
      await insertSession(early, userId); // the smaller sequence number, still uncommitted
      await late.query("BEGIN");
      await insertSession(late, userId);
      await late.query("COMMIT");
      // While `early` is open, the later-numbered event is held back rather than read past.
      expect((await page(cursor, 10)).edges).toHaveLength(0);
      await early.query("COMMIT");
      // Both now, in one order (after any other transaction on the cluster that was open has ended).
      await eventually(async () => {
        const after = await page(cursor, 10);
        expect(after.edges.map((e) => e.node.type)).toEqual(["session.created", "session.created"]);
      }, 10_000);
    } finally {
      await early.end();
      await late.end();
    }
  });

  it("carries a lock, an unlock and an email change, each once, with no secret in its data", async () => {
    const user = await signUp(server);
    const userId = await userIdOf(user.email);
    const cursor = await cursorPastSignUpOf(userId);
    // What adminLockUser / adminUnlockUser and changeEmail write to the users row.
    await server.sql("UPDATE users SET locked_at = now(), locked_reason = 'chargeback fraud' WHERE id = $1", [userId]);
    await server.sql("UPDATE users SET locked_at = NULL, locked_reason = NULL WHERE id = $1", [userId]);
    await server.sql("UPDATE users SET email = $2 WHERE id = $1", [userId, `new-${user.email}`]);
    await eventually(async () => {
      const events = (await page(cursor, 10)).edges.map((e) => e.node);
      expect(events.map((e) => [e.type, e.userId, e.data])).toEqual([
        ["user.locked", userId, { reason: "chargeback fraud" }],
        ["user.unlocked", userId, {}],
        ["user.email_changed", userId, { previousEmail: user.email, newEmail: `new-${user.email}` }],
      ]);
    }, 10_000);
  });

  it("gives a reader paging under parallel sign-ins and revocations every committed event once, in order, none rolled back", async () => {
    // Start from the end of the feed as it is now.
    let cursor: string | null = null;
    for (let p = await page(null, 1000); ; p = await page(cursor, 1000)) {
      cursor = p.pageInfo.endCursor;
      if (!p.pageInfo.hasNextPage) break;
    }
    const startCursor = cursor;
    const seen: Page["edges"] = [];
    // Set once the load is over: the last event committed. Until then the reader pages on; the
    // watermark may hold the tail back while any transaction on the cluster is open (a delay).
    let lastId: string | null = null;
    const reader = (async () => {
      for (const end = Date.now() + 50_000; Date.now() < end; ) {
        const p = await page(cursor, 7);
        seen.push(...p.edges);
        cursor = p.pageInfo.endCursor;
        if (lastId && seen.some((e) => e.node.id === lastId) && !p.pageInfo.hasNextPage) return;
        if (!p.pageInfo.hasNextPage) await new Promise((r) => setTimeout(r, 10));
      }
    })();

    const rolledBackSessions: string[] = [];
    const users = await Promise.all(Array.from({ length: 6 }, () => signUp(server)));
    const userIds: string[] = [];
    for (const u of users) userIds.push(await userIdOf(u.email));
    const viaHttp = users.map(async (u) => {
      for (let round = 0; round < 3; round++) {
        const s = await signIn(server, u.email);
        await signIn(server, u.email);
        const ended = await server.request(LogoutAllDevicesDocument, { keepCurrent: true }, { token: s.accessToken });
        expect(ended.errors).toBeUndefined();
      }
    });
    const viaSql = userIds.map(async (userId, i) => {
      const c = await client();
      try {
        for (let round = 0; round < 15; round++) {
          await c.query("BEGIN");
          const sessionId = await insertSession(c, userId);
          if ((round + i) % 3 === 0) {
            rolledBackSessions.push(sessionId);
            await c.query("ROLLBACK");
          } else {
            await c.query("COMMIT");
          }
        }
      } finally {
        await c.end();
      }
    });
    await Promise.all([...viaHttp, ...viaSql]);
    [{ id: lastId }] = await server.sql<{ id: string }>("SELECT id FROM outbox_events ORDER BY xid DESC, seq DESC LIMIT 1");
    await reader;

    const committed = await server.sql<{ id: string }>(
      "SELECT o.id FROM outbox_events o WHERE o.user_id = ANY($1) ORDER BY xid, seq",
      [userIds],
    );
    const ours = seen.filter((e) => userIds.includes(e.node.userId));
    expect(ours.map((e) => e.node.id)).toEqual(committed.map((r) => r.id)); // every one, once, in order
    expect(new Set(seen.map((e) => e.node.id)).size).toBe(seen.length);
    expect(committed.length).toBeGreaterThan(100);
    const sessionIds = new Set(seen.map((e) => e.node.data.sessionId));
    expect(rolledBackSessions.length).toBeGreaterThan(10);
    for (const id of rolledBackSessions) expect(sessionIds.has(id)).toBe(false);
    // Revocations arrived one per session, with their reason.
    const revoked = ours.filter((e) => e.node.type === "session.revoked");
    const [{ n }] = await server.sql<{ n: number }>(
      "SELECT count(*)::int AS n FROM sessions WHERE user_id = ANY($1) AND revoked_at IS NOT NULL",
      [userIds],
    );
    expect(revoked).toHaveLength(n);
    expect(new Set(revoked.map((e) => e.node.data.sessionId)).size).toBe(n);
    expect(revoked.every((e) => e.node.data.reason === "LOGOUT_ALL")).toBe(true);
    // The start cursor still reads the same events again (a cursor stays valid).
    expect((await page(startCursor, 5)).edges.map((e) => e.node.id)).toEqual(seen.slice(0, 5).map((e) => e.node.id));
  }, 60_000);
});
