import "reflect-metadata";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { printSchemaFile } from "../src/graphql/print-schema";
import { createSchema } from "../src/graphql/schema";

/** Writes schema.graphql from the TypeGraphQL schema; a test fails when the file is stale. */
async function main() {
  const file = path.join(__dirname, "..", "..", "schema.graphql");
  writeFileSync(file, printSchemaFile(await createSchema()));
  console.log(`wrote ${path.relative(process.cwd(), file)}`);
}

void main();
