import { sessionExchange } from "@session-api/client/urql";
import { Client, cacheExchange, fetchExchange } from "urql";
import { apiUrl } from "./config";
import type { SessionClient } from "./lib/auth";

/** urql through the SDK's exchange: it adds the access token, refreshes it, and carries subscriptions. */
export function createGraphQLClient(auth: SessionClient): Client {
  return new Client({
    url: apiUrl(),
    exchanges: [cacheExchange, sessionExchange(auth), fetchExchange],
    requestPolicy: "cache-and-network",
    // POST always: the server serves no GraphQL over GET to browsers (CSRF preflight rules).
    preferGetMethod: false,
  });
}
