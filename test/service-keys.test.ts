import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import path from "node:path";
import { promisify } from "node:util";
import { sharedWith, startTestServer, type TestServer } from "./support/test-server";
import { signIn, signUp } from "./support/users";

/**
 * Service keys from outside: made and ended by the real admin CLI (`npm run admin -- ...`, run
 * as its own process on the test's schema), used over HTTP with `Authorization: ApiKey <key>`.
 */
const CLI = path.join(__dirname, "..", "dist", "src", "admin", "cli.js");
const run = promisify(execFile);

let server: TestServer;
let other: TestServer;
const logLines: string[] = [];
beforeAll(async () => {
  server = await startTestServer({ LOG_LEVEL: "info" }, undefined, { logLines });
  // A second instance on the same database, with a tight throttle.
  other = await startTestServer({ SERVICE_KEY_RATE_LIMIT: "3" }, sharedWith(server));
});
afterAll(async () => {
  await other.stop();
  await server.stop();
});

/** `npm run admin -- <args>` on this test's schema; its output lines. */
async function admin(...args: string[]): Promise<{ code: number; lines: string[] }> {
  const url = new URL(process.env.DATABASE_URL!);
  url.searchParams.set("options", `-c search_path=${server.dbSchema}`);
  try {
    const { stdout } = await run(process.execPath, [CLI, "admin", ...args], {
      env: { PATH: process.env.PATH, DATABASE_URL: url.toString(), NODE_ENV: "test", LOG_LEVEL: "silent" },
    });
    return { code: 0, lines: stdout.trimEnd().split("\n") };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, lines: `${failed.stdout}${failed.stderr}`.trimEnd().split("\n") };
  }
}

async function createKey(scopes: string): Promise<{ key: string; prefix: string; lines: string[] }> {
  const { code, lines } = await admin("create-key", "--name", "billing", "--scopes", scopes);
  expect(code).toBe(0);
  const key = lines[lines.length - 1];
  return { key, prefix: key.split("_")[1], lines };
}

async function call(target: TestServer, key: string, query: string, variables: Record<string, unknown> = {}) {
  return target.post({ query, variables }, { headers: { authorization: `ApiKey ${key}` } });
}

const SESSIONS = "query ($id: ID!) { serviceUserSessions(userId: $id) { id current } }";
const REVOKE = "mutation ($id: ID!) { serviceRevokeUserSessions(userId: $id) }";

