import { type GraphQLSchema, printSchema } from "graphql";

/** The text of schema.graphql, in declaration order so it reads like the contract. */
export function printSchemaFile(schema: GraphQLSchema): string {
  return `# Generated from the TypeGraphQL schema by \`npm run schema\`. Do not edit by hand.\n\n${printSchema(schema)}\n`;
}
