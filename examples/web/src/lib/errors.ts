import { CombinedError } from "@urql/core";

interface CodedError {
  code?: unknown;
  reason?: unknown;
  extensions?: { code?: unknown; reason?: unknown };
}

/** The server's error code and reason, from an SDK error or an urql CombinedError. */
export function errorCode(error: unknown): { code?: string; reason?: string } {
  const coded: CodedError | undefined =
    error instanceof CombinedError ? error.graphQLErrors[0] : typeof error === "object" && error !== null ? (error as CodedError) : undefined;
  const code = coded?.extensions?.code ?? coded?.code;
  const reason = coded?.extensions?.reason ?? coded?.reason;
  return { code: typeof code === "string" ? code : undefined, reason: typeof reason === "string" ? reason : undefined };
}

/** The server wants a password proved again before this action (FORBIDDEN, SESSION_NOT_FRESH). */
export function isNotFresh(error: unknown): boolean {
  const { code, reason } = errorCode(error);
  return code === "SESSION_NOT_FRESH" || reason === "SESSION_NOT_FRESH";
}

/** A sentence for the person at the keyboard; the server's messages never leak detail. */
export function describeError(error: unknown): string {
  const { code, reason } = errorCode(error);
  switch (code) {
    case "INVALID_CREDENTIALS":
      return "That email and password do not match.";
    case "RATE_LIMITED":
      return "Too many attempts. Wait a few minutes and try again.";
    case "EMAIL_TAKEN":
      return "An account with that email already exists.";
    case "BAD_USER_INPUT":
      return "Check the fields: the password needs 8 to 128 characters.";
    case "UNAUTHENTICATED":
      return "You are signed out.";
    default:
      if (reason === "SESSION_NOT_FRESH") return "Confirm your password first.";
      return error instanceof Error && error.message ? error.message : "Something went wrong. Try again.";
  }
}
