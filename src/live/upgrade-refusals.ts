import { type IncomingMessage, type Server, STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import type { WebSocket, WebSocketServer } from "ws";
import { ErrorCode, transportError } from "../errors/error-codes";

interface Refusal {
  status: number;
  code: ErrorCode;
  message: string;
  headers?: Record<string, string>;
}

/** RFC 6455 §4.1: 16 random bytes, base64. */
const KEY = /^[+/0-9A-Za-z]{22}==$/;

/**
 * What is wrong with a WebSocket upgrade request, checked as `ws` checks it, so that the
 * answer is ours: JSON from the catalog rather than `ws`'s text/html with no code.
 */
function refusalOf(req: IncomingMessage, path: string, allowHost: (host: string | undefined) => boolean): Refusal | null {
  if (!allowHost(req.headers.host)) return { status: 403, code: "FORBIDDEN_HOST", message: ErrorCode.FORBIDDEN_HOST.message };
  if (new URL(req.url ?? "/", "http://localhost").pathname !== path)
    return { status: 404, code: "NOT_FOUND", message: ErrorCode.NOT_FOUND.message };
  const bad = (message: string, headers?: Record<string, string>): Refusal => ({
    status: 400,
    code: "BAD_REQUEST",
    message,
    headers,
  });
  if (req.method !== "GET")
    return { status: 405, code: "BAD_REQUEST", message: "A WebSocket upgrade is a GET.", headers: { allow: "GET" } };
  if (req.headers.upgrade?.toLowerCase() !== "websocket") return bad("The Upgrade header must be websocket.");
  if (!KEY.test(req.headers["sec-websocket-key"] ?? "")) return bad("Missing or invalid Sec-WebSocket-Key header.");
  const version = req.headers["sec-websocket-version"];
  if (version !== "13" && version !== "8")
    return bad("Missing or invalid Sec-WebSocket-Version header.", { "sec-websocket-version": "13, 8" });
  return null;
}

/** Writes a JSON answer on the raw socket of an upgrade request and closes it. */
function refuse(socket: Duplex, { status, code, message, headers = {} }: Refusal) {
  if (!socket.writable) return void socket.destroy();
  const body = JSON.stringify(transportError(code, message).body);
  const head = {
    connection: "close",
    "content-type": "application/json; charset=utf-8",
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    "content-length": String(Buffer.byteLength(body)),
    ...headers,
  };
  socket.once("finish", () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${Object.entries(head)
      .map(([k, v]) => `${k}: ${v}`)
      .join("\r\n")}\r\n\r\n${body}`,
  );
}

/**
 * Routes the HTTP server's upgrade requests for `path` to `wss` (made with `noServer`), and
 * answers every other upgrade, and every one `ws` refuses (an unparsable subprotocol or
 * extension header), with JSON from the catalog; so is one whose `Host` fails `allowHost`
 * (in development, see http/loopback-host.ts). Returns the function that stops it: from
 * then on upgrades are refused with 503 SERVICE_UNAVAILABLE (the server is going away).
 */
export function routeUpgrades(
  httpServer: Server,
  wss: WebSocketServer,
  path: string,
  allowHost: (host: string | undefined) => boolean = () => true,
  /** Checked once the socket is open, before graphql-ws sees it; false: it was closed (socket-caps.ts). */
  admit: (socket: WebSocket, req: IncomingMessage) => boolean = () => true,
): () => void {
  let closing = false;
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on("error", () => socket.destroy());
    if (closing)
      return refuse(socket, {
        status: 503,
        code: "SERVICE_UNAVAILABLE",
        message: "The server is going away.",
        headers: { "retry-after": "1" },
      });
    const refusal = refusalOf(req, path, allowHost);
    if (refusal) return refuse(socket, refusal);
    wss.handleUpgrade(req, socket, head, (ws) => {
      if (admit(ws, req)) wss.emit("connection", ws, req);
    });
  };
  wss.on("wsClientError", (error: Error, socket: Duplex) =>
    refuse(socket, { status: 400, code: "BAD_REQUEST", message: error.message }),
  );
  httpServer.on("upgrade", onUpgrade);
  return () => {
    closing = true;
  };
}
