import { randomUUID } from "node:crypto";
import { print } from "graphql";
import { type ClientOptions, createClient } from "graphql-ws";
import WebSocket from "ws";
import { LogoutDocument, MeDocument, RevokeSessionDocument, SessionRevokedDocument } from "./gql/graphql";
import { type Closed, type LiveClient, liveClients, untilSubscribedAs } from "./support/live-client";
import { startTestServer, type TestServer } from "./support/test-server";
import {
  b64,
  accessClaims as claims,
  forgeToken,
  nowSeconds as now,
  serverSigned,
  serverSigningKey,
  strangerKey,
} from "./support/tokens";
import { signIn, signUp } from "./support/users";
import { sleep, until } from "./support/wait";

let server: TestServer;
const live = liveClients(() => server);
const raw: WebSocket[] = [];
beforeAll(async () => {
  server = await startTestServer({ WS_CONNECTION_INIT_TIMEOUT: "1" });
});
const clients: { dispose(): unknown }[] = [];
afterAll(async () => {
  for (const socket of raw) socket.terminate();
  await Promise.all(clients.map((client) => client.dispose()));
  await live.disposeAll();
  await server.stop();
});

/** A bare graphql-transport-ws socket, for what the real client never sends. */
function rawSocket(): { socket: WebSocket; opened: Promise<void>; closed: Promise<Closed> } {
  const socket = new WebSocket(server.wsUrl, "graphql-transport-ws");
  raw.push(socket);
  return {
    socket,
    opened: new Promise((resolve, reject) => socket.once("open", () => resolve()).once("error", reject)),
    closed: new Promise((resolve) => socket.once("close", (code, reason) => resolve({ code, reason: reason.toString() }))),
  };
}

type Message = { type: string; id?: string; payload?: unknown };

/**
 * A token the server signed for the user's session that expires within 1.5 to 2.5 s, and a
 * wait for that moment: a token that expires while its socket is open.
 */
function shortLivedToken(user: { user: { id: string }; session: { id: string } }) {
  const { token, expiresAt } = server.services.accessTokens.sign(
    { userId: user.user.id, sessionId: user.session.id },
    new Date(Date.now() + 2500),
  );
  return { token, expired: () => sleep(Math.max(0, expiresAt.getTime() - Date.now()) + 50) };
}

