import { type IncomingMessage, type Server, STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import type { WebSocketServer } from "ws";
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
function refusalOf(req: IncomingMessage, path: string): Refusal | null {
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
 * extension header), with JSON from the catalog. Returns the function that stops it: from
 * then on upgrades are refused with 503 SERVICE_UNAVAILABLE (the server is going away).
 */
export function routeUpgrades(httpServer: Server, wss: WebSocketServer, path: string): () => void {
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
    const refusal = refusalOf(req, path);
    if (refusal) return refuse(socket, refusal);
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit("connection", ws, req));
  };
  wss.on("wsClientError", (error: Error, socket: Duplex) =>
    refuse(socket, { status: 400, code: "BAD_REQUEST", message: error.message }),
  );
  httpServer.on("upgrade", onUpgrade);
  return () => {
    closing = true;
  };
}
