import { startTestServer, type TestServer } from "./support/test-server";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ NODE_ENV: "production", PASSWORD_HASH_COST: "17" });
});
afterAll(() => server.stop());

describe("in production", () => {
  it("refuses introspection", async () => {
    const res = await server.post({ query: "{ __schema { types { name } } }" });
    expect(res.status).toBe(400);
    expect(res.errors?.[0].extensions.code).toBe("GRAPHQL_VALIDATION_FAILED");
    expect(res.data).toBeUndefined();
  });

  it("does not suggest field names", async () => {
    const res = await server.post({ query: "{ mySession { id } }" });
    expect(res.errors?.[0].extensions.code).toBe("GRAPHQL_VALIDATION_FAILED");
    expect(res.errors?.[0].message).not.toMatch(/did you mean/i);
  });

  it("answers malformed requests with a code and no stack trace", async () => {
    for (const body of ["{not json", JSON.stringify({ query: "{" }), JSON.stringify({ nope: 1 })]) {
      const res = await server.post(body);
      expect(res.status).toBe(400);
      expect(res.errors?.[0].extensions.code).toEqual(expect.any(String));
      expect(JSON.stringify(res)).not.toMatch(/stacktrace|\bat .*\.(js|ts):\d+/);
    }
  });

  it("applies the same query limits and refuses aliased logins", async () => {
    const aliases = Array.from({ length: 16 }, (_, i) => `a${i}: __typename`).join(" ");
    expect((await server.post({ query: `{ ${aliases} }` })).errors?.[0].extensions).toEqual({
      code: "GRAPHQL_VALIDATION_FAILED",
      reason: "MAX_ALIASES",
    });
    const login = (alias: string) => `${alias}: login(input: { email: "a@b.test", password: "whatever1" }) { accessToken }`;
    const res = await server.post({ query: `mutation { ${login("a")} ${login("b")} }` });
    expect(res.status).toBe(400);
    expect(res.errors?.[0].extensions).toEqual({ code: "GRAPHQL_VALIDATION_FAILED", reason: "CREDENTIAL_BATCH" });
  });

  it("masks unexpected failures as INTERNAL_SERVER_ERROR", async () => {
    await server.sql("ALTER TABLE users RENAME TO users_gone");
    try {
      const res = await server.post({
        query: 'mutation { login(input: { email: "a@b.test", password: "whatever1" }) { accessToken } }',
      });
      expect(res.errors).toEqual([
        expect.objectContaining({
          message: "Internal server error.",
          extensions: { code: "INTERNAL_SERVER_ERROR", requestId: res.headers.get("x-request-id") },
        }),
      ]);
      expect(JSON.stringify(res)).not.toContain("users");
    } finally {
      await server.sql("ALTER TABLE users_gone RENAME TO users");
    }
  });
});
