import { unwrapResolverError } from "@apollo/server/errors";
import { GraphQLError, type GraphQLFormattedError, type GraphQLSchema, Kind } from "graphql";
import { ArgumentValidationError } from "type-graphql";
import { isDatabaseUnavailable } from "../db/database-unavailable";
import { badUserInputMessage, ErrorCode, type FieldProblem } from "../errors/error-codes";
import type { Logger } from "../lib/logger";
import { currentRequestId } from "../lib/request-scope";
import { type DocumentPolicy, documentMessage } from "./document-policy";
import { coercionProblem, validationProblems } from "./input-problems";

/** During an outage every request fails the same way: one log line per this many ms, with a count. */
const UNAVAILABLE_LOG_INTERVAL_MS = 10_000;

export const UNKNOWN_OPERATION = "No operation in the document has the operationName given.";

/**
 * Every error leaves with an `extensions.code` from the catalog and nothing internal: no stack
 * trace (Apollo's `includeStacktraceInErrorResponses` is off), no `http` extension. Errors we
 * did not raise on purpose, and codes missing from the catalog, are logged here and answered
 * as INTERNAL_SERVER_ERROR with a fixed message.
 *
 * An error that says the database cannot be reached (db/database-unavailable.ts) is
 * SERVICE_UNAVAILABLE, logged as a warning at most once per interval; the request then gets
 * 503 and Retry-After (http/service-unavailable.ts). Parse and validation messages are worded
 * by `documentMessage` (document-policy.ts): no string literal of the document, no huge name,
 * no suggestion in production. Both transports format with this, so they cannot differ.
 *
 * BAD_USER_INPUT has one shape whichever part of the server refused the input:
 * `{ message: "Invalid input: ...", extensions: { code, fields: [{ field, messages }] } }`
 * for class-validator rules, for variables graphql-js could not coerce (Apollo's own
 * BAD_USER_INPUT, whose message would repeat the value) and for resolvers' checks
 * (`badUserInput`).
 */
export function createErrorFormatter(logger: Logger, schema: GraphQLSchema, policy: Pick<DocumentPolicy, "isProduction">) {
  const badUserInput = (formatted: GraphQLFormattedError, fields: FieldProblem[], message = badUserInputMessage(fields)) => ({
    message,
    locations: formatted.locations,
    path: formatted.path,
    extensions: { code: "BAD_USER_INPUT", fields },
  });
  let refused = 0;
  let loggedAt = -Infinity;
  const format = (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    if (original instanceof ArgumentValidationError) {
      const { validationErrors } = original.extensions;
      // A validator that throws on its input (validator.js's isEmail on a lone surrogate: URIError)
      // leaves an error, not a list; the input is refused all the same.
      if (!Array.isArray(validationErrors)) return badUserInput(formatted, [], ErrorCode.BAD_USER_INPUT.message);
      return badUserInput(formatted, validationProblems(validationErrors));
    }
    if (isDatabaseUnavailable(original)) {
      refused++;
      if (Date.now() - loggedAt >= UNAVAILABLE_LOG_INTERVAL_MS) {
        logger.warn({ err: original, refused }, "database unreachable: answering SERVICE_UNAVAILABLE");
        loggedAt = Date.now();
        refused = 0;
      }
      return {
        message: ErrorCode.SERVICE_UNAVAILABLE.message,
        locations: formatted.locations,
        path: formatted.path,
        extensions: { code: "SERVICE_UNAVAILABLE" },
      };
    }
    const { http: _http, stacktrace: _stack, exception: _ex, ...extensions } = formatted.extensions ?? {};
    const code = extensions.code;
    if ((code === "GRAPHQL_PARSE_FAILED" || code === "GRAPHQL_VALIDATION_FAILED") && error instanceof GraphQLError) {
      return { ...formatted, message: documentMessage(formatted.message, error.source?.body, policy), extensions };
    }
    // Apollo quotes the operationName it could not find; the request's own text stays out.
    if (code === "OPERATION_RESOLUTION_FAILURE" && formatted.message.startsWith("Unknown operation named")) {
      return { ...formatted, message: UNKNOWN_OPERATION, extensions };
    }
    if (code === "BAD_USER_INPUT" && !Array.isArray(extensions.fields)) {
      const coercion = error instanceof GraphQLError ? coercionProblem(error, schema) : null;
      return coercion ? badUserInput(formatted, [coercion]) : badUserInput(formatted, [], formatted.message);
    }
    const intentional = original instanceof GraphQLError && !original.originalError;
    const catalogued = typeof code === "string" && Object.hasOwn(ErrorCode, code);
    if (catalogued && code !== "INTERNAL_SERVER_ERROR") return { ...formatted, extensions };
    if (intentional && code === "INTERNAL_SERVER_ERROR") return { ...formatted, extensions };
    logger.error({ err: original, code }, catalogued ? "unexpected error" : "error code missing from the catalog");
    return {
      message: "Internal server error.",
      locations: formatted.locations,
      path: formatted.path,
      extensions: { code: "INTERNAL_SERVER_ERROR" },
    };
  };
  return (formatted: GraphQLFormattedError, error: unknown) => withRequestIdExtension(format(formatted, error));
}

/**
 * The errors a user can do nothing about carry the request's id, so that their report can be
 * found in the logs (every line about the request has it, lib/request-scope.ts).
 */
export function withRequestIdExtension(formatted: GraphQLFormattedError): GraphQLFormattedError {
  const code = formatted.extensions?.code;
  if (code !== "INTERNAL_SERVER_ERROR" && code !== "SERVICE_UNAVAILABLE") return formatted;
  const requestId = currentRequestId();
  return requestId === undefined ? formatted : { ...formatted, extensions: { ...formatted.extensions, requestId } };
}

/**
 * An execution error as Apollo hands it to `formatError`, for a transport Apollo does not
 * serve (graphql-ws): its JSON with Apollo's default code, BAD_USER_INPUT for a variable
 * graphql-js could not coerce and INTERNAL_SERVER_ERROR for anything else uncoded.
 */
export function asApolloFormatted(error: GraphQLError): GraphQLFormattedError {
  const formatted = error.toJSON();
  if (typeof error.extensions.code === "string") return formatted;
  const coercion = error.nodes?.length === 1 && error.nodes[0].kind === Kind.VARIABLE_DEFINITION && !error.path;
  return { ...formatted, extensions: { ...formatted.extensions, code: coercion ? "BAD_USER_INPUT" : "INTERNAL_SERVER_ERROR" } };
}
