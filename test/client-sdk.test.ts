import WebSocket from "ws";
import {
  type AuthEvent,
  createSessionClient,
  type SessionClient,
  SessionClientError,
  type SessionClientOptions,
  type TokenStorage,
} from "../client/src/index";
import { generateSigningKey } from "../src/lib/signing-keys";
import { LogoutDocument, MeDocument, RevokeSessionDocument, SessionRevokedDocument } from "./gql/graphql";
import { startTcpProxy, type TcpProxy } from "./support/tcp-proxy";
import { createTestSchema, databaseUrl, startTestServer, type TestServer } from "./support/test-server";
import { PASSWORD, signIn, signUp, uniqueEmail } from "./support/users";
import { sleep, until } from "./support/wait";

/**
 * Short real lifetimes: a 3 s access token, a session fresh for 2 s, lockout after 3 failures;
 * and 10 s for connection_init, so a slow one can arrive after its token expired.
 */
const ENV = {
  ACCESS_TOKEN_TTL: "3",
  FRESH_SESSION_TTL: "2",
  LOGIN_MAX_FAILURES_PER_ACCOUNT: "3",
  WS_CONNECTION_INIT_TIMEOUT: "10",
};

let server: TestServer;
const disposers: (() => unknown)[] = [];
beforeAll(async () => {
  server = await startTestServer(ENV);
});
afterAll(async () => {
  for (const dispose of disposers.splice(0)) await dispose();
  await server.stop();
});

type TestClient = SessionClient & { events: AuthEvent[] };

/** A memory-mode client of `on`, with `ws` for its live connection; disposed after the file. */
function client(options: Partial<SessionClientOptions> = {}, on: TestServer = server): TestClient {
  const auth = createSessionClient({ url: on.url, transport: "memory", webSocketImpl: WebSocket, ...options });
  disposers.push(() => auth.dispose());
  const events: AuthEvent[] = [];
  auth.onAuthStateChange((event) => events.push(event));
  return Object.assign(auth, { events });
}

/** A WebSocket class that counts the sockets the SDK opens. */
function countingWebSocket() {
  const count = { opened: 0 };
  class CountedWebSocket extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols);
      count.opened++;
    }
  }
  return { impl: CountedWebSocket, count };
}

/**
 * A WebSocket class over a slow network: the first socket's first message leaves `ms` late.
 * Records how the server closed each socket.
 */
function slowFirstMessage(ms: number) {
  const count = { opened: 0 };
  const closes: { code: number; reason: string }[] = [];
  class SlowWebSocket extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols);
      count.opened++;
      this.on("close", (code, reason) => closes.push({ code, reason: reason.toString() }));
    }
    override send(data: unknown): void {
      if (count.opened === 1) setTimeout(() => super.send(data as string), ms);
      else super.send(data as string);
    }
  }
  return { impl: SlowWebSocket, count, closes };
}

/**
 * The app's fetch over a network the test can slow down: the next request waits `ms` before
 * it leaves. Records every answer's HTTP status.
 */
function slowNetwork() {
  let delay = 0;
  const statuses: number[] = [];
  const slowFetch: typeof fetch = async (input, init) => {
    const wait = delay;
    delay = 0;
    if (wait) await sleep(wait);
    const response = await fetch(input, init);
    statuses.push(response.status);
    return response;
  };
  return { fetch: slowFetch, statuses, delayNextBy: (ms: number) => (delay = ms) };
}

/** Storage shared by clients, like localStorage shared by the tabs of a browser. */
function sharedStorage(): TokenStorage & { values: Map<string, string> } {
  const values = new Map<string, string>();
  return {
    values,
    get: async (key) => values.get(key) ?? null,
    set: async (key, value) => void values.set(key, value),
    remove: async (key) => void values.delete(key),
  };
}

/**
 * Waits until `auth`'s live subscription is active: ends throwaway sessions of the user until
 * the SDK reports one as another session ended.
 */
async function untilLive(auth: TestClient, email: string, on: TestServer = server): Promise<void> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const other = await signIn(on, email);
    await on.request(LogoutDocument, {}, { token: other.accessToken });
    const heard = () => auth.events.some((e) => e.type === "OTHER_SESSION_ENDED" && e.sessionId === other.session.id);
    if (
      await until(heard, 500).then(
        () => true,
        () => false,
      )
    )
      return;
  }
  throw new Error("the live subscription did not become active");
}

async function sessionRow(on: TestServer, sessionId: string) {
  const [row] = await on.sql<{ revoked_reason: string | null }>("SELECT revoked_reason FROM sessions WHERE id = $1", [sessionId]);
  return row;
}

