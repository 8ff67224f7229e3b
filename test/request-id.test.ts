import WebSocket from "ws";
import { MeDocument } from "./gql/graphql";
import { startTcpProxy, type TcpProxy } from "./support/tcp-proxy";
import { databaseUrl, startTestServer, type TestServer } from "./support/test-server";
import { signUp } from "./support/users";
import { sleep, until } from "./support/wait";

/**
 * Every HTTP request and WebSocket connection has an id: the client's x-request-id when it is
 * valid, a new one otherwise. It comes back in the response header, names every log line about
 * the request, and is in extensions.requestId of the errors a user would report.
 */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

let proxy: TcpProxy;
let server: TestServer;
const logLines: string[] = [];
const logged = () => logLines.map((line) => JSON.parse(line) as Record<string, unknown>);

beforeAll(async () => {
  const url = new URL(databaseUrl());
  proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port || 5432) });
  url.host = `127.0.0.1:${proxy.port}`;
  server = await startTestServer(
    { LOG_LEVEL: "info", DB_CONNECT_TIMEOUT: "1", DB_STATEMENT_TIMEOUT: "1" },
    { databaseUrl: url.toString() },
    { logLines },
  );
});
afterAll(async () => {
  proxy.restore();
  await server.stop();
  await proxy.close();
});

const me = (headers: Record<string, string> = {}, token = "not-a-token") => server.request(MeDocument, {}, { token, headers });

describe("request ids over HTTP", () => {
  it("keeps the client's valid x-request-id and answers with it", async () => {
    const res = await me({ "x-request-id": "checkout-7f3a:retry.2" });
    expect(res.headers.get("x-request-id")).toBe("checkout-7f3a:retry.2");
  });

  it("gives a request without one, or with an invalid one, a new UUID", async () => {
    const none = await me();
    const spaced = await me({ "x-request-id": "two words" });
    const long = await me({ "x-request-id": "a".repeat(129) });
    expect([none, spaced, long].map((res) => UUID.test(res.headers.get("x-request-id") ?? ""))).toEqual([true, true, true]);
    expect(new Set([none, spaced, long].map((res) => res.headers.get("x-request-id"))).size).toBe(3);
  });

  it("names the request in the log lines written about it", async () => {
    const res = await me({ "x-request-id": "find-me-in-the-logs" });
    expect(res.errors?.[0].extensions.code).toBe("UNAUTHENTICATED");
    expect(logged().filter((line) => line.requestId === "find-me-in-the-logs")).toEqual([
      expect.objectContaining({ msg: "refused access token", reason: "TOKEN_INVALID" }),
    ]);
  });

  it("puts the id in SERVICE_UNAVAILABLE's extensions", async () => {
    const user = await signUp(server);
    proxy.cut();
    try {
      let res = await me({ "x-request-id": "outage-report-1" }, user.accessToken);
      for (let i = 0; i < 20 && res.status !== 503; i++) {
        await sleep(100);
        res = await me({ "x-request-id": `outage-report-${i + 2}` }, user.accessToken);
      }
      const id = res.headers.get("x-request-id");
      expect({ status: res.status, errors: res.errors }).toEqual({
        status: 503,
        errors: [{ message: expect.any(String), extensions: { code: "SERVICE_UNAVAILABLE", requestId: id } }],
      });
    } finally {
      proxy.restore();
    }
  });
});

describe("request ids over WebSocket", () => {
  it("answers the upgrade with the connection's id and names it in the log lines about the socket", async () => {
    const socket = new WebSocket(server.wsUrl, "graphql-transport-ws", { headers: { "x-request-id": "socket-42" } });
    const upgraded = new Promise<string | undefined>((resolve) =>
      socket.once("upgrade", (response) => resolve(String(response.headers["x-request-id"]))),
    );
    const closed = new Promise<number>((resolve) => socket.once("close", (code) => resolve(code)));
    socket.once("open", () =>
      socket.send(JSON.stringify({ type: "connection_init", payload: { authorization: "Bearer not-a-token" } })),
    );
    expect(await upgraded).toBe("socket-42");
    expect(await closed).toBe(4403);
    await until(() => logged().some((line) => line.requestId === "socket-42"), 2000);
    expect(logged().filter((line) => line.requestId === "socket-42")).toEqual([
      expect.objectContaining({ msg: "refused access token", reason: "TOKEN_INVALID" }),
    ]);
  });
});
