import { DEVICE_MEMORY_SECONDS } from "../sessions/device-id";

/**
 * Browser cookie mode. `__Host-` makes the browser insist on Secure, Path=/ and no Domain
 * (RFC 6265bis), so no subdomain can set or read it; HttpOnly keeps it from scripts;
 * SameSite=Strict keeps it off every cross-site request.
 */
export const REFRESH_COOKIE = "__Host-refresh_token";

/** The request header a browser client sends to use cookie mode. */
export const TRANSPORT_HEADER = "x-auth-transport";

/**
 * The device cookie (issue 18): a long-lived random id that recognises this browser across
 * sessions (newDevice, and the login throttle's trusted devices). HttpOnly and `__Host-` like
 * the refresh cookie; SameSite=Lax since it authorises nothing by itself; 400 days, the
 * longest lifetime browsers keep (RFC 6265bis caps Max-Age there).
 */
export const DEVICE_COOKIE = "__Host-device";
const DEVICE_COOKIE_MAX_AGE = DEVICE_MEMORY_SECONDS;

/**
 * `maxAgeSeconds: null` is a browser-session cookie (no Max-Age, no Expires): it dies with the
 * browser, for a sign-in without "keep me signed in".
 */
export function serializeRefreshCookie(value: { token: string; maxAgeSeconds: number | null } | null): string {
  const attributes = "Path=/; Secure; HttpOnly; SameSite=Strict";
  if (!value) return `${REFRESH_COOKIE}=; Max-Age=0; ${attributes}`;
  const lifetime = value.maxAgeSeconds === null ? "" : `Max-Age=${value.maxAgeSeconds}; `;
  return `${REFRESH_COOKIE}=${value.token}; ${lifetime}${attributes}`;
}

export function serializeDeviceCookie(deviceId: string): string {
  return `${DEVICE_COOKIE}=${deviceId}; Max-Age=${DEVICE_COOKIE_MAX_AGE}; Path=/; Secure; HttpOnly; SameSite=Lax`;
}

/** A cookie's value from a Cookie header, or null (also when empty or over 200 characters). */
export function readCookie(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      const value = part.slice(eq + 1).trim();
      return value.length > 0 && value.length <= 200 ? value : null;
    }
  }
  return null;
}

/** The refresh cookie's value from a Cookie header, or null. */
export function readRefreshCookie(header: string | undefined): string | null {
  return readCookie(header, REFRESH_COOKIE);
}