describe("signing in", () => {
  it("signs up, answers the signed-in state, and runs typed requests with the token", async () => {
    const auth = client();
    const email = uniqueEmail();
    const state = await auth.signUp({ email, password: PASSWORD, deviceName: "node" });
    expect(state).toEqual({
      status: "signed-in",
      user: { id: expect.any(String), email, createdAt: expect.any(String) },
      sessionId: expect.any(String),
    });
    expect(auth.state).toBe(state);
    expect((await auth.request(MeDocument)).me).toEqual(state.user);
    expect(auth.events).toEqual([{ type: "SIGNED_IN", sessionId: state.sessionId }]);
  });

  it("signs in to an existing account with a new session, and restores it from storage in another client", async () => {
    const user = await signUp(server);
    const storage = sharedStorage();
    const auth = client({ storage });
    const state = await auth.signIn({ email: user.email, password: PASSWORD });
    expect(state.user?.id).toBe(user.user.id);
    expect(state.sessionId).not.toBe(user.session.id);
    // The refresh token, and this device's long-lived id (memory mode keeps it itself).
    expect([...storage.values.keys()].sort()).toEqual(["session-api.device-id", "session-api.refresh-token"]);

    const restarted = client({ storage });
    expect(restarted.state.status).toBe("unknown");
    expect(await restarted.restore()).toEqual(state);
    expect(restarted.events).toEqual([{ type: "SIGNED_IN", sessionId: state.sessionId }]);
  });

  it("restores to signed-out when nothing is stored, and then has no token", async () => {
    const auth = client();
    expect(await auth.restore()).toEqual({ status: "signed-out", user: null, sessionId: null });
    expect(auth.events).toEqual([{ type: "SIGNED_OUT" }]);
    expect(await auth.getAccessToken()).toBeNull();
  });
});

describe("typed errors", () => {
  it("tells wrong credentials from rate limiting, which carries retryAfter", async () => {
    const user = await signUp(server);
    const auth = client();
    const attempt = () =>
      auth.signIn({ email: user.email, password: "not the password" }).then(
        () => null,
        (e: unknown) => e,
      );
    const wrong = await attempt();
    expect(wrong).toBeInstanceOf(SessionClientError);
    expect(wrong).toMatchObject({
      code: "INVALID_CREDENTIALS",
      retryAfter: undefined,
      needsReauthentication: false,
      isUnavailable: false,
    });
    let error = wrong as SessionClientError;
    for (let i = 0; i < 5 && error.code === "INVALID_CREDENTIALS"; i++) error = (await attempt()) as SessionClientError;
    expect(error).toMatchObject({ code: "RATE_LIMITED", status: 429 });
    expect(error.retryAfter).toBeGreaterThan(0);
    expect(auth.state.status).toBe("unknown");
  });

  it("says a stale session needs reauthenticate; after it, signOutOtherDevices ends the others and their events reach listeners", async () => {
    const user = await signUp(server);
    const second = await signIn(server, user.email);
    const auth = client();
    await auth.signIn({ email: user.email, password: PASSWORD });
    await untilLive(auth, user.email);
    await sleep(2100); // past FRESH_SESSION_TTL

    const stale = await auth.signOutOtherDevices().then(
      () => null,
      (e: unknown) => e,
    );
    expect(stale).toMatchObject({ code: "FORBIDDEN", reason: "SESSION_NOT_FRESH", needsReauthentication: true });
    await expect(auth.reauthenticate("not the password")).rejects.toMatchObject({ code: "INVALID_CREDENTIALS" });
    await auth.reauthenticate(PASSWORD);
    expect(await auth.signOutOtherDevices()).toBe(2);

    const ended = () =>
      auth.events.filter((e) => e.type === "OTHER_SESSION_ENDED" && e.reason === "LOGOUT_ALL").map((e) => e.sessionId);
    await until(() => ended().length === 2, 2000);
    expect(ended().sort()).toEqual([user.session.id, second.session.id].sort());
    expect(auth.state.status).toBe("signed-in");
  });
});

