import { type GraphQLSchema, printSchema } from "graphql";

/**
 * The text of schema.graphql, in declaration order so it reads like the contract. `command` is
 * the one that writes the file (an app prints its merged schema with its own).
 */
export function printSchemaFile(schema: GraphQLSchema, command = "npm run schema"): string {
  return `# Generated from the TypeGraphQL schema by \`${command}\`. Do not edit by hand.\n\n${printSchema(schema)}\n`;
}
