import type { RefusalReason } from "./verifier.js";

/**
 * The answer to a refused request, exactly as the session API gives it, so that a client
 * (the `@session-api/client` SDK included) treats this backend's refusals as the API's: 401
 * UNAUTHENTICATED with the `reason`, or 503 SERVICE_UNAVAILABLE with a Retry-After when the
 * session could not be checked (never let through).
 */
export interface Refusal {
  status: 401 | 503;
  headers: Record<string, string>;
  body: {
    errors: [{ message: string; extensions: { code: "UNAUTHENTICATED" | "SERVICE_UNAVAILABLE"; reason?: RefusalReason } }];
  };
}

export function refusal(reason: RefusalReason): Refusal {
  if (reason === "SERVICE_UNAVAILABLE") {
    return {
      status: 503,
      headers: { "retry-after": "2" },
      body: {
        errors: [{ message: "Temporarily unavailable; try again shortly.", extensions: { code: "SERVICE_UNAVAILABLE" } }],
      },
    };
  }
  return {
    status: 401,
    headers: {},
    body: { errors: [{ message: "Not authenticated.", extensions: { code: "UNAUTHENTICATED", reason } }] },
  };
}

/** Our tokens are a few hundred bytes; the API refuses a much longer header before parsing it. */
const MAX_AUTHORIZATION_LENGTH = 4096;

/**
 * The access token in an `Authorization: Bearer <token>` header: `undefined` when there is
 * no header, `null` when there is one that is not a bearer token (TOKEN_INVALID, as the API).
 */
export function bearerToken(authorization: string | null | undefined): string | null | undefined {
  if (authorization === undefined || authorization === null || authorization === "") return undefined;
  if (authorization.length > MAX_AUTHORIZATION_LENGTH) return null;
  return /^Bearer ([^\s]+)$/i.exec(authorization)?.[1] ?? null;
}