describe("access tokens", () => {
  it("refreshes ahead of expiry: getAccessToken gives a new token while the old one still works", async () => {
    const auth = client({ live: false });
    await auth.signUp({ email: uniqueEmail(), password: PASSWORD });
    const first = await auth.getAccessToken();
    expect(await auth.getAccessToken()).toBe(first);
    await sleep(1500); // within the last fifth of the token's life (3 s, less a second for iat rounding)
    const second = await auth.getAccessToken();
    expect(second).not.toBe(first);
    expect((await server.request(MeDocument, {}, { token: first! })).status).toBe(200);
    expect(auth.events.map((e) => e.type)).toEqual(["SIGNED_IN", "TOKEN_REFRESHED"]);
  });

  it("refreshes once and retries when a request reaches the server after its token expired (TOKEN_EXPIRED)", async () => {
    const network = slowNetwork();
    const auth = client({ live: false, fetch: network.fetch });
    const state = await auth.signUp({ email: uniqueEmail(), password: PASSWORD });
    await sleep(1000); // the token has 1 s of local life left: sent as it is
    network.delayNextBy(2500); // and arrives after it expired
    expect((await auth.request(MeDocument)).me.id).toBe(state.user!.id);
    expect(network.statuses).toEqual([200, 401, 200, 200]); // signUp, me refused, refresh, me
    expect(auth.events.map((e) => e.type)).toEqual(["SIGNED_IN", "TOKEN_REFRESHED"]);
  });

  it("keeps two clients sharing one storage signed in when their refreshes race (REFRESH_TOKEN_ROTATED)", async () => {
    const storage = sharedStorage();
    const networks = [slowNetwork(), slowNetwork()];
    const [a, b] = networks.map((network) => client({ storage, live: false, fetch: network.fetch }));
    const state = await a.signUp({ email: uniqueEmail(), password: PASSWORD });
    await b.restore();
    await sleep(1500); // both tokens due for a refresh
    const [tokenA, tokenB] = await Promise.all([a.getAccessToken(), b.getAccessToken()]);
    expect(networks.flatMap((n) => n.statuses)).toContain(409);
    for (const token of [tokenA, tokenB]) expect((await server.request(MeDocument, {}, { token: token! })).status).toBe(200);
    for (const auth of [a, b]) {
      expect(auth.state).toMatchObject({ status: "signed-in", sessionId: state.sessionId });
      expect(auth.events.filter((e) => e.type === "SIGNED_OUT")).toEqual([]);
    }
    expect(await sessionRow(server, state.sessionId!)).toEqual({ revoked_reason: null });
  });
});

describe("signing out", () => {
  it("signs out locally at once and ends the server session, even with an expired access token", async () => {
    const storage = sharedStorage();
    const signedOut: AuthEvent[] = [];
    const auth = client({ storage, live: false, onSignedOut: (event) => void signedOut.push(event) });
    const state = await auth.signUp({ email: uniqueEmail(), password: PASSWORD });
    const refreshToken = storage.values.get("session-api.refresh-token");
    await sleep(3100); // the access token has expired
    const done = auth.signOut();
    expect(auth.state).toEqual({ status: "signed-out", user: null, sessionId: null });
    await done;
    // No credential is left; the device id stays: the device is the same after a sign-out.
    expect([...storage.values.keys()]).toEqual(["session-api.device-id"]);
    expect(signedOut).toEqual([{ type: "SIGNED_OUT", reason: "LOGOUT", sessionId: state.sessionId }]);
    expect(auth.events.at(-1)).toEqual({ type: "SIGNED_OUT", reason: "LOGOUT", sessionId: state.sessionId });
    expect(await sessionRow(server, state.sessionId!)).toEqual({ revoked_reason: "LOGOUT" });
    expect(refreshToken).toEqual(expect.any(String));
    expect(await auth.getAccessToken()).toBeNull();
  });

  it("signs out the other clients sharing its storage and channel, as signed out in another tab", async () => {
    const storage = sharedStorage();
    const [a, b] = [0, 1].map(() => client({ storage, live: false, crossTab: true, url: server.url }));
    const state = await a.signUp({ email: uniqueEmail(), password: PASSWORD });
    await until(() => b.state.status === "signed-in", 2000); // the sign-in reached b over the channel
    expect(b.events).toEqual([{ type: "SIGNED_IN", sessionId: state.sessionId }]);
    await a.signOut();
    await until(() => b.state.status === "signed-out", 2000);
    expect(b.events.at(-1)).toEqual({ type: "SIGNED_OUT", reason: "SIGNED_OUT_IN_ANOTHER_TAB", sessionId: state.sessionId });
  });
});

