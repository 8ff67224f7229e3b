import { buildSubgraphSchema } from "@apollo/subgraph";
import type { GraphQLResolverMap } from "@apollo/subgraph/dist/schema-helper";
import {
  type ConstDirectiveNode,
  type DefinitionNode,
  type DocumentNode,
  type GraphQLSchema,
  isObjectType,
  Kind,
  parse,
  printSchema,
} from "graphql";
import { createResolversMap } from "type-graphql";
import type { GraphQLContext } from "./context";

/**
 * Federation mode (FEDERATION=true): the same schema served as an Apollo Federation 2 subgraph
 * by @apollo/subgraph (2.14, the last line that runs on Node 20). It adds `_service` (our SDL
 * with the keys below, which a gateway composes) and `_entities`.
 */
const LINK = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])';

/**
 * Resolves an entity a gateway names by its key. It answers only what the caller may see:
 * another user's entity, or any entity for an anonymous caller, is null, never someone
 * else's data. The request's session was checked before it ran, as for any other field.
 */
export type ReferenceResolver = (reference: { id: string }, ctx: GraphQLContext) => unknown;

const KEY: ConstDirectiveNode = {
  kind: Kind.DIRECTIVE,
  name: { kind: Kind.NAME, value: "key" },
  arguments: [{ kind: Kind.ARGUMENT, name: { kind: Kind.NAME, value: "fields" }, value: { kind: Kind.STRING, value: "id" } }],
};

/** Our SDL, with `@key(fields: "id")` on each entity type and the federation link. */
export function subgraphTypeDefs(schema: GraphQLSchema, entities: readonly string[]): DocumentNode {
  const definitions = parse(printSchema(schema)).definitions.map(
    (definition): DefinitionNode =>
      definition.kind === Kind.OBJECT_TYPE_DEFINITION && entities.includes(definition.name.value)
        ? { ...definition, directives: [...(definition.directives ?? []), KEY] }
        : definition,
  );
  return { kind: Kind.DOCUMENT, definitions: [...parse(LINK).definitions, ...definitions] };
}

/**
 * The subgraph schema: our types and resolvers (TypeGraphQL's, with their guards and
 * validation) plus an entity resolver per key. Field extensions, which SDL cannot carry (the
 * credential mark, credential-field.ts), are copied over so the query limits still read them.
 */
export function toSubgraphSchema(schema: GraphQLSchema, references: Readonly<Record<string, ReferenceResolver>>): GraphQLSchema {
  const resolvers = createResolversMap(schema) as GraphQLResolverMap<unknown>;
  for (const [type, resolveReference] of Object.entries(references)) {
    resolvers[type] = { ...resolvers[type], __resolveReference: resolveReference } as GraphQLResolverMap<unknown>[string];
  }
  const subgraph = buildSubgraphSchema({ typeDefs: subgraphTypeDefs(schema, Object.keys(references)), resolvers });
  for (const type of Object.values(schema.getTypeMap())) {
    const target = subgraph.getType(type.name);
    if (!isObjectType(type) || !isObjectType(target)) continue;
    const fields = target.getFields();
    for (const field of Object.values(type.getFields())) {
      if (fields[field.name] && Object.keys(field.extensions).length > 0) {
        Object.assign(fields[field.name], { extensions: { ...fields[field.name].extensions, ...field.extensions } });
      }
    }
  }
  return subgraph;
}
