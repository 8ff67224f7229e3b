import type { IncomingMessage } from "node:http";
import { BlockList, isIP } from "node:net";
import type { AddressRange } from "../config/variable-kinds";

/**
 * Who the client is, by address: what every per-IP bound (the login throttle, the register
 * budget, the connection and socket caps) counts, and what a session and the audit log record.
 *
 * Without TRUST_PROXY it is the socket's peer, and X-Forwarded-For is ignored: any client can
 * write that header. With it, a request whose peer is a trusted proxy is walked back through
 * X-Forwarded-For from the right, past every trusted hop, to the first address no trusted
 * proxy is: the one the outermost trusted proxy saw. Entries further left are the client's
 * own words and are never read. (The rule of Express's `trust proxy` and of nginx's
 * real_ip_recursive.) A malformed entry stops the walk at the last hop that could be vouched for.
 */
export class ClientAddresses {
  private readonly proxies = new BlockList();
  private readonly anyProxy: boolean;

  constructor(trustedProxies: readonly AddressRange[]) {
    for (const range of trustedProxies) this.proxies.addSubnet(range.address, range.prefix, range.family);
    this.anyProxy = trustedProxies.length > 0;
  }

  /** True for an address TRUST_PROXY names (IPv4-mapped IPv6 read as the IPv4 it is). */
  isProxy(ip: string): boolean {
    if (!this.anyProxy) return false;
    const address = plain(ip) ?? "";
    const version = isIP(address);
    return version !== 0 && this.proxies.check(address, version === 4 ? "ipv4" : "ipv6");
  }

  /** The client's address for this request (HTTP or a WebSocket upgrade), or null if unknown. */
  of(req: IncomingMessage): string | null {
    const peer = plain(req.socket.remoteAddress);
    if (peer === null || !this.isProxy(peer)) return peer;
    const header = req.headers["x-forwarded-for"];
    const hops = (Array.isArray(header) ? header.join(",") : (header ?? "")).split(",");
    let client = peer;
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = plain(hops[i].trim());
      // A zone id (fe80::1%eth0) is a fact about the proxy's own interfaces, and no column takes it.
      if (hop === null || isIP(hop) === 0 || hop.includes("%")) return client;
      client = hop;
      if (!this.isProxy(hop)) return hop;
    }
    return client;
  }
}

/** An IPv4 address as IPv4 even when it arrives IPv4-mapped (`::ffff:10.0.0.1`). */
function plain(ip: string | undefined): string | null {
  if (!ip) return null;
  return ip.startsWith("::ffff:") && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
}