describe("npm run admin -- create-key", () => {
  it("prints the key once, alone on its last line, and stores only a hash of it, under a prefix that names it", async () => {
    const { key, prefix, lines } = await createKey("sessions:read,sessions:revoke,sessions:stream");
    expect(key).toMatch(/^sak_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    expect(lines.slice(0, -1).join("\n")).not.toContain(key.split("_").slice(2).join("_"));
    expect(lines[0]).toBe(
      `created service key "billing", prefix ${prefix}, scopes sessions:read, sessions:revoke, sessions:stream`,
    );
    const rows = await server.sql<{ prefix: string; secret_hash: Buffer }>("SELECT * FROM service_keys WHERE prefix = $1", [
      prefix,
    ]);
    expect(rows).toHaveLength(1);
    const secret = key.slice(`sak_${prefix}_`.length);
    expect(rows[0].secret_hash.equals(createHash("sha256").update(secret).digest())).toBe(true);
    expect(JSON.stringify(rows)).not.toContain(secret);
    // Listing shows the prefix, never the key.
    const listed = await admin("list-keys");
    expect(listed.lines.find((l) => l.startsWith(prefix))).toMatch(/billing {2}sessions:read,sessions:revoke,sessions:stream/);
    expect(listed.lines.join("\n")).not.toContain(secret);
  }, 30_000);

  it("refuses an unknown scope, naming the scopes there are", async () => {
    const { code, lines } = await admin("create-key", "--name", "x", "--scopes", "sessions:read,users:write");
    expect(code).toBe(2);
    expect(lines.join("\n")).toContain(
      "unknown scope users:write; the scopes are sessions:read, sessions:revoke, sessions:stream, events:read",
    );
  }, 30_000);
});

describe("a service key over HTTP", () => {
  it("reaches exactly the fields its scopes allow", async () => {
    const user = await signUp(server);
    const { key } = await createKey("sessions:read");
    const read = await call(server, key, SESSIONS, { id: user.user.id });
    expect(read).toMatchObject({ status: 200, data: { serviceUserSessions: [{ id: user.session.id, current: false }] } });
    const revoke = await call(server, key, REVOKE, { id: user.user.id });
    expect(revoke.errors).toEqual([
      {
        message: "This service key lacks the scope this needs.",
        path: ["serviceRevokeUserSessions"],
        locations: expect.any(Array),
        extensions: { code: "FORBIDDEN", reason: "SCOPE_MISSING", scope: "sessions:revoke" },
      },
    ]);
    // Nothing ended.
    expect((await server.post({ query: "{ me { id } }" }, { token: user.accessToken })).status).toBe(200);
  }, 30_000);

  it("reaches nothing that needs a user session, nor what users and browsers call", async () => {
    const user = await signUp(server);
    const { key } = await createKey("sessions:read,sessions:revoke");
    const refused = { code: "FORBIDDEN", reason: "USER_SESSION_REQUIRED" };
    for (const query of [
      "{ me { id } }",
      "{ mySessions { id } }",
      `mutation { login(input: { email: "${user.email}", password: "x" }) { accessToken } }`,
      "mutation { logout }",
      "{ serviceKey { name } ... on Query { me { id } } }",
    ]) {
      const res = await call(server, key, query);
      expect(res.data ?? null).toBeNull();
      expect(res.errors?.map((e) => e.extensions)).toEqual([refused]);
    }
    expect((await call(server, key, "{ serviceKey { name scopes } __typename }")).data).toEqual({
      serviceKey: { name: "billing", scopes: ["SESSIONS_READ", "SESSIONS_REVOKE"] },
      __typename: "Query",
    });
  }, 30_000);

  it("is the only way to the service fields: a user's session is FORBIDDEN there, and no credential is 401", async () => {
    const user = await signUp(server);
    const asUser = await server.post({ query: SESSIONS, variables: { id: user.user.id } }, { token: user.accessToken });
    expect(asUser.errors?.[0].extensions).toEqual({ code: "FORBIDDEN", reason: "SERVICE_KEY_REQUIRED" });
    const anonymous = await server.post({ query: SESSIONS, variables: { id: user.user.id } });
    expect(anonymous.errors?.[0].extensions).toEqual({ code: "UNAUTHENTICATED", reason: "TOKEN_MISSING" });
  });

  it("ends a user's sessions everywhere with sessions:revoke, the audit entry naming the key", async () => {
    const user = await signUp(server);
    const second = await signIn(server, user.email);
    const { key, prefix } = await createKey("sessions:revoke");
    expect(await call(server, key, REVOKE, { id: user.user.id })).toMatchObject({
      status: 200,
      data: { serviceRevokeUserSessions: 2 },
    });
    for (const token of [user.accessToken, second.accessToken]) {
      for (const instance of [server, other]) {
        const res = await instance.post({ query: "{ me { id } }" }, { token });
        expect([res.status, res.errors?.[0].extensions.reason]).toEqual([401, "SESSION_REVOKED"]);
      }
    }
    const [entry] = await server.sql<{ type: string; details: Record<string, unknown> }>(
      "SELECT type, details FROM security_events WHERE user_id = $1 AND type = 'SESSION_REVOKED'",
      [user.user.id],
    );
    expect(entry).toEqual({ type: "SESSION_REVOKED", details: { reason: "REVOKED", byServiceKey: prefix, sessionCount: 2 } });
  }, 30_000);

  it("is refused on its very next request once revoked, by every instance", async () => {
    const user = await signUp(server);
    const { key, prefix } = await createKey("sessions:read");
    expect((await call(server, key, SESSIONS, { id: user.user.id })).status).toBe(200);
    expect((await call(other, key, SESSIONS, { id: user.user.id })).status).toBe(200);
    expect(await admin("revoke-key", prefix)).toEqual({ code: 0, lines: [`revoked service key ${prefix}`] });
    for (const instance of [server, other]) {
      const res = await call(instance, key, SESSIONS, { id: user.user.id });
      expect(res).toMatchObject({
        status: 401,
        errors: [{ extensions: { code: "UNAUTHENTICATED", reason: "SERVICE_KEY_REVOKED" } }],
      });
      expect(res.data).toBeUndefined();
    }
    expect((await admin("revoke-key", prefix)).code).toBe(1);
  }, 30_000);

  it("refuses a malformed, unknown or tampered key as SERVICE_KEY_INVALID", async () => {
    const { key } = await createKey("sessions:read");
    const tampered = `${key.slice(0, -1)}${key.endsWith("A") ? "B" : "A"}`;
    for (const bad of ["nonsense", "sak_000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", tampered]) {
      const res = await call(server, bad, "{ serviceKey { name } }");
      expect([res.status, res.errors?.[0].extensions.reason]).toEqual([401, "SERVICE_KEY_INVALID"]);
    }
  }, 30_000);

  it("is throttled per key, with a Retry-After", async () => {
    const { key } = await createKey("sessions:read");
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 4; i++) {
      const res = await call(other, key, "{ serviceKey { name } }");
      statuses.push(res.status);
      retryAfter ??= res.headers.get("retry-after");
      if (res.status === 429) expect(res.errors?.[0].extensions.code).toBe("RATE_LIMITED");
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
  }, 30_000);

  it("logs every request it makes under its prefix, never the key", async () => {
    const { key, prefix } = await createKey("sessions:read");
    await server.post(
      { query: "query Who { serviceKey { name } }", operationName: "Who" },
      { headers: { authorization: `ApiKey ${key}` } },
    );
    const entries = logLines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(entries).toContainEqual(
      expect.objectContaining({ msg: "service key request", serviceKey: prefix, name: "billing", operation: "Who" }),
    );
    expect(logLines.join("\n")).not.toContain(key.slice(`sak_${prefix}_`.length));
  }, 30_000);
});
