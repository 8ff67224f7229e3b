import { GraphQLError } from "graphql";
import { refusal } from "./refusal.js";
import type { RefusalReason } from "./verifier.js";

/**
 * A refusal as a GraphQL error that sets its HTTP status and headers (`extensions.http`, which
 * Yoga and Apollo Server both read and strip): the API's code and reason, the API's status.
 * Apollo Server iterates the headers as a Map (its HeaderMap); Yoga reads an object's keys.
 */
export function refusalError(reason: RefusalReason, headersAs: "map" | "object"): GraphQLError {
  const { status, headers, body } = refusal(reason);
  const [{ message, extensions }] = body.errors;
  const http = { status, headers: headersAs === "map" ? new Map(Object.entries(headers)) : headers };
  // Typed loosely: graphql-yoga, in the same program as a gateway, narrows `extensions.http`.
  const all: Record<string, unknown> = { ...extensions, http };
  return new GraphQLError(message, { extensions: all });
}
