import type { ApolloServerPlugin, BaseContext, GraphQLRequestListener } from "@apollo/server";
import { ErrorCode, SERVICE_UNAVAILABLE_RETRY_AFTER } from "../errors/error-codes";
import { withRequestIdExtension } from "../graphql/format-error";

/**
 * When the error formatter has turned an error raised during execution into
 * SERVICE_UNAVAILABLE (the database could not be reached, see db/database-unavailable.ts),
 * the whole request is refused: the answer is the refusal the context builder gives before
 * execution, no `data` (nothing is let through, not even the fields that needed no database),
 * HTTP 503 and a Retry-After. Without a `data` entry this is a request error, which
 * GraphQL-over-HTTP answers with a 4xx or 5xx status.
 */
export function serviceUnavailableStatus(): ApolloServerPlugin {
  return serviceUnavailable;
}

// One listener for every request (this runs on every request); it keeps no state of its own.
const listener: GraphQLRequestListener<BaseContext> = {
  async willSendResponse({ response }) {
    if (response.body.kind !== "single") return;
    if (!response.body.singleResult.errors?.some((e) => e.extensions?.code === "SERVICE_UNAVAILABLE")) return;
    response.body.singleResult = {
      errors: [
        withRequestIdExtension({ message: ErrorCode.SERVICE_UNAVAILABLE.message, extensions: { code: "SERVICE_UNAVAILABLE" } }),
      ],
    };
    response.http.status = 503;
    response.http.headers.set("retry-after", String(SERVICE_UNAVAILABLE_RETRY_AFTER));
  },
};
const serviceUnavailable: ApolloServerPlugin = {
  async requestDidStart() {
    return listener;
  },
};
