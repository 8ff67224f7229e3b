import { TRANSPORT_HEADER } from "./refresh-cookie";

/**
 * CORS for browser clients on other origins. Only origins in CORS_ORIGINS (exact match) get
 * CORS headers, with credentials; any other origin gets none, so the browser withholds the
 * response from it. The allowed headers are what clients need, including the custom ones
 * that force a preflight (and so defeat simple cross-site requests).
 */
export function isAllowedOrigin(allowList: readonly string[], origin: string | undefined): string | null {
  return origin !== undefined && allowList.includes(origin) ? origin : null;
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
