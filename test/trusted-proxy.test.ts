import { randomBytes } from "node:crypto";
import { connect } from "node:net";
import WebSocket from "ws";
import { startTestServer, type TestServer } from "./support/test-server";
import { PASSWORD } from "./support/users";

/**
 * TRUST_PROXY: behind a proxy every client arrives from the proxy's address, so the per-IP
 * bounds and the addresses sessions record would be the proxy's. A request from a trusted
 * proxy is counted and recorded by the address its X-Forwarded-For names; from anyone else,
 * that header is the client's own word and is ignored.
 */
let direct: TestServer;
let proxied: TestServer;
beforeAll(async () => {
  direct = await startTestServer({});
  // The tests' own address is the trusted proxy, as a gateway on the same host would be.
  proxied = await startTestServer({
    TRUST_PROXY: "127.0.0.1, ::1, 10.0.0.0/8",
    REGISTER_MAX_PER_IP: "2",
    WS_MAX_PER_IP: "2",
    HTTP_MAX_CONNECTIONS_PER_IP: "2",
  });
});
afterAll(async () => {
  await direct?.stop();
  await proxied?.stop();
});

/** Registers a new account with `forwardedFor` as X-Forwarded-For; the session's recorded IP, or the refusal. */
async function registerFrom(server: TestServer, forwardedFor: string) {
  const answer = await server.post(
    {
      query: `mutation ($email: String!, $password: String!) { register(input: { email: $email, password: $password }) { session { id } } }`,
      variables: { email: `proxy-${randomBytes(5).toString("hex")}@example.test`, password: PASSWORD },
    },
    { headers: { "x-forwarded-for": forwardedFor } },
  );
  const sessionId = (answer.data as { register: { session: { id: string } } } | null)?.register.session.id;
  if (!sessionId) return { refused: answer.errors?.[0]?.extensions.code };
  const [row] = await server.sql<{ ip_address: string }>("SELECT ip_address FROM sessions WHERE id = $1", [sessionId]);
  return { ip: row.ip_address };
}

/** A raw graphql-ws socket whose upgrade carries `forwardedFor`; resolves with its close, or "open" after 500 ms. */
function socketFrom(server: TestServer, forwardedFor: string): { ws: WebSocket; fate: Promise<string> } {
  const ws = new WebSocket(server.wsUrl, "graphql-transport-ws", { headers: { "x-forwarded-for": forwardedFor } });
  const fate = new Promise<string>((resolve) => {
    ws.once("close", (code, reason) => resolve(`${code} ${reason.toString()}`));
    ws.once("unexpected-response", (_req, res) => resolve(`refused ${res.statusCode}`));
    ws.once("open", () => setTimeout(() => resolve("open"), 500));
  });
  return { ws, fate };
}

describe("without TRUST_PROXY", () => {
  it("ignores X-Forwarded-For, which any client can write: the session records the socket's peer", async () => {
    expect(await registerFrom(direct, "203.0.113.7")).toEqual({ ip: "127.0.0.1" });
  });
});

describe("with TRUST_PROXY naming the proxy", () => {
  it("records the address the outermost trusted proxy saw, walking X-Forwarded-For from the right past trusted hops", async () => {
    // 198.51.100.1 is what the client wrote itself; 203.0.113.9 is where the first proxy (10.1.2.3) saw it come from.
    expect(await registerFrom(proxied, "198.51.100.1, 203.0.113.9, 10.1.2.3")).toEqual({ ip: "203.0.113.9" });
    expect(await registerFrom(proxied, "2001:db8::5")).toEqual({ ip: "2001:db8::5" });
  });

  it("stops at the last hop it can vouch for when an entry is not an address, and never stores what it cannot parse", async () => {
    expect(await registerFrom(proxied, "198.51.100.1, not-an-address")).toEqual({ ip: "127.0.0.1" });
    expect(await registerFrom(proxied, "fe80::1%eth0, 10.1.2.3")).toEqual({ ip: "10.1.2.3" });
  });

  it("counts the register budget per forwarded client, so one client's burst does not refuse the others behind the same proxy", async () => {
    const a = "198.51.100.20";
    expect(await registerFrom(proxied, a)).toEqual({ ip: a });
    expect(await registerFrom(proxied, a)).toEqual({ ip: a });
    expect(await registerFrom(proxied, a)).toEqual({ refused: "RATE_LIMITED" });
    expect(await registerFrom(proxied, "198.51.100.21")).toEqual({ ip: "198.51.100.21" });
  });

  it("caps sockets per forwarded client: the third from one is closed 4029 IP_LIMIT, another's is admitted", async () => {
    const open = [socketFrom(proxied, "198.51.100.30"), socketFrom(proxied, "198.51.100.30")];
    const third = socketFrom(proxied, "198.51.100.30");
    const other = socketFrom(proxied, "198.51.100.31");
    try {
      expect(await Promise.all(open.map((s) => s.fate))).toEqual(["open", "open"]);
      expect(await third.fate).toBe("4029 IP_LIMIT");
      expect(await other.fate).toBe("open");
    } finally {
      for (const s of [...open, third, other]) s.ws.terminate();
    }
  });

  it("does not count the proxy's own connections against the per-IP connection cap: it carries many clients", async () => {
    const port = Number(new URL(proxied.url).port);
    // Four connections held open at once, each asking once: twice the cap of 2.
    const sockets = [1, 2, 3, 4].map(() => connect(port, "127.0.0.1"));
    try {
      const statuses = await Promise.all(
        sockets.map(
          (socket) =>
            new Promise<string>((resolve, reject) => {
              socket.once("connect", () => socket.write(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`));
              socket.once("data", (chunk) => resolve(chunk.toString().split("\r\n")[0]));
              socket.once("error", reject);
            }),
        ),
      );
      expect(statuses).toEqual(Array(4).fill("HTTP/1.1 200 OK"));
    } finally {
      for (const socket of sockets) socket.destroy();
    }
  });
});
