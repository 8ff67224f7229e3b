import { unwrapResolverError } from "@apollo/server/errors";
import { GraphQLError, type GraphQLFormattedError } from "graphql";
import { ArgumentValidationError } from "type-graphql";
import { isDatabaseUnavailable } from "../db/database-unavailable";
import { ErrorCode } from "../errors/error-codes";
import type { Logger } from "../lib/logger";
import { withoutStringLiterals } from "./redact-literals";

interface FieldProblem {
  field: string;
  messages: string[];
}

// class-validator errors carry the whole input (`target`) and the bad `value`: a password
// would travel back to the client. Only field names and messages leave the server.
function fieldProblems(errors: ArgumentValidationError["extensions"]["validationErrors"], prefix = ""): FieldProblem[] {
  const list = (errors ?? []) as {
    property: string;
    constraints?: Record<string, string>;
    children?: unknown[];
  }[];
  return list.flatMap((e) => [
    ...(e.constraints ? [{ field: prefix + e.property, messages: Object.values(e.constraints) }] : []),
    ...fieldProblems(e.children as never, `${prefix}${e.property}.`),
  ]);
}

/** During an outage every request fails the same way: one log line per this many ms, with a count. */
const UNAVAILABLE_LOG_INTERVAL_MS = 10_000;

/**
 * Every error leaves with an `extensions.code` from the catalog and nothing internal: no stack
 * trace (Apollo's `includeStacktraceInErrorResponses` is off), no `http` extension. An error
 * that says the database cannot be reached is SERVICE_UNAVAILABLE (the status and Retry-After
 * are set by `serviceUnavailableStatus`), logged as a warning at most once per interval.
 * Errors we did not raise on purpose, and codes missing from the catalog, are logged here and
 * answered as INTERNAL_SERVER_ERROR with a fixed message.
 */
export function createErrorFormatter(logger: Logger) {
  let refused = 0;
  let loggedAt = -Infinity;
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    const base = { locations: formatted.locations, path: formatted.path };
    if (original instanceof ArgumentValidationError) {
      const fields = fieldProblems(original.extensions.validationErrors);
      const message = `Invalid input: ${fields.flatMap((f) => f.messages).join("; ")}`;
      return { ...base, message, extensions: { code: "BAD_USER_INPUT", fields } };
    }
    if (isDatabaseUnavailable(original)) {
      refused++;
      if (Date.now() - loggedAt >= UNAVAILABLE_LOG_INTERVAL_MS) {
        logger.warn({ err: original, refused }, "database unreachable: answering SERVICE_UNAVAILABLE");
        loggedAt = Date.now();
        refused = 0;
      }
      return { ...base, message: ErrorCode.SERVICE_UNAVAILABLE.message, extensions: { code: "SERVICE_UNAVAILABLE" } };
    }
    const { http: _http, stacktrace: _stack, exception: _ex, ...extensions } = formatted.extensions ?? {};
    const code = extensions.code;
    if ((code === "GRAPHQL_PARSE_FAILED" || code === "GRAPHQL_VALIDATION_FAILED") && error instanceof GraphQLError) {
      return { ...formatted, message: withoutStringLiterals(formatted.message, error.source?.body), extensions };
    }
    const intentional = original instanceof GraphQLError && !original.originalError;
    const catalogued = typeof code === "string" && Object.hasOwn(ErrorCode, code);
    if (catalogued && code !== "INTERNAL_SERVER_ERROR") return { ...formatted, extensions };
    if (intentional && code === "INTERNAL_SERVER_ERROR") return { ...formatted, extensions };
    logger.error({ err: original, code }, catalogued ? "unexpected error" : "error code missing from the catalog");
    return { ...base, message: "Internal server error.", extensions: { code: "INTERNAL_SERVER_ERROR" } };
  };
}
