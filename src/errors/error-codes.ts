import { HeaderMap } from "@apollo/server";
import { GraphQLError } from "graphql";

/**
 * The one catalog of error codes a client can receive in `extensions.code`, with the HTTP
 * status an error of that code sets when it refuses the whole request before execution
 * (with `Accept: application/graphql-response+json`, the default). Once the operation has
 * run, the status is 200 whatever its errors: see src/http/response-status.ts. Every code the
 * server sends is here, Apollo's own included; the error formatter answers any other as
 * INTERNAL_SERVER_ERROR.
 */
export const ErrorCode = {
  UNAUTHENTICATED: { status: 401, message: "Not authenticated." },
  FORBIDDEN: { status: 403, message: "Not allowed." },
  BAD_USER_INPUT: { status: 400, message: "Invalid input." },
  /**
   * A request this server cannot run as sent, with a `reason`. Apollo raises it too, also with
   * the statuses in `statuses`: 405 for a GET that is not a query (or a method other than GET
   * and POST), 406 for an `Accept` it cannot answer, 415 for a GET with a body content type.
   */
  BAD_REQUEST: { status: 400, message: "Bad request.", statuses: [400, 405, 406, 415] },
  /** The document does not parse, or has more than GRAPHQL_MAX_TOKENS tokens (Apollo's code). */
  GRAPHQL_PARSE_FAILED: { status: 400, message: "Syntax error." },
  /** The document is not valid against the schema, or passes a query limit (`reason`). */
  GRAPHQL_VALIDATION_FAILED: { status: 400, message: "Invalid document." },
  /** `operationName` names no operation of the document, or several operations and no name (Apollo's code). */
  OPERATION_RESOLUTION_FAILURE: { status: 400, message: "Unknown operation." },
  /** Automatic persisted queries are not served: send the whole `query`. */
  PERSISTED_QUERY_NOT_SUPPORTED: { status: 400, message: "Persisted queries are not supported; send the query text." },
  INVALID_CREDENTIALS: { status: 200, message: "Invalid email or password." },
  EMAIL_TAKEN: { status: 200, message: "An account with this email already exists." },
  REFRESH_TOKEN_ROTATED: {
    status: 409,
    message: "This refresh token was just rotated by a concurrent request; use the newest one.",
  },
  RATE_LIMITED: { status: 429, message: "Too many attempts; try again later." },
  /** HTTP transport: a path other than /graphql (and the health and playground paths). */
  NOT_FOUND: { status: 404, message: "Not found." },
  /** HTTP transport: a browser origin off the CORS list asked for credentials or a preflight. */
  FORBIDDEN_ORIGIN: { status: 403, message: "This origin may not call the API from a browser." },
  /**
   * Development only: a `Host` that is neither a loopback name nor an IP address (a
   * DNS-rebinding page), HTTP and WebSocket upgrades alike.
   */
  FORBIDDEN_HOST: { status: 403, message: "In development this server answers only localhost or an IP address." },
  /** HTTP transport: a POST body that is not JSON. */
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: "Send the request as application/json." },
  /** HTTP transport: a body over the limit, refused before it is read. */
  PAYLOAD_TOO_LARGE: { status: 413, message: "Request body is larger than 100 KB." },
  /** HTTP transport: request headers past Node's limit (16 KB), refused before they are read. */
  REQUEST_HEADERS_TOO_LARGE: { status: 431, message: "Request headers are too large." },
  /** HTTP transport: a request whose headers or body did not arrive within Node's request timeout. */
  REQUEST_TIMEOUT: { status: 408, message: "The request took too long to arrive." },
  SERVICE_UNAVAILABLE: { status: 503, message: "Temporarily unavailable; try again shortly." },
  INTERNAL_SERVER_ERROR: { status: 500, message: "Internal server error." },
} as const;
export type ErrorCode = keyof typeof ErrorCode;

/** Why a token or session was refused; sent as `extensions.reason` with UNAUTHENTICATED. */
export type UnauthenticatedReason =
  | "TOKEN_MISSING"
  | "TOKEN_INVALID"
  | "TOKEN_EXPIRED"
  | "SESSION_NOT_FOUND"
  | "SESSION_REVOKED"
  | "SESSION_EXPIRED"
  | "REFRESH_TOKEN_INVALID"
  | "REFRESH_TOKEN_REUSE"
  /** `Authorization: ApiKey <key>` with a key that is malformed or unknown. */
  | "SERVICE_KEY_INVALID"
  /** `Authorization: ApiKey <key>` with a key an operator has revoked. */
  | "SERVICE_KEY_REVOKED";

