import { createClient, type FormattedExecutionResult } from "graphql-ws";
import WebSocket from "ws";
import { type GraphQLResponse, startTestServer, type TestServer } from "./support/test-server";
import { PASSWORD, signUp } from "./support/users";

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

  describe("text PostgreSQL cannot hold (NUL, an unpaired surrogate)", () => {
    const signIn = `mutation SignIn($input: LoginInput!) { login(input: $input) { accessToken } }`;
    const refused = (field: string) => ({
      code: "BAD_USER_INPUT",
      fields: [{ field, messages: [`${field} must not contain a NUL character or an unpaired surrogate`] }],
    });

    it("is refused in any string input before any statement or password check, naming the field, never a 500", async () => {
      const user = await signUp(server);
      const cases: [Record<string, unknown>, string][] = [
        [{ email: user.email, password: PASSWORD, deviceName: "phone\u0000" }, "deviceName"],
        [{ email: `${user.email}\u0000`, password: PASSWORD }, "email"],
        [{ email: user.email, password: `${PASSWORD}\ud800` }, "password"],
        [{ email: user.email, password: PASSWORD, deviceName: "\udc00tablet" }, "deviceName"],
      ];
      for (const [input, field] of cases) {
        const res = await errorsOf(signIn, { input }, false);
        expect({ status: res.status, extensions: res.errors?.map((e) => e.extensions) }).toEqual({
          status: 400,
          extensions: [refused(field)],
        });
      }
      // The right password never got as far as the check: no session, no sign-in logged.
      const [{ n }] = await server.sql<{ n: number }>("SELECT count(*)::int AS n FROM sessions WHERE user_id = $1", [
        user.user.id,
      ]);
      expect(n).toBe(1);
      const register = await errorsOf(
        `mutation { register(input: { email: "nul@example.test", password: "${SECRET}", deviceName: "a\\u0000b" }) { accessToken } }`,
        undefined,
        false,
      );
      expect(register.errors?.map((e) => e.extensions)).toEqual([refused("deviceName")]);
      const scalar = await errorsOf(`mutation { logout(refreshToken: "\\u0000") }`);
      expect(scalar.errors?.map((e) => e.extensions)).toEqual([refused("refreshToken")]);
    });

    it("keeps a character outside the BMP (a surrogate pair) as ordinary text", async () => {
      const user = await signUp(server);
      const res = await errorsOf(
        signIn,
        { input: { email: user.email, password: PASSWORD, deviceName: "phone \ud83d\udcf1" } },
        false,
      );
      expect(res.errors).toBeUndefined();
    });

    it("is refused the same way over graphql-ws", async () => {
      const user = await signUp(server);
      const client = createClient({
        url: server.wsUrl,
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${user.accessToken}` },
        retryAttempts: 0,
      });
      try {
        const result = await new Promise<FormattedExecutionResult<Record<string, unknown>, unknown>>((resolve, reject) => {
          let last: FormattedExecutionResult<Record<string, unknown>, unknown> = {};
          client.subscribe(
            { query: signIn, variables: { input: { email: user.email, password: PASSWORD, deviceName: "x\u0000" } } },
            { next: (r) => (last = r), error: reject, complete: () => resolve(last) },
          );
        });
        expect(result.errors?.map((e) => e.extensions)).toEqual([refused("deviceName")]);
      } finally {
        await client.dispose();
      }
    });
  });
});
