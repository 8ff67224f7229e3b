import type { IncomingMessage } from "node:http";
import type { ClientInfo } from "../sessions/session.service";

/**
 * The device facts recorded on a session. The IP is the socket's peer: X-Forwarded-For is
 * not trusted, since any client can send it (put a proxy-aware option here when deployed
 * behind one).
 */
export function clientInfo(req: IncomingMessage): ClientInfo {
  const ua = req.headers["user-agent"];
  const ip = req.socket.remoteAddress ?? null;
  return {
    userAgent: typeof ua === "string" && ua.length > 0 ? ua.slice(0, 512) : null,
    ipAddress: ip?.startsWith("::ffff:") ? ip.slice(7) : ip,
  };
}
