import { request } from "node:http";
import { connect } from "node:net";
import WebSocket from "ws";
import { startTestServer, type TestServer } from "./support/test-server";

/** Answers a browser must not misread, and a development server a DNS-rebinding page cannot use. */

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** node:http, which (unlike fetch) lets a test send any Host header. */
function get(url: string, headers: Record<string, string> = {}, method = "GET", body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      let text = "";
      res.on("data", (chunk) => (text += chunk));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** Raw bytes to the port, for what Node's own parser refuses (its answer comes from client-errors.ts). */
function raw(url: string, text: string): Promise<string> {
  const { port, hostname } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(text));
    let data = "";
    socket.on("data", (chunk) => (data += chunk));
    socket.on("error", reject);
    socket.on("close", () => resolve(data));
  });
}

describe("every response", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.stop());

  it("says X-Content-Type-Options: nosniff: 200, 404, 405, 413, 415, 403 and the health probes", async () => {
    const base = server.url.replace("/graphql", "");
    const json = { "content-type": "application/json" };
    const answers = {
      ok: await get(server.url, json, "POST", JSON.stringify({ query: "{ __typename }" })),
      notFound: await get(`${base}/nope`),
      health: await get(`${base}/healthz`, {}, "POST"),
      ready: await get(`${base}/readyz`),
      tooLarge: await get(server.url, json, "POST", "x".repeat(200 * 1024)),
      mediaType: await get(server.url, { "content-type": "text/plain" }, "POST", "{}"),
      preflight: await get(server.url, { origin: "https://evil.example" }, "OPTIONS"),
    };
    expect(
      Object.fromEntries(Object.entries(answers).map(([k, a]) => [k, [a.status, a.headers["x-content-type-options"]]])),
    ).toEqual({
      ok: [200, "nosniff"],
      notFound: [404, "nosniff"],
      health: [405, "nosniff"],
      ready: [200, "nosniff"],
      tooLarge: [413, "nosniff"],
      mediaType: [415, "nosniff"],
      preflight: [403, "nosniff"],
    });
  });

  it("says nosniff when Node's parser refuses the request (431) and when a WebSocket upgrade is refused", async () => {
    const huge = await raw(server.url, `GET /graphql HTTP/1.1\r\nhost: localhost\r\nx-big: ${"a".repeat(20_000)}\r\n\r\n`);
    expect(huge).toMatch(/^HTTP\/1\.1 431 /);
    expect(huge).toMatch(/\r\nx-content-type-options: nosniff\r\n/);
    const upgrade = await raw(
      server.url,
      "GET /elsewhere HTTP/1.1\r\nhost: localhost\r\nupgrade: websocket\r\nconnection: Upgrade\r\n\r\n",
    );
    expect(upgrade).toMatch(/^HTTP\/1\.1 404 /);
    expect(upgrade).toMatch(/\r\nx-content-type-options: nosniff\r\n/);
  });
});

describe("in development", () => {
  let dev: TestServer;
  beforeAll(async () => {
    dev = await startTestServer({ NODE_ENV: "development" });
  });
  afterAll(() => dev.stop());

  const query = JSON.stringify({ query: "{ __typename }" });
  const post = (host: string) => get(dev.url, { host, "content-type": "application/json" }, "POST", query);

  it("refuses a request whose Host is another name (DNS rebinding) with 403 FORBIDDEN_HOST", async () => {
    const port = new URL(dev.url).port;
    for (const host of [`evil.example:${port}`, "rebind.attacker.test", `localhost.evil.example:${port}`]) {
      const res = await post(host);
      expect([res.status, JSON.parse(res.body)]).toEqual([
        403,
        {
          errors: [
            {
              message: "In development this server answers only localhost or an IP address.",
              extensions: { code: "FORBIDDEN_HOST" },
            },
          ],
        },
      ]);
    }
  });

  it("answers localhost, a *.localhost name and IP addresses", async () => {
    const port = new URL(dev.url).port;
    for (const host of [`localhost:${port}`, "app.localhost", `127.0.0.1:${port}`, `[::1]:${port}`, "192.168.1.20"]) {
      const res = await post(host);
      expect([host, res.status]).toEqual([host, 200]);
    }
  });

  it("refuses a WebSocket upgrade with another Host the same way, before any handshake", async () => {
    const socket = new WebSocket(dev.wsUrl, "graphql-transport-ws", { headers: { host: "evil.example" } });
    const status = await new Promise<number>((resolve) => {
      socket.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
      socket.on("open", () => resolve(101));
      socket.on("error", () => undefined);
    });
    socket.terminate();
    expect(status).toBe(403);
  });

  it("does not check Host outside development", async () => {
    const server = await startTestServer();
    try {
      const res = await get(server.url, { host: "api.example.com", "content-type": "application/json" }, "POST", query);
      expect(res.status).toBe(200);
    } finally {
      await server.stop();
    }
  });
});
