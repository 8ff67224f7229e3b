import { readFileSync } from "node:fs";
import path from "node:path";
import { buildSchema, type GraphQLEnumType, type GraphQLObjectType, isEnumType, isNonNullType } from "graphql";
import { createNotesApi } from "../examples/notes/src/notes-api";
import { printSchemaFile } from "../src/graphql/print-schema";
import { createSchema } from "../src/graphql/schema";

const checkedIn = readFileSync(path.join(__dirname, "..", "schema.graphql"), "utf8");

describe("schema.graphql", () => {
  it("is exactly what the TypeGraphQL schema prints (run `npm run schema` after changing it)", async () => {
    expect(checkedIn).toBe(printSchemaFile(await createSchema()));
  });

  it("stays the session API's own contract, and an app's merged schema is its own file (npm run schema:notes)", async () => {
    const notes = (await createNotesApi()).schema;
    const merged = readFileSync(path.join(__dirname, "..", "examples", "notes", "schema.graphql"), "utf8");
    expect(merged).toBe(printSchemaFile(notes, "npm run schema:notes"));
    expect(checkedIn).not.toContain("Note");
    // Built after the app's (TypeGraphQL's metadata is global): still ours alone.
    expect(printSchemaFile(await createSchema())).toBe(checkedIn);
  });

  it("describes every value of every enum, so a frontend's generated types explain each one", () => {
    const schema = buildSchema(checkedIn);
    const enums = Object.values(schema.getTypeMap()).filter(
      (t): t is GraphQLEnumType => isEnumType(t) && !t.name.startsWith("__"),
    );
    expect(enums.map((e) => e.name)).toEqual(expect.arrayContaining(["RevocationReason", "SecurityEventType"]));
    const undescribed = enums.flatMap((e) =>
      e
        .getValues()
        .filter((v) => !v.description?.trim())
        .map((v) => `${e.name}.${v.name}`),
    );
    expect(undescribed).toEqual([]);
    for (const e of enums) expect(e.description?.trim()).toBeTruthy();
  });

  it("types SecurityEvent.type as the SecurityEventType enum, not a string", () => {
    const schema = buildSchema(checkedIn);
    const field = (schema.getType("SecurityEvent") as GraphQLObjectType).getFields().type;
    expect(isNonNullType(field.type) && field.type.ofType.toString()).toBe("SecurityEventType");
    expect((schema.getType("SecurityEventType") as GraphQLEnumType).getValues().map((v) => v.name)).toEqual([
      "REGISTER",
      "LOGIN",
      "LOGIN_FAILED",
      "LOGOUT",
      "SESSION_REVOKED",
      "REFRESH_TOKEN_REUSE",
      "REAUTHENTICATED",
      "PASSWORD_CHANGED",
      "EMAIL_CHANGED",
      "ACCOUNT_LOCKED",
      "ACCOUNT_UNLOCKED",
      "ROLE_CHANGED",
    ]);
  });
});
