import { GraphQLError } from "graphql";

/**
 * The one catalog of error codes a client can receive in `extensions.code`, with the HTTP
 * status an error of that code alone sets on the response.
 */
export const ErrorCode = {
  UNAUTHENTICATED: { status: 401, message: "Not authenticated." },
  FORBIDDEN: { status: 403, message: "Not allowed." },
  BAD_USER_INPUT: { status: 400, message: "Invalid input." },
  INVALID_CREDENTIALS: { status: 200, message: "Invalid email or password." },
  EMAIL_TAKEN: { status: 200, message: "An account with this email already exists." },
  REFRESH_TOKEN_ROTATED: {
    status: 409,
    message: "This refresh token was just rotated by a concurrent request; use the newest one.",
  },
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
  | "REFRESH_TOKEN_REUSE";

export function appError(
  code: ErrorCode,
  extra: { message?: string; reason?: string; [key: string]: unknown } = {},
): GraphQLError {
  const { message, ...extensions } = extra;
  return new GraphQLError(message ?? ErrorCode[code].message, {
    extensions: { code, ...extensions, http: { status: ErrorCode[code].status } },
  });
}

export function unauthenticated(reason: UnauthenticatedReason): GraphQLError {
  return appError("UNAUTHENTICATED", { reason });
}
