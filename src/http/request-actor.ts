import type { IncomingMessage } from "node:http";
import type { Actor } from "../audit-log/request-actor";

/**
 * The acting request as the transport sees it (no session yet: the context builder adds it),
 * with the device facts recorded on a session. The IP is the socket's peer: X-Forwarded-For is
 * not trusted, since any client can send it (put a proxy-aware option here when deployed
 * behind one).
 */
export function requestActor(req: IncomingMessage): Actor {
  const ua = req.headers["user-agent"];
  const ip = req.socket.remoteAddress ?? null;
  return {
    userAgent: typeof ua === "string" && ua.length > 0 ? ua.slice(0, 512) : null,
    ipAddress: ip?.startsWith("::ffff:") ? ip.slice(7) : ip,
    sessionId: null,
  };
}
