import { generateSigningKey } from "../src/lib/signing-keys";
import { LoginDocument, LogoutDocument, MeDocument, RefreshSessionDocument, RevokeSessionDocument } from "./gql/graphql";
import { liveClients, untilSubscribedAs } from "./support/live-client";
import { type PgBouncer, startPgBouncer } from "./support/pgbouncer";
import { createTestSchema, databaseUrl, startTestServer, type TestServer } from "./support/test-server";
import { PASSWORD, signIn, signUp } from "./support/users";

/**
 * Behind a transaction pooler (PgBouncer from Debian's package, transaction mode): DATABASE_URL
 * is the pooler, DATABASE_LISTEN_URL the direct connection for LISTEN, the leases and the
 * migration lock. Two instances run the core lifecycle, cross-instance revocation and the
 * throttle through it. PgBouncer before 1.21 keeps no prepared statements: named ones are off.
 */
let schema: { name: string; drop(): Promise<void> };
let pooler: PgBouncer;
let a: TestServer;
let b: TestServer;
const live = liveClients(() => b);
const POOLED_ENV = {
  DATABASE_LISTEN_URL: databaseUrl(),
  DATABASE_PREPARED_STATEMENTS: "false",
  LOGIN_MAX_FAILURES_PER_ACCOUNT: "3",
};

beforeAll(async () => {
  schema = await createTestSchema();
  pooler = await startPgBouncer(databaseUrl(), schema.name);
  const signingKeys = generateSigningKey("ES256");
  [a, b] = await Promise.all(
    [1, 2].map(() => startTestServer(POOLED_ENV, { dbSchema: schema.name, signingKeys, databaseUrl: pooler.url })),
  );
}, 40_000);
afterAll(async () => {
  await live.disposeAll();
  await b?.stop();
  await a?.stop();
  await pooler?.stop();
  await schema?.drop();
});

it("refuses to start on a transaction pooler without DATABASE_LISTEN_URL, saying what to set", async () => {
  await expect(startTestServer({}, { dbSchema: schema.name, databaseUrl: pooler.url })).rejects.toThrow(
    "DATABASE_URL leads to a transaction pooler",
  );
  await expect(startTestServer({}, { dbSchema: schema.name, databaseUrl: pooler.url })).rejects.toThrow(
    "Set DATABASE_LISTEN_URL to a direct URL",
  );
});

it("runs the core lifecycle through the pooler: register, me, refresh, logout, refused afterwards", async () => {
  const user = await signUp(a);
  expect((await b.request(MeDocument, {}, { token: user.accessToken })).data?.me?.email).toBe(user.email);
  const refreshed = await b.request(RefreshSessionDocument, { refreshToken: user.refreshToken });
  const token = refreshed.data?.refreshSession.accessToken;
  expect(token).toEqual(expect.any(String));
  expect((await a.request(LogoutDocument, {}, { token })).data?.logout).toBe(true);
  const after = await b.request(MeDocument, {}, { token });
  expect(after.errors?.[0].extensions).toEqual({ code: "UNAUTHENTICATED", reason: "SESSION_REVOKED" });
});

it("revokes across instances through the pooler: the other instance refuses at once and its socket hears it", async () => {
  const laptop = await signUp(a);
  const phone = await signIn(a, laptop.email);
  expect((await b.request(MeDocument, {}, { token: phone.accessToken })).status).toBe(200);
  const phoneLive = live.open(phone.accessToken, b).subscribe();
  await untilSubscribedAs(a, laptop.email, [phoneLive]);

  await a.request(RevokeSessionDocument, { id: phone.session.id }, { token: laptop.accessToken });
  const res = await b.request(MeDocument, {}, { token: phone.accessToken });
  expect(res.errors?.[0].extensions).toEqual({ code: "UNAUTHENTICATED", reason: "SESSION_REVOKED" });
  expect(await phoneLive.eventFor(phone.session.id)).toMatchObject({ reason: "REVOKED", current: true });
  expect(await phoneLive.closedWithin()).toEqual({ code: 4403, reason: "SESSION_REVOKED" });
});

it("throttles logins across instances through the pooler", async () => {
  const user = await signUp(a);
  const wrong = (server: TestServer) =>
    server.request(LoginDocument, { input: { email: user.email, password: "not the password" } });
  const codes = [];
  for (const server of [a, b, a]) codes.push((await wrong(server)).errors?.[0].extensions.code);
  const locked = await b.request(LoginDocument, { input: { email: user.email, password: PASSWORD } });
  expect([...codes, locked.errors?.[0].extensions.code]).toEqual([
    "INVALID_CREDENTIALS",
    "INVALID_CREDENTIALS",
    "INVALID_CREDENTIALS",
    "RATE_LIMITED",
  ]);
});