/** A raw socket whose connection_init with the user's token has been acknowledged. */
async function ackedSocket(user: { accessToken: string }) {
  const { socket, opened, closed } = rawSocket();
  await opened;
  const messages: Message[] = [];
  socket.on("message", (data) => messages.push(JSON.parse(String(data))));
  const got = (type: string) =>
    new Promise<Message>((resolve) => {
      const check = () => {
        const found = messages.find((m) => m.type === type);
        if (found) resolve(found);
        else setTimeout(check, 10);
      };
      check();
    });
  socket.send(JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${user.accessToken}` } }));
  await got("connection_ack");
  return { socket, closed, got };
}

const subscribed = (user: Awaited<ReturnType<typeof signUp>>, client: LiveClient) =>
  untilSubscribedAs(server, user.email, [client]);

describe("connection_init is authenticated by the same context builder as HTTP", () => {
  it("acknowledges a genuine token (the control for the refusals below)", async () => {
    const user = await signUp(server);
    const client = live.open(user.accessToken).subscribe();
    await subscribed(user, client);
    expect(client.isClosed).toBe(false);
  });

  it.each<[string, (user: Awaited<ReturnType<typeof signUp>>) => Record<string, unknown>, string]>([
    ["no authorization at all", () => ({}), "TOKEN_MISSING"],
    ["a garbage token", () => ({ authorization: "Bearer garbage" }), "TOKEN_INVALID"],
    ["a non-string authorization", () => ({ authorization: { token: 1 } }), "TOKEN_INVALID"],
    [
      "alg: none",
      (u) => ({ authorization: `Bearer ${b64({ alg: "none", typ: "at+jwt" })}.${b64(claims(u))}.` }),
      "TOKEN_INVALID",
    ],
    [
      "a token signed with another key",
      (u) => ({ authorization: `Bearer ${forgeToken(claims(u), { key: strangerKey(), kid: serverSigningKey(server).kid })}` }),
      "TOKEN_INVALID",
    ],
    [
      "an expired token",
      (u) => ({ authorization: `Bearer ${serverSigned(server, claims(u, { exp: now() - 10 }))}` }),
      "TOKEN_EXPIRED",
    ],
  ])("refuses %s with 4403 and no ack", async (_name, params, reason) => {
    const user = await signUp(server);
    const client = live.openWith(params(user)).subscribe();
    expect(await client.closedWithin()).toEqual({ code: 4403, reason });
    expect(client.events).toEqual([]);
  });

  it("refuses the token of a revoked session with 4403", async () => {
    const user = await signUp(server);
    await server.request(LogoutDocument, {}, { token: user.accessToken });
    const client = live.open(user.accessToken).subscribe();
    expect(await client.closedWithin()).toEqual({ code: 4403, reason: "SESSION_REVOKED" });
  });

  it("refuses a genuine token whose session does not exist with 4403 SESSION_NOT_FOUND", async () => {
    const user = await signUp(server);
    const { token } = server.services.accessTokens.sign(
      { userId: user.user.id, sessionId: randomUUID() },
      new Date(Date.now() + 60_000),
    );
    const client = live.open(token).subscribe();
    expect(await client.closedWithin()).toEqual({ code: 4403, reason: "SESSION_NOT_FOUND" });
  });

  it("refuses the token of an expired session with 4403", async () => {
    const user = await signUp(server);
    await server.sql("UPDATE sessions SET expires_at = now() - interval '1 second' WHERE id = $1", [user.session.id]);
    const client = live.open(user.accessToken).subscribe();
    expect(await client.closedWithin()).toEqual({ code: 4403, reason: "SESSION_EXPIRED" });
  });

  it("closes with 4401 a subscribe sent before connection_init was acknowledged", async () => {
    const { socket, opened, closed } = rawSocket();
    await opened;
    socket.send(
      JSON.stringify({ id: "1", type: "subscribe", payload: { query: "subscription { sessionRevoked { sessionId } }" } }),
    );
    expect(await closed).toEqual({ code: 4401, reason: "Unauthorized" });
  });

  it("closes with 4408 a socket that sends no connection_init in time", async () => {
    const { opened, closed } = rawSocket();
    await opened;
    const started = Date.now();
    expect(await closed).toEqual({ code: 4408, reason: "Connection initialisation timeout" });
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  it("closes a socket that sends a frame larger than the HTTP body limit (1009)", async () => {
    const { socket, opened, closed } = rawSocket();
    await opened;
    socket.send("x".repeat(200 * 1024));
    expect((await closed).code).toBe(1009);
  });
});

describe("documents sent over the socket", () => {
  it("get the HTTP path's limits: aliased logins are refused before anything runs, with a code", async () => {
    const user = await signUp(server);
    const { socket, got } = await ackedSocket(user);
    const login = `login(input: { email: "${user.email}", password: "wrong password" }) { accessToken }`;
    socket.send(JSON.stringify({ id: "x", type: "subscribe", payload: { query: `mutation { a: ${login} b: ${login} }` } }));
    const error = (await got("error")) as { payload: { extensions: { code: string } }[] };
    expect(error.payload[0].extensions.code).toBe("GRAPHQL_VALIDATION_FAILED");
    const failures = await server.sql("SELECT count(*)::int AS n FROM security_events WHERE type = 'LOGIN_FAILED'");
    expect(failures).toEqual([{ n: 0 }]);
  });
});

describe("every subscribe re-checks the session", () => {
  it("refuses a subscribe on an acknowledged socket whose session was ended since, even with no event published", async () => {
    const user = await signUp(server);
    const { socket, closed } = await ackedSocket(user);
    // Straight in the database: no NOTIFY, so only a fresh read can notice.
    await server.sql("UPDATE sessions SET revoked_at = now(), revoked_reason = 'REVOKED' WHERE id = $1", [user.session.id]);
    socket.send(
      JSON.stringify({ id: "1", type: "subscribe", payload: { query: "subscription { sessionRevoked { sessionId } }" } }),
    );
    expect(await closed).toEqual({ code: 4403, reason: "SESSION_REVOKED" });
  });

  it("answers a query over the socket with the socket's own viewer", async () => {
    const user = await signUp(server);
    const { socket, got } = await ackedSocket(user);
    socket.send(JSON.stringify({ id: "q", type: "subscribe", payload: { query: "{ me { email } }" } }));
    expect((await got("next")).payload).toEqual({ data: { me: { email: user.email } } });
  });
});

describe("HTTP keeps refusing a revoked token at once", () => {
  it("the socket's revocation and the HTTP refusal agree", async () => {
    const user = await signUp(server);
    const client = live.open(user.accessToken).subscribe();
    await subscribed(user, client);
    await server.request(LogoutDocument, {}, { token: user.accessToken });
    expect((await server.request(MeDocument, {}, { token: user.accessToken })).status).toBe(401);
    expect(await client.eventFor(user.session.id)).toMatchObject({ reason: "LOGOUT", current: true });
    expect(await client.closedWithin()).toEqual({ code: 4403, reason: "SESSION_REVOKED" });
  });
});

describe("a subscribe on an acknowledged socket is refused with the same reasons as connection_init", () => {
  it.each<[string, (user: Awaited<ReturnType<typeof signUp>>) => Promise<unknown>]>([
    [
      "SESSION_REVOKED",
      (u) => server.sql("UPDATE sessions SET revoked_at = now(), revoked_reason = 'REVOKED' WHERE id = $1", [u.session.id]),
    ],
    [
      "SESSION_EXPIRED",
      (u) => server.sql("UPDATE sessions SET expires_at = now() - interval '1 second' WHERE id = $1", [u.session.id]),
    ],
    ["SESSION_NOT_FOUND", (u) => server.sql("DELETE FROM sessions WHERE id = $1", [u.session.id])],
  ])("closes with 4403 %s when the session ended since, without any event", async (reason, end) => {
    const user = await signUp(server);
    const client = live.open(user.accessToken);
    await client.connected;
    // Straight in the database: nothing is published, only the subscribe's fresh read can tell.
    await end(user);
    client.subscribe();
    expect(await client.closedWithin()).toEqual({ code: 4403, reason });
    expect(client.events).toEqual([]);
  });

  it("closes with 4403 TOKEN_EXPIRED when the connection's token has expired since", async () => {
    const user = await signUp(server);
    const { token, expired } = shortLivedToken(user);
    const client = live.open(token);
    await client.connected;
    await expired();
    client.subscribe();
    expect(await client.closedWithin()).toEqual({ code: 4403, reason: "TOKEN_EXPIRED" });
  });

  it("refuses an expired token even for a logout sent over the socket (4403 TOKEN_EXPIRED), which ends nothing", async () => {
    const user = await signUp(server);
    const { token, expired } = shortLivedToken(user);
    const { socket, closed } = await ackedSocket({ accessToken: token });
    await expired();
    socket.send(JSON.stringify({ id: "1", type: "subscribe", payload: { query: "mutation { logout }" } }));
    expect(await closed).toEqual({ code: 4403, reason: "TOKEN_EXPIRED" });
    expect(await server.sql("SELECT revoked_at FROM sessions WHERE id = $1", [user.session.id])).toEqual([{ revoked_at: null }]);
  });
});

describe("an open socket whose session ends", () => {
  it("hears current: true, then is closed with 4403 SESSION_REVOKED, also when the logout used an expired token", async () => {
    const user = await signUp(server);
    const { token, expired } = shortLivedToken(user);
    const client = live.open(token).subscribe();
    await subscribed(user, client);
    await expired();
    expect((await server.request(LogoutDocument, {}, { token })).data).toEqual({ logout: true });
    expect(await client.eventFor(user.session.id)).toMatchObject({ reason: "LOGOUT", current: true });
    expect(await client.closedWithin()).toEqual({ code: 4403, reason: "SESSION_REVOKED" });
  });
});

describe("connectionParams keys are matched regardless of letter case, as HTTP headers are", () => {
  it.each(["Authorization", "AUTHORIZATION", "authorization"])("acknowledges the token under %s", async (key) => {
    const user = await signUp(server);
    const client = live.openWith({ [key]: `Bearer ${user.accessToken}` }).subscribe();
    await subscribed(user, client);
    expect(client.isClosed).toBe(false);
  });

  it("accepts one token under two spellings, and refuses two different ones (4403 TOKEN_INVALID) rather than pick one", async () => {
    const user = await signUp(server);
    const other = await signIn(server, user.email);
    const same = live
      .openWith({ authorization: `Bearer ${user.accessToken}`, Authorization: `Bearer ${user.accessToken}` })
      .subscribe();
    await subscribed(user, same);
    const different = live
      .openWith({ authorization: `Bearer ${user.accessToken}`, Authorization: `Bearer ${other.accessToken}` })
      .subscribe();
    expect(await different.closedWithin()).toEqual({ code: 4403, reason: "TOKEN_INVALID" });
  });
});

/** The README's client setup, with quick retries for the test. */
const isCloseEvent = (e: unknown): e is { code: number; reason: string } =>
  typeof e === "object" && e !== null && "code" in e && "reason" in e;
const recommended: Pick<ClientOptions, "shouldRetry"> = {
  shouldRetry: (e) => isCloseEvent(e) && (e.code !== 4403 || e.reason === "TOKEN_EXPIRED"),
};

function countingClient(token: (attempt: number) => string, options: Partial<ClientOptions> = {}) {
  let attempts = 0;
  const events: unknown[] = [];
  const closes: Closed[] = [];
  const client = createClient({
    url: server.wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: () => ({ authorization: `Bearer ${token(++attempts)}` }),
    retryAttempts: 3,
    retryWait: async () => void (await sleep(50)),
    on: { closed: (e) => void (isCloseEvent(e) && closes.push({ code: e.code, reason: e.reason })) },
    ...options,
  });
  clients.push(client);
  const subscribe = () =>
    client.subscribe(
      { query: print(SessionRevokedDocument) },
      { next: (e) => void events.push(e), error: () => undefined, complete: () => undefined },
    );
  return { client, events, closes, subscribe, attempts: () => attempts };
}

describe("the client setup the README recommends", () => {
  it("does not reconnect after 4403 SESSION_REVOKED, where graphql-ws's default would try again", async () => {
    const user = await signUp(server);
    await server.request(LogoutDocument, {}, { token: user.accessToken });
    const withDefaults = countingClient(() => user.accessToken);
    const asRecommended = countingClient(() => user.accessToken, recommended);
    withDefaults.subscribe();
    asRecommended.subscribe();
    await until(() => withDefaults.attempts() === 4, 5000);
    await sleep(300);
    expect(asRecommended.attempts()).toBe(1);
    expect(asRecommended.closes).toEqual([{ code: 4403, reason: "SESSION_REVOKED" }]);
    expect(withDefaults.closes.slice(0, 4)).toEqual(Array(4).fill({ code: 4403, reason: "SESSION_REVOKED" }));
  });

  it("reconnects after 4403 TOKEN_EXPIRED with the fresh token connectionParams returns, and its subscriptions carry on", async () => {
    const user = await signUp(server);
    const { token, expired } = shortLivedToken(user);
    const live = countingClient((attempt) => (attempt === 1 ? token : user.accessToken), recommended);
    live.subscribe();
    await until(() => live.attempts() === 1, 5000);
    await expired();
    // A second subscribe on the socket opened with the now expired token is refused: 4403 TOKEN_EXPIRED.
    live.subscribe();
    await until(() => live.attempts() === 2, 5000);
    // Both subscriptions are live again on the new socket.
    for (let attempt = 0; live.events.length < 2; attempt++) {
      if (attempt === 20) throw new Error("subscriptions did not come back");
      live.events.length = 0;
      await server.request(
        RevokeSessionDocument,
        { id: (await signIn(server, user.email)).session.id },
        { token: user.accessToken },
      );
      await sleep(100);
    }
    expect(live.events).toHaveLength(2);
    expect(live.attempts()).toBe(2);
    expect(live.closes).toEqual([{ code: 4403, reason: "TOKEN_EXPIRED" }]);
  });
});
