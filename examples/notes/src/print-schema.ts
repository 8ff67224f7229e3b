import { writeFileSync } from "node:fs";
import path from "node:path";
import { printSchemaFile } from "session-api";
import { createNotesApi } from "./notes-api";

/**
 * npm run schema:notes: the app's merged schema (ours plus its own types), the contract its
 * codegen types operations from. schema.graphql at the root stays the session API's own.
 */
async function main() {
  const api = await createNotesApi();
  const file = path.join(__dirname, "..", "..", "..", "..", "examples", "notes", "schema.graphql");
  writeFileSync(file, printSchemaFile(api.schema, "npm run schema:notes"));
  console.log(`wrote ${path.relative(process.cwd(), file)}`);
}

void main();