describe("the live connection", () => {
  it("signs out within a second, with the reason, when another device revokes the session, and connects no more", async () => {
    const sockets = countingWebSocket();
    const user = await signUp(server);
    const auth = client({ webSocketImpl: sockets.impl });
    const state = await auth.signIn({ email: user.email, password: PASSWORD });
    await untilLive(auth, user.email);
    const opened = sockets.count.opened;

    const revokedAt = Date.now();
    const other = await signIn(server, user.email); // fresh, so it may end another session
    await server.request(RevokeSessionDocument, { id: state.sessionId! }, { token: other.accessToken });
    await until(() => auth.state.status === "signed-out", 1000);
    expect(Date.now() - revokedAt).toBeLessThan(1000);
    expect(auth.events.at(-1)).toEqual({ type: "SIGNED_OUT", reason: "REVOKED", sessionId: state.sessionId });
    await sleep(1500);
    expect(sockets.count.opened).toBe(opened);
  });

  it("runs the app's own subscriptions over its connection, and completes them on sign-out", async () => {
    const user = await signUp(server);
    const auth = client();
    await auth.signIn({ email: user.email, password: PASSWORD });
    const heard: string[] = [];
    let completed = false;
    auth.subscribe(
      SessionRevokedDocument,
      {},
      {
        next: (result) => void heard.push(result.data!.sessionRevoked.sessionId),
        error: (error) => {
          throw error;
        },
        complete: () => (completed = true),
      },
    );
    await untilLive(auth, user.email);
    const other = await signIn(server, user.email);
    await server.request(LogoutDocument, {}, { token: other.accessToken });
    await until(() => heard.includes(other.session.id), 2000);
    await auth.signOut();
    await until(() => completed, 2000);
  });

  it("refreshes and reconnects at once, staying signed in, when connection_init arrives after its token expired (4403 TOKEN_EXPIRED)", async () => {
    const sockets = slowFirstMessage(3500);
    const user = await signUp(server);
    const auth = client({ webSocketImpl: sockets.impl });
    await auth.signIn({ email: user.email, password: PASSWORD });
    await until(() => sockets.count.opened === 2, 6000);
    expect(sockets.closes).toEqual([{ code: 4403, reason: "TOKEN_EXPIRED" }]);
    await untilLive(auth, user.email);
    expect(auth.state.status).toBe("signed-in");
    expect(auth.events.filter((e) => e.type === "TOKEN_REFRESHED").length).toBe(1);
    expect(sockets.count.opened).toBe(2);
  });

  it("signs out and never retries when its session is found revoked at connect (4403 SESSION_REVOKED)", async () => {
    await restarting(async (restart, current) => {
      const sockets = countingWebSocket();
      const user = await signUp(current());
      const auth = client({ webSocketImpl: sockets.impl }, current());
      const state = await auth.signIn({ email: user.email, password: PASSWORD });
      await untilLive(auth, user.email, current());
      // Revoked in the database behind the server's back, so no event is ever published for
      // it; the restarted server reads it from there.
      await current().sql("UPDATE sessions SET revoked_at = now(), revoked_reason = 'REVOKED' WHERE id = $1", [state.sessionId]);
      await restart(async () => undefined);
      await until(() => auth.state.status === "signed-out", 10_000);
      expect(auth.events.at(-1)).toEqual({ type: "SIGNED_OUT", reason: "REVOKED", sessionId: state.sessionId });
      const opened = sockets.count.opened;
      await sleep(2000);
      expect(sockets.count.opened).toBe(opened);
    });
  });

  it("reconnects after a server restart (1001) with a fresh token, and hears revocations again", async () => {
    await restarting(
      async (restart, current) => {
        const user = await signUp(current());
        const auth = client({}, current());
        const state = await auth.signIn({ email: user.email, password: PASSWORD });
        await untilLive(auth, user.email, current());
        await restart(() => sleep(3100)); // down until the access token has expired
        await untilLive(auth, user.email, current());
        expect(auth.events.filter((e) => e.type === "TOKEN_REFRESHED").length).toBeGreaterThan(0);
        const other = await signIn(current(), user.email);
        await current().request(RevokeSessionDocument, { id: state.sessionId! }, { token: other.accessToken });
        await until(() => auth.state.status === "signed-out", 1000);
        expect(auth.events.at(-1)).toMatchObject({ type: "SIGNED_OUT", reason: "REVOKED" });
      },
      { ACCESS_TOKEN_TTL: "2" },
    );
  });
});

