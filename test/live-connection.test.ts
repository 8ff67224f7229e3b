import WebSocket from "ws";
import { LogoutDocument, MeDocument } from "./gql/graphql";
import { liveClients, untilSubscribedAs, type Closed, type LiveClient } from "./support/live-client";
import { startTestServer, type TestServer } from "./support/test-server";
import { accessClaims as claims, b64, forgeToken, nowSeconds as now } from "./support/tokens";
import { signUp } from "./support/users";

let server: TestServer;
const live = liveClients(() => server);
const raw: WebSocket[] = [];
beforeAll(async () => {
  server = await startTestServer({ WS_CONNECTION_INIT_TIMEOUT: "1" });
});
afterAll(async () => {
  for (const socket of raw) socket.terminate();
  await live.disposeAll();
  await server.stop();
});

const sign = (payload: Record<string, unknown>, key: string) => forgeToken(payload, { key });

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

/** A raw socket whose connection_init with the user's token has been acknowledged. */
async function ackedSocket(user: Awaited<ReturnType<typeof signUp>>) {
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

const subscribed = (user: Awaited<ReturnType<typeof signUp>>, client: LiveClient) => untilSubscribedAs(server, user.email, [client]);

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
    ["alg: none", (u) => ({ authorization: `Bearer ${b64({ alg: "none", typ: "at+jwt" })}.${b64(claims(u))}.` }), "TOKEN_INVALID"],
    ["a token signed with another key", (u) => ({ authorization: `Bearer ${sign(claims(u), "another secret that is long enough to pass")}` }), "TOKEN_INVALID"],
    ["an expired token", (u) => ({ authorization: `Bearer ${sign(claims(u, { exp: now() - 10 }), server.services.config.jwt.secret)}` }), "TOKEN_EXPIRED"],
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

  it("refuses the token of an expired session with 4403", async () => {
    const user = await signUp(server);
    await server.sql("UPDATE sessions SET expires_at = now() - interval '1 second' WHERE id = $1", [user.session.id]);
    const client = live.open(user.accessToken).subscribe();
    expect(await client.closedWithin()).toEqual({ code: 4403, reason: "SESSION_EXPIRED" });
  });

  it("closes with 4401 a subscribe sent before connection_init was acknowledged", async () => {
    const { socket, opened, closed } = rawSocket();
    await opened;
    socket.send(JSON.stringify({ id: "1", type: "subscribe", payload: { query: "subscription { sessionRevoked { sessionId } }" } }));
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
    socket.send(JSON.stringify({ id: "1", type: "subscribe", payload: { query: "subscription { sessionRevoked { sessionId } }" } }));
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
    expect(await client.closedWithin()).toEqual({ code: 4403, reason: "Session revoked" });
  });
});
