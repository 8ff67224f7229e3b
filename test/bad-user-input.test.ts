import { type GraphQLResponse, startTestServer, type TestServer } from "./support/test-server";
import { signUp } from "./support/users";

/**
 * BAD_USER_INPUT has one shape wherever it comes from: `message` "Invalid input: ..." (every
 * field's messages), `extensions: { code, fields: [{ field, messages }] }`, and never the
 * value that was refused. Whole error objects are compared.
 */
let server: TestServer;
let token: string;
beforeAll(async () => {
  server = await startTestServer();
  token = (await signUp(server)).accessToken;
});
afterAll(() => server.stop());

const SECRET = "hunter2hunter2hunter2";

async function errorsOf(query: string, variables?: Record<string, unknown>, withToken = true): Promise<GraphQLResponse<unknown>> {
  return server.post({ query, variables }, withToken ? { token } : {});
}

describe("BAD_USER_INPUT", () => {
  it("from an input type's validation lists each field and its messages", async () => {
    const res = await errorsOf(
      `mutation { register(input: { email: "not-an-email", password: "short" }) { accessToken } }`,
      undefined,
      false,
    );
    expect(res).toMatchObject({ status: 400, data: null });
    expect(res.errors).toEqual([
      {
        message: "Invalid input: email must be a valid email address; password must be 8 to 128 characters",
        locations: [{ line: 1, column: 12 }],
        path: ["register"],
        extensions: {
          code: "BAD_USER_INPUT",
          fields: [
            { field: "email", messages: ["email must be a valid email address"] },
            { field: "password", messages: ["password must be 8 to 128 characters"] },
          ],
        },
      },
    ]);
  });

  it("from an argument's validation (first above 100) has the same shape", async () => {
    const res = await errorsOf(`{ mySecurityEvents(first: 101) { pageInfo { hasNextPage } } }`);
    expect(res.errors).toEqual([
      {
        message: "Invalid input: first must not be greater than 100",
        locations: [{ line: 1, column: 3 }],
        path: ["mySecurityEvents"],
        extensions: { code: "BAD_USER_INPUT", fields: [{ field: "first", messages: ["first must not be greater than 100"] }] },
      },
    ]);
  });

  it("from a resolver's own check (a malformed session id, a foreign cursor) has the same shape", async () => {
    const revoke = await errorsOf(`mutation { revokeSession(id: "not-a-uuid") }`);
    expect(revoke).toMatchObject({ status: 400, data: null });
    expect(revoke.errors).toEqual([
      {
        message: "Invalid input: id must be a session id (a UUID)",
        locations: [{ line: 1, column: 12 }],
        path: ["revokeSession"],
        extensions: { code: "BAD_USER_INPUT", fields: [{ field: "id", messages: ["id must be a session id (a UUID)"] }] },
      },
    ]);
    const cursor = await errorsOf(`{ mySecurityEvents(after: "bm9wZQ") { pageInfo { hasNextPage } } }`);
    expect(cursor.errors).toEqual([
      {
        message: "Invalid input: after must be an endCursor from a previous page",
        locations: [{ line: 1, column: 3 }],
        path: ["mySecurityEvents"],
        extensions: {
          code: "BAD_USER_INPUT",
          fields: [{ field: "after", messages: ["after must be an endCursor from a previous page"] }],
        },
      },
    ]);
  });

  it("from a variable that cannot be coerced has the same shape, naming the variable, and the request is refused before execution", async () => {
    const res = await errorsOf(`query Page($first: Int) { mySecurityEvents(first: $first) { pageInfo { hasNextPage } } }`, {
      first: "lots",
    });
    expect(res.status).toBe(400);
    expect(res).not.toHaveProperty("data");
    expect(res.errors).toEqual([
      {
        message: "Invalid input: first must be a valid Int",
        locations: [{ line: 1, column: 12 }],
        extensions: { code: "BAD_USER_INPUT", fields: [{ field: "first", messages: ["first must be a valid Int"] }] },
      },
    ]);
  });

  it("from an input-object variable names the field inside it, like validation does, and never repeats the value", async () => {
    const query = `mutation SignIn($input: LoginInput!) { login(input: $input) { accessToken } }`;
    const wrongType = await errorsOf(query, { input: { email: "a@example.test", password: 12345678 } }, false);
    expect(wrongType.errors).toEqual([
      {
        message: "Invalid input: password must be a valid String",
        locations: [{ line: 1, column: 17 }],
        extensions: { code: "BAD_USER_INPUT", fields: [{ field: "password", messages: ["password must be a valid String"] }] },
      },
    ]);
    expect(JSON.stringify(wrongType)).not.toContain("12345678");

    const extraAndMissing = await errorsOf(query, { input: { password: SECRET, stayForever: true } }, false);
    expect(extraAndMissing.errors).toEqual([
      {
        message: "Invalid input: email is required (String!)",
        locations: [{ line: 1, column: 17 }],
        extensions: { code: "BAD_USER_INPUT", fields: [{ field: "email", messages: ["email is required (String!)"] }] },
      },
      {
        message: "Invalid input: stayForever is not a field of LoginInput",
        locations: [{ line: 1, column: 17 }],
        extensions: {
          code: "BAD_USER_INPUT",
          fields: [{ field: "stayForever", messages: ["stayForever is not a field of LoginInput"] }],
        },
      },
    ]);
    // graphql-js's own message would have repeated the whole input, password and all.
    expect(JSON.stringify(extraAndMissing)).not.toContain(SECRET);

    const missing = await errorsOf(query, {}, false);
    expect(missing.errors).toEqual([
      {
        message: "Invalid input: input is required (LoginInput!)",
        locations: [{ line: 1, column: 17 }],
        extensions: { code: "BAD_USER_INPUT", fields: [{ field: "input", messages: ["input is required (LoginInput!)"] }] },
      },
    ]);
    const isNull = await errorsOf(query, { input: null }, false);
    expect(isNull.errors?.[0].extensions).toEqual({
      code: "BAD_USER_INPUT",
      fields: [{ field: "input", messages: ["input must not be null (LoginInput!)"] }],
    });
  });
});
