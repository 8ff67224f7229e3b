import { LRUCache } from "lru-cache";
import type { LogBudget } from "../lib/log-budget";
import { TRANSPORT_HEADER } from "./refresh-cookie";

/**
 * CORS for browser clients on other origins. Only allowed origins get CORS headers, with
 * credentials; any other origin gets none, so the browser withholds the response from it. The
 * allowed headers are what clients need, including the custom ones that force a preflight (and
 * so defeat simple cross-site requests).
 */
export interface CorsPolicy {
  /** CORS_ORIGINS: exact origins, e.g. `https://app.example.com`. */
  readonly allowList: readonly string[];
  /**
   * Development only: any `http://localhost:<port>` or `http://127.0.0.1:<port>` page too (or
   * https, or [::1]), so a dev server on whatever port it picked works without configuration.
   * Only a browser on this machine can be on such an origin.
   */
  readonly allowLoopback: boolean;
}

const LOOPBACK_ORIGIN = /^https?:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d{1,5})?$/;

/** The origin to echo in CORS headers, or null when it is not allowed (or absent). */
export function isAllowedOrigin(policy: CorsPolicy, origin: string | undefined): string | null {
  if (origin === undefined) return null;
  if (policy.allowList.includes(origin)) return origin;
  return policy.allowLoopback && LOOPBACK_ORIGIN.test(origin) ? origin : null;
}

export function corsHeaders(origin: string): Record<string, string> {
  return { "access-control-allow-origin": origin, "access-control-allow-credentials": "true" };
}

export function preflightHeaders(): Record<string, string> {
  return {
    "access-control-allow-methods": "GET, POST, OPTIONS",
    "access-control-allow-headers": `content-type, authorization, ${TRANSPORT_HEADER}, apollo-require-preflight, x-apollo-operation-name`,
    "access-control-max-age": "600",
  };
}

/**
 * Logs a refused origin at warn, naming it, so a frontend missing from CORS_ORIGINS shows up in
 * the log. Once a minute per origin at most, and within the global warning budget: neither
 * one hostile page nor two thousand distinct origins can flood the log.
 */
export function refusedOriginLog(warnings: LogBudget): (origin: string, path: string) => void {
  const recent = new LRUCache<string, true>({ max: 1000, ttl: 60_000 });
  return (origin, path) => {
    const shown = origin.slice(0, 200);
    if (recent.has(shown)) return;
    recent.set(shown, true);
    warnings.warn({ origin: shown, path }, "refused a browser origin not in CORS_ORIGINS");
  };
}
