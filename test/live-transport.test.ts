import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { LogoutDocument, RevokeSessionDocument, SessionRevokedDocument } from "./gql/graphql";
import type { Closed } from "./support/live-client";
import { startTestServer, type TestServer } from "./support/test-server";
import { signIn, signUp } from "./support/users";
import { sleep, until } from "./support/wait";

let server: TestServer;
const logLines: string[] = [];
const sockets: WebSocket[] = [];
const disposers: (() => unknown)[] = [];
beforeAll(async () => {
  server = await startTestServer({ WS_KEEPALIVE_INTERVAL: "1", LOG_LEVEL: "warn" }, undefined, { logLines });
});
afterAll(async () => {
  for (const socket of sockets) socket.terminate();
  await Promise.all(disposers.map((dispose) => dispose()));
  await server.stop();
});

/** An acknowledged graphql-transport-ws socket that answers pings only when `autoPong`. */
async function acknowledged(token: string, autoPong: boolean) {
  const socket = new WebSocket(server.wsUrl, "graphql-transport-ws", { autoPong });
  sockets.push(socket);
  const closed = new Promise<Closed>((resolve) =>
    socket.once("close", (code, reason) => resolve({ code, reason: String(reason) })),
  );
  await new Promise((resolve, reject) => socket.once("open", resolve).once("error", reject));
  socket.send(JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${token}` } }));
  await new Promise<void>((resolve) => socket.once("message", (data) => String(data).includes("connection_ack") && resolve()));
  return { socket, closed };
}

/** A real graphql-ws client subscribed with `query`; every `next` payload lands in `results`. */
function subscribeWith(token: string, query: string) {
  const results: unknown[] = [];
  const client = createClient({
    url: server.wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: 0,
  });
  disposers.push(() => client.dispose());
  client.subscribe({ query }, { next: (result) => void results.push(result), error: () => undefined, complete: () => undefined });
  return results;
}

describe("keepalive", () => {
  it("drops a socket that stops answering pings, and keeps one that answers them", async () => {
    const user = await signUp(server);
    const silent = await acknowledged(user.accessToken, false);
    const answering = await acknowledged(user.accessToken, true);
    const started = Date.now();
    // Pinged at ~1 s, found silent at ~2 s: terminated, so no close frame (1006).
    expect((await silent.closed).code).toBe(1006);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    await sleep(1200);
    expect(answering.socket.readyState).toBe(WebSocket.OPEN);
  });
});

describe("an event heard by several subscriptions", () => {
  it("is answered to each in the shape its own document asked for", async () => {
    const user = await signUp(server);
    const narrow = subscribeWith(user.accessToken, "subscription { sessionRevoked { sessionId } }");
    const wide = subscribeWith(user.accessToken, "subscription Wide { sessionRevoked { __typename sessionId reason current } }");
    const aliased = subscribeWith(user.accessToken, "subscription { ended: sessionRevoked { id: sessionId } }");
    const other = await signIn(server, user.email);
    // Until all three are subscribed, a revocation may reach only some of them.
    for (let attempt = 0; narrow.length === 0 || wide.length === 0 || aliased.length === 0; attempt++) {
      if (attempt === 20) throw new Error("subscriptions did not become active");
      const probe = await signIn(server, user.email);
      await server.request(LogoutDocument, {}, { token: probe.accessToken });
      await sleep(100);
    }
    narrow.length = wide.length = aliased.length = 0;

    await server.request(RevokeSessionDocument, { id: other.session.id }, { token: user.accessToken });
    await until(() => narrow.length > 0 && wide.length > 0 && aliased.length > 0, 5000);
    expect(narrow).toEqual([{ data: { sessionRevoked: { sessionId: other.session.id } } }]);
    expect(wide).toEqual([
      {
        data: {
          sessionRevoked: { __typename: "SessionRevokedEvent", sessionId: other.session.id, reason: "REVOKED", current: false },
        },
      },
    ]);
    expect(aliased).toEqual([{ data: { ended: { id: other.session.id } } }]);
  });
});

describe("socket errors", () => {
  it("are logged through the service's logger, not printed to the console", async () => {
    const user = await signUp(server);
    const consoleError = jest.spyOn(console, "error").mockImplementation(() => undefined);
    try {
      const { socket, closed } = await acknowledged(user.accessToken, true);
      socket.send("x".repeat(200 * 1024));
      expect((await closed).code).toBe(1009);
      await until(() => logLines.some((line) => line.includes("WebSocket error")), 2000);
      expect(consoleError).not.toHaveBeenCalled();
    } finally {
      consoleError.mockRestore();
    }
  });
});

describe("a subscription sent over HTTP", () => {
  it("is refused with 400 BAD_REQUEST, reason SUBSCRIPTION_OVER_HTTP, before anything runs and without an error in the log", async () => {
    const user = await signUp(server);
    const before = logLines.length;
    const res = await server.request(SessionRevokedDocument, {}, { token: user.accessToken });
    expect(res.status).toBe(400);
    expect(res.data).toBeUndefined();
    expect(res.errors).toEqual([
      {
        message: "Subscriptions are served over WebSocket (graphql-transport-ws) on this path, not over HTTP.",
        extensions: { code: "BAD_REQUEST", reason: "SUBSCRIPTION_OVER_HTTP" },
      },
    ]);
    // LOG_LEVEL is warn here: an error would have been written (pino's level 50).
    expect(logLines.slice(before).filter((line) => JSON.parse(line).level >= 50)).toEqual([]);
  });
});
