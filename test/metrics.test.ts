import { LoginDocument, LogoutDocument, MeDocument, RefreshSessionDocument } from "./gql/graphql";
import { liveClients, untilSubscribedAs } from "./support/live-client";
import { sharedWith, startTestServer, type TestServer } from "./support/test-server";
import { signIn, signUp } from "./support/users";
import { closeVerifiers, createServiceKey, openVerifiers, startVerifier } from "./support/verifier";
import { eventually } from "./support/wait";

/**
 * Prometheus metrics on a port of their own (METRICS_PORT), scraped from two real instances
 * after real operations: the counters move by what was done, nothing more.
 */
let a: TestServer;
let b: TestServer;
let plain: TestServer;
const live = liveClients(() => b);

beforeAll(async () => {
  const env = { METRICS_PORT: "0", REFRESH_REUSE_GRACE: "0" };
  a = await startTestServer(env);
  b = await startTestServer(env, sharedWith(a));
  plain = await startTestServer();
});
afterAll(async () => {
  await closeVerifiers();
  await live.disposeAll();
  await plain.stop();
  await b.stop();
  await a.stop();
});

type Samples = Map<string, number>;

/** GET /metrics, as `name{labels}` → value (labels as Prometheus writes them). */
async function scrape(server: TestServer): Promise<Samples> {
  const res = await fetch(server.metricsUrl!);
  expect(res.headers.get("content-type")).toContain("text/plain; version=0.0.4");
  const samples: Samples = new Map();
  for (const line of (await res.text()).split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const at = line.lastIndexOf(" ");
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return samples;
}

const value = (samples: Samples, key: string) => samples.get(key) ?? 0;

it("serves nothing unless METRICS_PORT is set, and never on the API's port", async () => {
  expect(plain.metricsUrl).toBeUndefined();
  expect((await fetch(new URL("/metrics", a.url))).status).toBe(404);
  expect((await fetch(new URL("/other", a.metricsUrl!))).status).toBe(404);
});

it("counts logins, failed logins by reason, registrations, refreshes and refresh-token reuse", async () => {
  const before = await scrape(a);
  const user = await signUp(a);
  await signIn(a, user.email);
  await a.request(LoginDocument, { input: { email: user.email, password: "not the password" } });
  const refreshed = await a.request(RefreshSessionDocument, { refreshToken: user.refreshToken });
  expect(refreshed.data?.refreshSession).toBeTruthy();
  const replayed = await a.request(RefreshSessionDocument, { refreshToken: user.refreshToken });
  expect(replayed.errors?.[0].extensions.reason).toBe("REFRESH_TOKEN_REUSE");

  const after = await scrape(a);
  const delta = (key: string) => value(after, key) - value(before, key);
  expect({
    registrations: delta("session_api_registrations_total"),
    logins: delta("session_api_logins_total"),
    invalidCredentials: delta('session_api_login_failures_total{reason="INVALID_CREDENTIALS"}'),
    refreshes: delta("session_api_session_refreshes_total"),
    reuse: delta("session_api_refresh_token_reuse_total"),
    reuseFailures: delta('session_api_session_refresh_failures_total{reason="REFRESH_TOKEN_REUSE"}'),
    revokedForReuse: delta('session_api_sessions_revoked_total{reason="REFRESH_TOKEN_REUSE"}'),
    mutationsAnswered200: delta('session_api_http_request_duration_seconds_count{operation="mutation",status="200"}'),
    mutationsAnswered401: delta('session_api_http_request_duration_seconds_count{operation="mutation",status="401"}'),
  }).toEqual({
    registrations: 1,
    logins: 1,
    invalidCredentials: 1,
    refreshes: 1,
    reuse: 1,
    reuseFailures: 1,
    revokedForReuse: 1,
    mutationsAnswered200: 4,
    mutationsAnswered401: 1, // the replayed refresh token
  });
});

it("times a logout on one instance until its event is written to a socket on the other, and the wait for acknowledgements", async () => {
  const user = await signUp(a);
  const other = await signIn(a, user.email);
  const socket = live.open(other.accessToken, b).subscribe();
  await untilSubscribedAs(a, user.email, [socket]);
  const beforeA = await scrape(a);
  const beforeB = await scrape(b);
  expect(value(beforeB, "session_api_live_sockets")).toBe(1);
  expect(value(beforeB, "session_api_live_subscriptions")).toBe(1);

  await a.request(LogoutDocument, {}, { token: user.accessToken });
  await socket.eventFor(user.session.id, 2000);
  await eventually(async () => {
    const afterB = await scrape(b);
    expect(
      value(afterB, "session_api_revocation_delivery_seconds_count") -
        value(beforeB, "session_api_revocation_delivery_seconds_count"),
    ).toBe(1);
  });
  const afterA = await scrape(a);
  expect({
    logouts:
      value(afterA, 'session_api_sessions_revoked_total{reason="LOGOUT"}') -
      value(beforeA, 'session_api_sessions_revoked_total{reason="LOGOUT"}'),
    confirmWaits:
      value(afterA, "session_api_revocation_confirm_wait_seconds_count") -
      value(beforeA, "session_api_revocation_confirm_wait_seconds_count"),
    // B acknowledged well within the lease: the wait is in the histogram's lower buckets.
    confirmedWithinLease:
      value(afterA, 'session_api_revocation_confirm_wait_seconds_bucket{le="1"}') -
      value(beforeA, 'session_api_revocation_confirm_wait_seconds_bucket{le="1"}'),
  }).toEqual({ logouts: 1, confirmWaits: 1, confirmedWithinLease: 1 });
});

it("reports the cache, the listener and its lease, the pool and the statements' durations", async () => {
  const user = await signUp(a);
  const before = await scrape(a);
  await a.request(MeDocument, {}, { token: user.accessToken });
  await a.request(MeDocument, {}, { token: user.accessToken });
  const after = await scrape(a);
  expect(value(after, "session_api_session_cache_hits_total")).toBeGreaterThan(
    value(before, "session_api_session_cache_hits_total"),
  );
  expect(value(after, "session_api_session_cache_entries")).toBeGreaterThan(0);
  expect(value(after, "session_api_db_query_duration_seconds_count")).toBeGreaterThan(
    value(before, "session_api_db_query_duration_seconds_count"),
  );
  expect({
    listener: value(after, "session_api_revocation_listener_connected"),
    lease: value(after, "session_api_revocation_lease_held"),
    reconnects: value(after, "session_api_revocation_listener_reconnects_total"),
    poolWaiting: value(after, "session_api_db_pool_waiting_requests"),
    poolOpen: value(after, "session_api_db_pool_connections") > 0,
    processMetrics: after.has("session_api_process_cpu_user_seconds_total"),
  }).toEqual({ listener: 1, lease: 1, reconnects: 0, poolWaiting: 0, poolOpen: true, processMetrics: true });

  // The listener's reconnect is counted once it is back.
  const pid = a.fanout.backendPid;
  await a.sql("SELECT pg_terminate_backend($1)", [pid]);
  await eventually(async () => {
    const now = await scrape(a);
    expect([
      value(now, "session_api_revocation_listener_reconnects_total"),
      value(now, "session_api_revocation_listener_connected"),
    ]).toEqual([1, 1]);
  }, 5000);
});

it("counts the backend verifiers streaming from an instance, and drops one that leaves", async () => {
  expect(value(await scrape(a), "session_api_verifiers_connected")).toBe(0);
  const verifier = await startVerifier(a, await createServiceKey(a, ["sessions:stream"]));
  expect(value(await scrape(a), "session_api_verifiers_connected")).toBe(1);
  expect(value(await scrape(b), "session_api_verifiers_connected")).toBe(0);
  await verifier.close();
  openVerifiers.delete(verifier);
  await eventually(async () => expect(value(await scrape(a), "session_api_verifiers_connected")).toBe(0));
});
