import { connect, type Socket } from "node:net";
import { startTestServer, type TestServer } from "./support/test-server";
import { sleep } from "./support/wait";

/**
 * Slow-loris and connection floods against the real server, through raw TCP sockets: the
 * request bounds are configured short (HTTP_HEADERS_TIMEOUT=1, HTTP_REQUEST_TIMEOUT=2) so a
 * trickle is seen cut off in seconds, and the per-IP cap small.
 */
let server: TestServer;
const opened: Socket[] = [];
beforeAll(async () => {
  server = await startTestServer({ HTTP_HEADERS_TIMEOUT: "1", HTTP_REQUEST_TIMEOUT: "2", HTTP_MAX_CONNECTIONS_PER_IP: "4" });
});
afterEach(async () => {
  for (const socket of opened.splice(0)) socket.destroy();
  await sleep(50); // the server sees the closes before the next test counts connections
});
afterAll(() => server.stop());

interface Trickle {
  socket: Socket;
  /** Everything the server wrote, once it closed the connection; and when that was. */
  answer: Promise<{ text: string; closedAfterMs: number }>;
}

/** Opens a connection and writes `bytes` one byte every `everyMs`, until the server hangs up. */
function trickle(bytes: string, everyMs: number): Trickle {
  const url = new URL(server.url);
  const started = Date.now();
  const socket = connect(Number(url.port), url.hostname);
  opened.push(socket);
  let text = "";
  let sent = 0;
  const timer = setInterval(() => {
    if (sent < bytes.length && socket.writable) socket.write(bytes[sent++]);
  }, everyMs);
  const answer = new Promise<{ text: string; closedAfterMs: number }>((resolve) => {
    socket.on("data", (chunk) => (text += chunk));
    socket.on("error", () => undefined);
    socket.on("close", () => {
      clearInterval(timer);
      resolve({ text, closedAfterMs: Date.now() - started });
    });
  });
  return { socket, answer };
}

/** An open connection that has sent nothing yet. */
function idleConnection(): Promise<Socket> {
  const url = new URL(server.url);
  return new Promise((resolve) => {
    const socket = connect(Number(url.port), url.hostname, () => resolve(socket));
    socket.on("error", () => undefined);
    opened.push(socket);
  });
}

const statusLine = (text: string) => text.split("\r\n")[0];
const bodyOf = (text: string) => JSON.parse(text.split("\r\n\r\n")[1]);

describe("a client that sends its request slowly", () => {
  it("is cut off with 408 REQUEST_TIMEOUT once its headers take longer than HTTP_HEADERS_TIMEOUT", async () => {
    const request = `GET /healthz HTTP/1.1\r\nhost: localhost\r\nx-padding: ${"a".repeat(200)}\r\n\r\n`;
    const { answer } = trickle(request, 100);
    const { text, closedAfterMs } = await answer;
    expect(statusLine(text)).toBe("HTTP/1.1 408 Request Timeout");
    expect(bodyOf(text)).toEqual({
      errors: [{ message: "The request took too long to arrive.", extensions: { code: "REQUEST_TIMEOUT" } }],
    });
    expect(closedAfterMs).toBeLessThan(3500);
  });

  it("is cut off once its body takes longer than HTTP_REQUEST_TIMEOUT, one byte every 200 ms", async () => {
    const body = JSON.stringify({ query: `{ __typename ${" ".repeat(100)}}` });
    const head = `POST /graphql HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`;
    const { socket, answer } = trickle(body, 200);
    socket.write(head);
    const { text, closedAfterMs } = await answer;
    expect(closedAfterMs).toBeLessThan(4500);
    expect(statusLine(text)).toBe("HTTP/1.1 408 Request Timeout");
    expect(bodyOf(text).errors[0].extensions.code).toBe("REQUEST_TIMEOUT");
  });
});

describe("connections from one IP", () => {
  it("are capped at HTTP_MAX_CONNECTIONS_PER_IP: one more is answered 503 with Retry-After, and a freed place is taken again", async () => {
    const four = await Promise.all([idleConnection(), idleConnection(), idleConnection(), idleConnection()]);
    const fifth = trickle("", 1000);
    const { text } = await fifth.answer;
    expect(statusLine(text)).toBe("HTTP/1.1 503 Service Unavailable");
    expect(text).toMatch(/\r\nretry-after: \d+\r\n/);
    expect(text).toMatch(/\r\nx-content-type-options: nosniff\r\n/);
    expect(bodyOf(text)).toEqual({
      errors: [{ message: "Too many open connections from this address.", extensions: { code: "SERVICE_UNAVAILABLE" } }],
    });
    four[0].destroy();
    await sleep(50);
    const res = await fetch(server.url.replace("/graphql", "/healthz"));
    expect(res.status).toBe(200);
  });
});
