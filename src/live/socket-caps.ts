import type { IncomingMessage } from "node:http";
import type { WebSocket } from "ws";
import { CloseCode, type TooManyConnectionsReason } from "../errors/close-codes";
import type { ClientAddresses } from "../http/client-address";
import type { LogBudget } from "../lib/log-budget";

export interface OpenSocketCaps {
  /** Open WebSockets per client IP (ClientAddresses), signed in or not yet. */
  perIp: number;
  /** Open WebSockets on this instance: kept below the descriptor limit, so HTTP still gets through. */
  total: number;
}

/**
 * The caps checked when a WebSocket opens, before graphql-ws sees it: per client IP and for the
 * whole instance. One past a cap is closed at once with 4029 (`IP_LIMIT` or `SERVER_LIMIT`);
 * the sockets already open are never evicted for it. The per-session and per-user caps need
 * the session, so they are checked at `connection_init` (LiveConnections.admit).
 * Returns the check: true to let the socket through.
 */
export function openSocketCaps(caps: OpenSocketCaps, warnings: LogBudget, clients: ClientAddresses) {
  const byIp = new Map<string, number>();
  let open = 0;
  return (socket: WebSocket, request: IncomingMessage): boolean => {
    const ip = clients.of(request) ?? "";
    const fromIp = byIp.get(ip) ?? 0;
    const reason: TooManyConnectionsReason | null =
      open >= caps.total ? "SERVER_LIMIT" : fromIp >= caps.perIp ? "IP_LIMIT" : null;
    if (reason) {
      warnings.warn({ ip, reason }, "refused a WebSocket past its cap");
      socket.on("error", () => socket.terminate());
      socket.close(CloseCode.TooManyConnections, reason);
      return false;
    }
    open++;
    byIp.set(ip, fromIp + 1);
    socket.once("close", () => {
      open--;
      const left = (byIp.get(ip) ?? 1) - 1;
      if (left === 0) byIp.delete(ip);
      else byIp.set(ip, left);
    });
    return true;
  };
}
