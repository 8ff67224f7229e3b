import { isIP } from "node:net";

/**
 * In development the server answers only requests whose `Host` is a loopback name
 * (`localhost`, `*.localhost`) or an IP address. A DNS-rebinding page (evil.example, whose
 * name the attacker later points at 127.0.0.1) reaches the server with its own name in
 * `Host`, so it is refused; an IP literal cannot be rebound, so a phone on the LAN that
 * types the machine's address still works.
 */
export function isDevelopmentHost(host: string | undefined): boolean {
  if (!host) return false;
  let hostname: string;
  try {
    hostname = new URL(`http://${host}`).hostname;
  } catch {
    return false;
  }
  if (hostname.startsWith("[") && hostname.endsWith("]")) return isIP(hostname.slice(1, -1)) === 6;
  return hostname === "localhost" || hostname.endsWith(".localhost") || isIP(hostname) === 4;
}