/** An error of the catalog, with the code's status (and `headers`, if any) for the HTTP answer. */
export function appError(
  code: ErrorCode,
  extra: { message?: string; reason?: string; [key: string]: unknown } = {},
  headers?: Record<string, string>,
): GraphQLError {
  const { message, ...extensions } = extra;
  const { status } = ErrorCode[code];
  // Apollo Server reads `http` (its headers a HeaderMap). Typed loosely: graphql-yoga, in a
  // program that also loads it (examples/supergraph's gateway), declares another shape for it.
  const http = headers ? { status, headers: new HeaderMap(Object.entries(headers)) } : { status };
  const all: Record<string, unknown> = { code, ...extensions, http };
  return new GraphQLError(message ?? ErrorCode[code].message, { extensions: all });
}

/**
 * The body of an error the HTTP transport answers by itself, before GraphQL runs: the shape
 * of a GraphQL error response, with the catalog's status.
 */
export function transportError(
  code: ErrorCode,
  message?: string,
): { status: number; body: { errors: [{ message: string; extensions: { code: ErrorCode } }] } } {
  return {
    status: ErrorCode[code].status,
    body: { errors: [{ message: message ?? ErrorCode[code].message, extensions: { code } }] },
  };
}

/** One input that was refused, and why: an entry of BAD_USER_INPUT's `extensions.fields`. */
export interface FieldProblem {
  /** The argument, or the field inside an input object (`email`; dotted when nested). */
  field: string;
  /** Each a phrase that starts with the field's name; never the value given. */
  messages: string[];
}

/** The message of every BAD_USER_INPUT: all its fields' messages, in order. */
export function badUserInputMessage(fields: readonly FieldProblem[]): string {
  return `Invalid input: ${fields.flatMap((f) => f.messages).join("; ")}`;
}

/** BAD_USER_INPUT from a resolver's or service's own check, in the shape input validation gives too. */
export function badUserInput(field: string, message: string | readonly string[]): GraphQLError {
  const fields = [{ field, messages: typeof message === "string" ? [message] : [...message] }];
  return appError("BAD_USER_INPUT", { message: badUserInputMessage(fields), fields });
}

/**
 * Why a signed-in request was refused; sent as `extensions.reason` with FORBIDDEN:
 * - SESSION_NOT_FRESH: the password was not proved within FRESH_SESSION_TTL;
 * - ADMIN_REQUIRED: an admin* field, and the account is not an admin;
 * - LAST_ADMIN: the change would leave no active admin (the last one locking themselves out).
 */
export type ForbiddenReason =
  | "SESSION_NOT_FRESH"
  | "ADMIN_REQUIRED"
  | "LAST_ADMIN"
  /** A service key without the scope the field needs (`extensions.scope` names it). */
  | "SCOPE_MISSING"
  /** A service key asked for something only a signed-in user may do. */
  | "USER_SESSION_REQUIRED"
  /** A user's session asked for a field only a service key may call. */
  | "SERVICE_KEY_REQUIRED";

const FORBIDDEN_MESSAGES: Partial<Record<ForbiddenReason, string>> = {
  SESSION_NOT_FRESH: "Confirm your password (reauthenticate) to do this.",
  LAST_ADMIN: "This would leave no active admin.",
  SCOPE_MISSING: "This service key lacks the scope this needs.",
  USER_SESSION_REQUIRED: "A service key cannot do this; it needs a signed-in user.",
  SERVICE_KEY_REQUIRED: "Only a service key can do this.",
};

export function forbidden(reason: ForbiddenReason, extra: { scope?: string } = {}): GraphQLError {
  return appError("FORBIDDEN", { reason, message: FORBIDDEN_MESSAGES[reason], ...extra });
}

/**
 * Throttled: `extensions.retryAfter` and a `Retry-After` header say when to try again. The
 * answer never depends on whether the password would have been right.
 */
export function rateLimited(retryAfterSeconds: number): GraphQLError {
  const retryAfter = Math.max(1, Math.ceil(retryAfterSeconds));
  return appError("RATE_LIMITED", { retryAfter }, { "retry-after": String(retryAfter) });
}

/** Seconds a client is asked to wait (`Retry-After`) when the database cannot be reached. */
export const SERVICE_UNAVAILABLE_RETRY_AFTER = 2;

/**
 * The database could not be reached (or did not answer within its bound): HTTP 503 with a
 * `Retry-After`. Nothing was let through and, for a mutation, nothing was written.
 */
export function serviceUnavailable(): GraphQLError {
  return appError("SERVICE_UNAVAILABLE", {}, { "retry-after": String(SERVICE_UNAVAILABLE_RETRY_AFTER) });
}

export function unauthenticated(reason: UnauthenticatedReason): GraphQLError {
  return appError("UNAUTHENTICATED", { reason });
}
