import { isSessionClientError } from "@session-api/client";
import { CombinedError } from "@urql/core";

/**
 * The server's error code and reason: the SDK throws SessionClientError (auth.* methods),
 * urql hands back a CombinedError (queries and mutations through the exchange).
 */
export function errorCode(error: unknown): { code?: string; reason?: string } {
  if (isSessionClientError(error)) return { code: error.code, reason: error.reason };
  const extensions = error instanceof CombinedError ? error.graphQLErrors[0]?.extensions : undefined;
  return {
    code: typeof extensions?.code === "string" ? extensions.code : undefined,
    reason: typeof extensions?.reason === "string" ? extensions.reason : undefined,
  };
}

/** The server wants the password proved again before this action (FORBIDDEN, SESSION_NOT_FRESH). */
export function isNotFresh(error: unknown): boolean {
  const { code, reason } = errorCode(error);
  return code === "FORBIDDEN" && reason === "SESSION_NOT_FRESH";
}

/** A sentence for the person at the keyboard. */
export function describeError(error: unknown): string {
  const { code } = errorCode(error);
  switch (code) {
    case "INVALID_CREDENTIALS":
      return "That email and password do not match.";
    case "RATE_LIMITED":
      return "Too many attempts. Wait a few minutes and try again.";
    case "EMAIL_TAKEN":
      return "An account with that email already exists.";
    case "BAD_USER_INPUT":
      return "Check the fields: the password needs 8 to 128 characters, and must not be a common password or your email.";
    case "UNAUTHENTICATED":
      return "You are signed out.";
    case "NETWORK_ERROR":
    case "SERVICE_UNAVAILABLE":
      return "The server cannot be reached right now. Try again in a moment.";
    default:
      return "Something went wrong. Try again.";
  }
}
