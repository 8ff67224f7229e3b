/** One entry of a GraphQL response's `errors`. */
export interface GraphQLErrorLike {
  message: string;
  path?: readonly (string | number)[];
  extensions?: Record<string, unknown>;
}

/**
 * The server's error catalog (`extensions.code`), plus `NETWORK_ERROR` when no GraphQL answer
 * arrived at all (fetch failed, or a proxy answered with something other than JSON).
 */
export type SessionErrorCode =
  | "UNAUTHENTICATED"
  | "FORBIDDEN"
  | "BAD_USER_INPUT"
  | "INVALID_CREDENTIALS"
  | "EMAIL_TAKEN"
  | "REFRESH_TOKEN_ROTATED"
  | "RATE_LIMITED"
  | "SERVICE_UNAVAILABLE"
  | "INTERNAL_SERVER_ERROR"
  | "GRAPHQL_VALIDATION_FAILED"
  | "GRAPHQL_PARSE_FAILED"
  | "BAD_REQUEST"
  | "UNSUPPORTED_MEDIA_TYPE"
  | "FORBIDDEN_ORIGIN"
  | "PAYLOAD_TOO_LARGE"
  | "NETWORK_ERROR";

const KNOWN_CODES = new Set<string>([
  "UNAUTHENTICATED",
  "FORBIDDEN",
  "BAD_USER_INPUT",
  "INVALID_CREDENTIALS",
  "EMAIL_TAKEN",
  "REFRESH_TOKEN_ROTATED",
  "RATE_LIMITED",
  "SERVICE_UNAVAILABLE",
  "INTERNAL_SERVER_ERROR",
  "GRAPHQL_VALIDATION_FAILED",
  "GRAPHQL_PARSE_FAILED",
  "BAD_REQUEST",
  "UNSUPPORTED_MEDIA_TYPE",
  "FORBIDDEN_ORIGIN",
  "PAYLOAD_TOO_LARGE",
  "NETWORK_ERROR",
]);

/**
 * Every failure the SDK reports. Tell them apart by `code`:
 * - `INVALID_CREDENTIALS`: wrong email or password;
 * - `RATE_LIMITED`: too many attempts; `retryAfter` says how many seconds to wait;
 * - `FORBIDDEN` with `reason: "SESSION_NOT_FRESH"` (`needsReauthentication`): call
 *   `reauthenticate(password)`, then try again;
 * - `SERVICE_UNAVAILABLE` (HTTP 503) or `NETWORK_ERROR` (`isUnavailable`): try again later;
 * - `UNAUTHENTICATED`: signed out (`reason` is the server's: `SESSION_REVOKED`, ...).
 */
export class SessionClientError extends Error {
  override readonly name = "SessionClientError";
  readonly code: SessionErrorCode;
  /** `extensions.reason` of the first error, when the server gave one. */
  readonly reason: string | undefined;
  /** Seconds to wait, for RATE_LIMITED. */
  readonly retryAfter: number | undefined;
  /** The HTTP status of the answer (undefined when none arrived). */
  readonly status: number | undefined;
  /** All errors of the response. */
  readonly errors: readonly GraphQLErrorLike[];
  /** BAD_USER_INPUT: the fields that failed validation (never their values). */
  readonly fields: readonly { field: string; messages: string[] }[] | undefined;

  constructor(
    code: SessionErrorCode,
    message: string,
    details: {
      reason?: string;
      retryAfter?: number;
      status?: number;
      errors?: readonly GraphQLErrorLike[];
      fields?: { field: string; messages: string[] }[];
      cause?: unknown;
    } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.reason = details.reason;
    this.retryAfter = details.retryAfter;
    this.status = details.status;
    this.errors = details.errors ?? [];
    this.fields = details.fields;
  }

  /** A sensitive operation needs the password again: `reauthenticate(password)`, then retry. */
  get needsReauthentication(): boolean {
    return this.code === "FORBIDDEN" && this.reason === "SESSION_NOT_FRESH";
  }

  /** The server could not be reached or could not answer now; nothing was decided. */
  get isUnavailable(): boolean {
    return this.code === "SERVICE_UNAVAILABLE" || this.code === "NETWORK_ERROR";
  }

  /** The error a GraphQL response's `errors` stand for (its first error decides the code). */
  static fromErrors(errors: readonly GraphQLErrorLike[], status?: number, retryAfterHeader?: string | null): SessionClientError {
    const first = errors[0];
    const extensions = first?.extensions ?? {};
    const raw = typeof extensions.code === "string" ? extensions.code : "INTERNAL_SERVER_ERROR";
    const code = (KNOWN_CODES.has(raw) ? raw : "INTERNAL_SERVER_ERROR") as SessionErrorCode;
    const retryAfter =
      typeof extensions.retryAfter === "number"
        ? extensions.retryAfter
        : retryAfterHeader && Number.isFinite(Number(retryAfterHeader))
          ? Number(retryAfterHeader)
          : undefined;
    return new SessionClientError(code, first?.message ?? "GraphQL request failed.", {
      reason: typeof extensions.reason === "string" ? extensions.reason : undefined,
      retryAfter: code === "RATE_LIMITED" ? retryAfter : undefined,
      status,
      errors,
      fields: Array.isArray(extensions.fields) ? (extensions.fields as { field: string; messages: string[] }[]) : undefined,
    });
  }
}

/** True for a SessionClientError, of the given code if one is named. */
export function isSessionClientError(error: unknown, code?: SessionErrorCode): error is SessionClientError {
  return error instanceof SessionClientError && (code === undefined || error.code === code);
}

/** UNAUTHENTICATED reasons that mean the session itself is over (not merely this token). */
export const SESSION_ENDED_REASONS = new Set(["SESSION_REVOKED", "SESSION_EXPIRED", "SESSION_NOT_FOUND", "REFRESH_TOKEN_REUSE"]);

/** UNAUTHENTICATED reasons that a refresh may cure: the token, not the session, was refused. */
export const TOKEN_REASONS = new Set(["TOKEN_EXPIRED", "TOKEN_INVALID"]);

/** The UNAUTHENTICATED reason of a response's errors, if any. */
export function unauthenticatedReason(errors: readonly GraphQLErrorLike[] | undefined): string | undefined {
  const error = errors?.find((e) => e.extensions?.code === "UNAUTHENTICATED");
  if (!error) return undefined;
  return typeof error.extensions?.reason === "string" ? error.extensions.reason : "UNAUTHENTICATED";
}
