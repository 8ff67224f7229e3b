import type { ApolloServerPlugin } from "@apollo/server";
import { appError } from "../errors/error-codes";

/**
 * Subscriptions are served over graphql-ws only (see live/). Over HTTP, graphql-js would run a
 * subscription's root field as if it were a query, with no event to resolve ("Cannot return
 * null for non-nullable field"): an INTERNAL_SERVER_ERROR and an error-level log line for a
 * client's mistake.
 * Refused instead once the operation is known, before execution: 400 BAD_REQUEST, reason
 * SUBSCRIPTION_OVER_HTTP (a request error, as the GraphQL-over-HTTP spec classes one that
 * cannot be executed). GET needs nothing here: Apollo answers a GET that is not a query 405.
 */
export function refuseSubscriptionsOverHttp(): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation }) {
          if (operation?.operation !== "subscription") return;
          throw appError("BAD_REQUEST", {
            reason: "SUBSCRIPTION_OVER_HTTP",
            message: "Subscriptions are served over WebSocket (graphql-transport-ws) on this path, not over HTTP.",
          });
        },
      };
    },
  };
}
