import type { ApolloServerPlugin, GraphQLRequestListener } from "@apollo/server";
import type { GraphQLContext } from "../graphql/context";
import { serviceKeyFieldRefusal } from "../graphql/service-key-fields";

/**
 * Refuses, before execution, an operation made with a service key that selects a root field
 * no key may call (graphql/service-key-fields.ts). Requests with a user's session or none
 * pass through untouched.
 */
export function refuseUserFieldsToServiceKeys(): ApolloServerPlugin<GraphQLContext> {
  return plugin;
}

// One listener for every request (this runs on every request); it keeps no state of its own.
const listener: GraphQLRequestListener<GraphQLContext> = {
  async didResolveOperation({ contextValue, operation, document }) {
    if (!contextValue.service || !operation) return;
    const fragments = Object.fromEntries(
      document.definitions.flatMap((d) => (d.kind === "FragmentDefinition" ? [[d.name.value, d] as const] : [])),
    );
    const refusal = serviceKeyFieldRefusal(operation, fragments);
    if (refusal) throw refusal;
  },
};
const plugin: ApolloServerPlugin<GraphQLContext> = {
  async requestDidStart() {
    return listener;
  },
};
