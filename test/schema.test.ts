import { readFileSync } from "node:fs";
import path from "node:path";
import { printSchemaFile } from "../src/graphql/print-schema";
import { createSchema } from "../src/graphql/schema";

describe("schema.graphql", () => {
  it("is exactly what the TypeGraphQL schema prints (run `npm run schema` after changing it)", async () => {
    const checkedIn = readFileSync(path.join(__dirname, "..", "schema.graphql"), "utf8");
    expect(checkedIn).toBe(printSchemaFile(await createSchema()));
  });
});
