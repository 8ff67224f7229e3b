import type { IncomingMessage } from "node:http";
import type { Actor } from "../audit-log/request-actor";
import type { ClientAddresses } from "./client-address";

/**
 * The acting request as the transport sees it (no session yet: the context builder adds it),
 * with the device facts recorded on a session. The address is the client's as `clients`
 * tells it: the socket's peer, or behind a trusted proxy the address it forwarded.
 */
export function requestActor(req: IncomingMessage, clients: ClientAddresses): Actor {
  const ua = req.headers["user-agent"];
  return {
    userAgent: typeof ua === "string" && ua.length > 0 ? ua.slice(0, 512) : null,
    ipAddress: clients.of(req),
    sessionId: null,
  };
}