describe("account security (issue 18)", () => {
  it("onSessionCreated hears a sign-in on another device, never its own; secureAccount signs that device out with SECURITY_CONCERN", async () => {
    const user = await signUp(server);
    const owner = client();
    await owner.signIn({ email: user.email, password: PASSWORD });
    await untilLive(owner, user.email);
    const created: { id: string; newDevice: boolean }[] = [];
    owner.onSessionCreated((event) => created.push({ id: event.session.id, newDevice: event.newDevice }));

    const thief = client();
    const thiefState = await thief.signIn({ email: user.email, password: PASSWORD, deviceName: "thief" });
    await until(() => created.some((e) => e.id === thiefState.sessionId), 2000);
    expect(created.find((e) => e.id === thiefState.sessionId)).toEqual({ id: thiefState.sessionId, newDevice: true });
    expect(created.some((e) => e.id === owner.state.sessionId)).toBe(false);
    await untilLive(thief, user.email);

    expect(await owner.secureAccount()).toBeGreaterThanOrEqual(1);
    await until(() => thief.state.status === "signed-out", 2000);
    expect(thief.events.at(-1)).toEqual({ type: "SIGNED_OUT", reason: "SECURITY_CONCERN", sessionId: thiefState.sessionId });
    expect(owner.state.status).toBe("signed-in");
  });

  it("keeps the device id in memory mode, so the next sign-in from the same storage is a known device; rememberMe reaches the server", async () => {
    const user = await signUp(server);
    const storage = sharedStorage();
    const first = client({ storage, live: false });
    const one = await first.signIn({ email: user.email, password: PASSWORD, rememberMe: false });
    const deviceId = storage.values.get("session-api.device-id");
    expect(deviceId).toMatch(/^[A-Za-z0-9_-]{43}$/);
    await first.signOut();
    const second = client({ storage, live: false });
    const two = await second.signIn({ email: user.email, password: PASSWORD });
    expect(storage.values.get("session-api.device-id")).toBe(deviceId);
    const rows = await server.sql<{ id: string; new_device: boolean; persistent: boolean }>(
      "SELECT id, new_device, persistent FROM sessions WHERE id = ANY($1) ORDER BY created_at",
      [[one.sessionId, two.sessionId]],
    );
    expect(rows).toEqual([
      { id: one.sessionId, new_device: true, persistent: false },
      { id: two.sessionId, new_device: false, persistent: true },
    ]);
  });
});

describe("without a live connection", () => {
  it("checks the session every checkInterval seconds when no socket can be held, and signs out with the server's reason", async () => {
    const user = await signUp(server);
    // Nothing listens on port 9: every WebSocket attempt fails, as behind a proxy that blocks them.
    const auth = client({ wsUrl: "ws://127.0.0.1:9/graphql", checkInterval: 1 });
    const state = await auth.signIn({ email: user.email, password: PASSWORD });
    const other = await signIn(server, user.email);
    await server.request(RevokeSessionDocument, { id: state.sessionId! }, { token: other.accessToken });
    await until(() => auth.state.status === "signed-out", 2500);
    expect(auth.events.at(-1)).toEqual({ type: "SIGNED_OUT", reason: "REVOKED", sessionId: state.sessionId });
  });
});

/**
 * Runs `body` against a server it can restart on the same port and database: `restart(whileDown)`
 * stops it (sockets closed with 1001), runs `whileDown`, and starts it again.
 */
async function restarting(
  body: (restart: (whileDown: () => Promise<unknown>) => Promise<void>, current: () => TestServer) => Promise<void>,
  env: Record<string, string> = {},
): Promise<void> {
  const schema = await createTestSchema();
  const signingKeys = generateSigningKey("ES256");
  let running = await startTestServer(env, { dbSchema: schema.name, signingKeys });
  const port = new URL(running.url).port;
  try {
    await body(
      async (whileDown) => {
        await running.stop();
        await whileDown();
        running = await startTestServer({ ...env, PORT: port }, { dbSchema: schema.name, signingKeys });
      },
      () => running,
    );
  } finally {
    for (const dispose of disposers.splice(0)) await dispose();
    await running.stop();
    await schema.drop();
  }
}

describe("when the server cannot reach its database", () => {
  let proxy: TcpProxy;
  let degraded: TestServer;
  beforeAll(async () => {
    const url = new URL(databaseUrl());
    proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port || 5432) });
    url.host = `127.0.0.1:${proxy.port}`;
    degraded = await startTestServer({}, { databaseUrl: url.toString() });
  });
  afterAll(async () => {
    proxy.restore();
    await degraded.stop();
    await proxy.close();
  });

  it("reports SERVICE_UNAVAILABLE as such, and stays signed in", async () => {
    const auth = client({ live: false }, degraded);
    await auth.signUp({ email: uniqueEmail(), password: PASSWORD });
    proxy.cut();
    let error: unknown;
    for (let i = 0; i < 20; i++) {
      error = await auth.request(MeDocument).then(
        () => undefined,
        (e: unknown) => e,
      );
      if (error) break;
      await sleep(100);
    }
    expect(error).toBeInstanceOf(SessionClientError);
    expect(error).toMatchObject({ code: "SERVICE_UNAVAILABLE", status: 503, isUnavailable: true });
    expect(auth.state.status).toBe("signed-in");
    proxy.restore();
  });
});
