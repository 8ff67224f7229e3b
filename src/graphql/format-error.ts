import { unwrapResolverError } from "@apollo/server/errors";
import { GraphQLError, type GraphQLFormattedError, type GraphQLSchema } from "graphql";
import { ArgumentValidationError } from "type-graphql";
import { badUserInputMessage, type FieldProblem } from "../errors/error-codes";
import type { Logger } from "../lib/logger";
import { coercionProblem, validationProblems } from "./input-problems";

/**
 * Every error leaves with an `extensions.code` and nothing internal: no stack trace (Apollo's
 * `includeStacktraceInErrorResponses` is off), no `http` extension, and errors we did not
 * raise on purpose are logged here and answered as INTERNAL_SERVER_ERROR with a fixed message.
 *
 * BAD_USER_INPUT has one shape whichever part of the server refused the input:
 * `{ message: "Invalid input: ...", extensions: { code, fields: [{ field, messages }] } }`
 * for class-validator rules, for variables graphql-js could not coerce (Apollo's own
 * BAD_USER_INPUT, whose message would repeat the value) and for resolvers' checks
 * (`badUserInput`).
 */
export function createErrorFormatter(logger: Logger, schema: GraphQLSchema) {
  const badUserInput = (formatted: GraphQLFormattedError, fields: FieldProblem[], message = badUserInputMessage(fields)) => ({
    message,
    locations: formatted.locations,
    path: formatted.path,
    extensions: { code: "BAD_USER_INPUT", fields },
  });
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    if (original instanceof ArgumentValidationError) return badUserInput(formatted, validationProblems(original.extensions.validationErrors));
    const { http: _http, stacktrace: _stack, exception: _ex, ...extensions } = formatted.extensions ?? {};
    const code = extensions.code;
    if (code === "BAD_USER_INPUT" && !Array.isArray(extensions.fields)) {
      const coercion = error instanceof GraphQLError ? coercionProblem(error, schema) : null;
      return coercion ? badUserInput(formatted, [coercion]) : badUserInput(formatted, [], formatted.message);
    }
    const intentional = original instanceof GraphQLError && !original.originalError;
    if (typeof code === "string" && code !== "INTERNAL_SERVER_ERROR") return { ...formatted, extensions };
    if (intentional && code === "INTERNAL_SERVER_ERROR") return { ...formatted, extensions };
    logger.error({ err: original }, "unexpected error");
    return { message: "Internal server error.", locations: formatted.locations, path: formatted.path, extensions: { code: "INTERNAL_SERVER_ERROR" } };
  };
}
