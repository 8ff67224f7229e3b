import { unwrapResolverError } from "@apollo/server/errors";
import { GraphQLError, type GraphQLFormattedError } from "graphql";
import { ArgumentValidationError } from "type-graphql";
import type { Logger } from "../lib/logger";

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

/**
 * Every error leaves with an `extensions.code` and nothing internal: no stack trace (Apollo's
 * `includeStacktraceInErrorResponses` is off), no `http` extension, and errors we did not
 * raise on purpose are logged here and answered as INTERNAL_SERVER_ERROR with a fixed message.
 */
export function createErrorFormatter(logger: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    const base = { locations: formatted.locations, path: formatted.path };
    if (original instanceof ArgumentValidationError) {
      const fields = fieldProblems(original.extensions.validationErrors);
      const message = `Invalid input: ${fields.flatMap((f) => f.messages).join("; ")}`;
      return { ...base, message, extensions: { code: "BAD_USER_INPUT", fields } };
    }
    const { http: _http, stacktrace: _stack, exception: _ex, ...extensions } = formatted.extensions ?? {};
    const code = extensions.code;
    const intentional = original instanceof GraphQLError && !original.originalError;
    if (typeof code === "string" && code !== "INTERNAL_SERVER_ERROR") return { ...formatted, extensions };
    if (intentional && code === "INTERNAL_SERVER_ERROR") return { ...formatted, extensions };
    logger.error({ err: original }, "unexpected error");
    return { ...base, message: "Internal server error.", extensions: { code: "INTERNAL_SERVER_ERROR" } };
  };
}
