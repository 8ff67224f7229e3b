import type { SessionClient } from "@session-api/client";
import { sessionExchange } from "@session-api/client/urql";
import { Client, cacheExchange, fetchExchange } from "urql";
import { apiUrl } from "./config";

/**
 * urql through the SDK's exchange, which adds the access token, refreshes it when refused, and
 * signs the client out when the server says the session is over. The app makes one Client
 * per session, so nothing one session cached is ever shown to the next.
 */
export function createGraphQLClient(auth: SessionClient): Client {
  return new Client({
    url: apiUrl(),
    exchanges: [sessionExchange(auth), cacheExchange, fetchExchange],
    requestPolicy: "cache-and-network",
    // POST always: the server serves no GraphQL over GET to browsers (CSRF preflight rules).
    preferGetMethod: false,
  });
}
