import { type Server, STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import { transportError } from "../errors/error-codes";
import type { LogBudget } from "../lib/log-budget";
import type { ClientAddresses } from "./client-address";

export interface ConnectionLimits {
  /** Seconds for a request's headers to arrive (Node's headersTimeout). */
  headersTimeout: number;
  /** Seconds for a whole request to arrive (Node's requestTimeout). */
  requestTimeout: number;
  /** Open TCP connections per peer IP, WebSockets included. */
  maxConnectionsPerIp: number;
}

/** Seconds a client refused for too many connections is asked to wait. */
const RETRY_AFTER_SECONDS = 5;

/**
 * The server options that bound a slow client (slow-loris): headers within `headersTimeout`,
 * the whole request within `requestTimeout`, else 408 REQUEST_TIMEOUT (client-errors.ts).
 * Node checks these on an interval (30 s by default, which would let a 10 s bound run to 40);
 * here a second, or less for the short bounds tests configure.
 */
export function slowRequestOptions(limits: ConnectionLimits) {
  return {
    headersTimeout: limits.headersTimeout * 1000,
    requestTimeout: limits.requestTimeout * 1000,
    connectionsCheckingInterval: Math.min(1000, (limits.headersTimeout * 1000) / 4),
  };
}

/**
 * Caps the open connections of each peer IP: one past the cap is answered 503
 * SERVICE_UNAVAILABLE with Retry-After and closed, before anything is parsed. A connection
 * that becomes a WebSocket keeps counting until it closes. A connection is counted before any
 * header arrives, so by its peer: a trusted proxy's (TRUST_PROXY) are not counted at all, since
 * they carry many clients, and the proxy bounds its clients' connections itself
 * (docs/SECURITY.md).
 */
export function capConnectionsPerIp(server: Server, maxPerIp: number, warnings: LogBudget, clients: ClientAddresses): void {
  const open = new Map<string, number>();
  server.on("connection", (socket: Socket) => {
    const ip = socket.remoteAddress;
    if (ip === undefined || clients.isProxy(ip)) return;
    const count = (open.get(ip) ?? 0) + 1;
    if (count > maxPerIp) {
      warnings.warn({ ip, limit: maxPerIp }, "refused a connection past the per-IP cap");
      return refuse(socket);
    }
    open.set(ip, count);
    socket.once("close", () => {
      const left = (open.get(ip) ?? 1) - 1;
      if (left === 0) open.delete(ip);
      else open.set(ip, left);
    });
  });
}

function refuse(socket: Socket) {
  const { body } = transportError("SERVICE_UNAVAILABLE", "Too many open connections from this address.");
  const text = JSON.stringify(body);
  socket.on("error", () => socket.destroy());
  socket.end(
    `HTTP/1.1 503 ${STATUS_CODES[503]}\r\nconnection: close\r\ncontent-type: application/json; charset=utf-8\r\n` +
      `cache-control: no-store\r\nx-content-type-options: nosniff\r\nretry-after: ${RETRY_AFTER_SECONDS}\r\n` +
      `content-length: ${Buffer.byteLength(text)}\r\n\r\n${text}`,
  );
}
