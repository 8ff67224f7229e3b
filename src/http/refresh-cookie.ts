/**
 * Browser cookie mode. `__Host-` makes the browser insist on Secure, Path=/ and no Domain
 * (RFC 6265bis), so no subdomain can set or read it; HttpOnly keeps it from scripts;
 * SameSite=Strict keeps it off every cross-site request.
 */
export const REFRESH_COOKIE = "__Host-refresh_token";

/** The request header a browser client sends to use cookie mode. */
export const TRANSPORT_HEADER = "x-auth-transport";

export function serializeRefreshCookie(value: { token: string; maxAgeSeconds: number } | null): string {
  const attributes = "Path=/; Secure; HttpOnly; SameSite=Strict";
  return value
    ? `${REFRESH_COOKIE}=${value.token}; Max-Age=${value.maxAgeSeconds}; ${attributes}`
    : `${REFRESH_COOKIE}=; Max-Age=0; ${attributes}`;
}

/** The refresh cookie's value from a Cookie header, or null. */
export function readRefreshCookie(header: string | undefined): string | null {
  if (!header) return null;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === REFRESH_COOKIE) {
      const value = part.slice(eq + 1).trim();
      return value.length > 0 && value.length <= 200 ? value : null;
    }
  }
  return null;
}
