import type { ApolloServerPlugin, BaseContext, GraphQLRequestListener } from "@apollo/server";
import { type DocumentNode, type GraphQLError, type GraphQLSchema, parse } from "graphql";
import { validateBeforeSpecifiedRules } from "../graphql/subscription-root";

/**
 * Automatic persisted queries are not served (Apollo's `persistedQueries: false`): a request
 * with `extensions.persistedQuery` gets PERSISTED_QUERY_NOT_SUPPORTED, which Apollo sends at
 * HTTP 200 with a cache header of its own; this makes it the catalog's 400 (and leaves our
 * `no-store`). A session API has no use for a query cache keyed by clients, and an operation
 * is then always the text the request carries, the text the context builder reads for
 * "logout alone". Apollo's clients fall back to sending the query on this code.
 */
export function refusePersistedQueries(): ApolloServerPlugin {
  return persistedQueryRefusal;
}

// One listener for every request (this runs on every request); it keeps no state of its own.
const persistedQueryListener: GraphQLRequestListener<BaseContext> = {
  async willSendResponse({ response }) {
    if (response.body.kind !== "single") return;
    if (!response.body.singleResult.errors?.some((e) => e.extensions?.code === "PERSISTED_QUERY_NOT_SUPPORTED")) return;
    response.http.status = 400;
    response.http.headers.delete("cache-control");
  },
};
const persistedQueryRefusal: ApolloServerPlugin = {
  async requestDidStart() {
    return persistedQueryListener;
  },
};

/**
 * The refusal, as an HTTP answer's errors, of a document that graphql-js's specified rules
 * would throw on rather than refuse (see graphql/subscription-root.ts); null for any other.
 * Checked before Apollo runs, since Apollo always runs those rules first and answers a rule
 * that throws with a 500. Only a document that mentions a subscription and @skip or @include
 * is parsed here (by name: commas are whitespace in GraphQL, so "@, skip" is a directive too).
 */
export function refusedBeforeValidation(query: unknown, schema: GraphQLSchema, maxTokens: number): GraphQLError[] | null {
  if (typeof query !== "string" || !/subscription/.test(query) || !/\b(skip|include)\b/.test(query)) return null;
  let document: DocumentNode;
  try {
    document = parse(query, { maxTokens });
  } catch {
    return null; // Apollo answers GRAPHQL_PARSE_FAILED
  }
  const errors = validateBeforeSpecifiedRules(schema, document);
  return errors.length ? errors : null;
}
