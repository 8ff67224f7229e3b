import { startTestServer, type TestServer } from "./support/test-server";
import { PASSWORD, signUp } from "./support/users";

let server: TestServer;
let user: Awaited<ReturnType<typeof signUp>>;
beforeAll(async () => {
  server = await startTestServer({
    GRAPHQL_MAX_DEPTH: "3",
    GRAPHQL_MAX_ALIASES: "5",
    GRAPHQL_MAX_TOKENS: "400",
    GRAPHQL_MAX_COST: "1000",
  });
  user = await signUp(server);
});
afterAll(() => server.stop());

const sessionCount = async () =>
  (await server.sql<{ n: number }>("SELECT count(*)::int AS n FROM sessions WHERE user_id = $1", [user.user.id]))[0].n;
const loginField = (alias: string) =>
  `${alias}: login(input: { email: "${user.email}", password: "${PASSWORD}" }) { accessToken }`;

describe("credential mutations are one per operation", () => {
  it("refuses two aliased logins in one operation before running either", async () => {
    const before = await sessionCount();
    const res = await server.post({ query: `mutation { ${loginField("a")} ${loginField("b")} }` });
    expect(res.status).toBe(400);
    expect(res.data).toBeUndefined();
    expect(res.errors).toEqual([
      expect.objectContaining({
        message: "Only one sign-in or credential change is allowed per operation.",
        extensions: { code: "GRAPHQL_VALIDATION_FAILED", reason: "CREDENTIAL_BATCH" },
      }),
    ]);
    expect(await sessionCount()).toBe(before);
  });

  it("refuses a mix of credential mutations, also when hidden in fragments", async () => {
    const res = await server.post({
      query: `mutation { ...A ...B }
        fragment A on Mutation { refreshSession(refreshToken: "x") { accessToken } }
        fragment B on Mutation { reauthenticate(password: "whatever") }`,
    });
    expect(res.errors?.[0].extensions).toEqual({ code: "GRAPHQL_VALIDATION_FAILED", reason: "CREDENTIAL_BATCH" });
  });

  it("still allows one login with other fields", async () => {
    const res = await server.post({ query: `mutation { ${loginField("only")} logout }` });
    expect(res.errors).toBeUndefined();
  });

  it("refuses JSON-array batching", async () => {
    const before = await sessionCount();
    const one = { query: `mutation { ${loginField("a")} }` };
    const res = await server.post([one, one, one]);
    expect(res.status).toBe(400);
    expect(res.errors?.[0].extensions.code).toEqual(expect.any(String));
    expect(await sessionCount()).toBe(before);
  });
});

describe("query limits, checked before execution", () => {
  it("refuses a query deeper than GRAPHQL_MAX_DEPTH, counting through fragments", async () => {
    // Our schema is shallow, so this server allows 3 levels: mySecurityEvents > edges > node > id is 4.
    const ok = await server.post({ query: "{ mySessions { id } me { id } }" }, { token: user.accessToken });
    expect(ok.errors).toBeUndefined();
    for (const query of [
      "{ mySecurityEvents { edges { node { id } } } }",
      "{ mySecurityEvents { ...E } } fragment E on SecurityEventConnection { edges { ... on SecurityEventEdge { node { id } } } }",
    ]) {
      const res = await server.post({ query }, { token: user.accessToken });
      expect(res.status).toBe(400);
      expect(res.data).toBeUndefined();
      expect(res.errors).toEqual([
        expect.objectContaining({
          message: "Query is deeper than 3 levels.",
          extensions: { code: "GRAPHQL_VALIDATION_FAILED", reason: "MAX_DEPTH" },
        }),
      ]);
    }
  });

  it("refuses more than GRAPHQL_MAX_ALIASES aliases, counting those inside fragments", async () => {
    const aliases = (n: number) => Array.from({ length: n }, (_, i) => `a${i}: __typename`).join(" ");
    expect((await server.post({ query: `{ ${aliases(5)} }` })).errors).toBeUndefined();
    const res = await server.post({ query: `{ ${aliases(3)} ...F } fragment F on Query { ${aliases(3)} }` });
    expect(res.status).toBe(400);
    expect(res.errors?.[0]).toMatchObject({
      message: "Operation uses more than 5 aliases.",
      extensions: { code: "GRAPHQL_VALIDATION_FAILED", reason: "MAX_ALIASES" },
    });
  });

  it("counts a list field by its page size against GRAPHQL_MAX_COST, not once, before running anything", async () => {
    const sessions = (alias: string, args = "") => `${alias}: mySessions${args} { id current }`;
    const ask = (query: string, variables?: Record<string, unknown>) =>
      server.post({ query, variables }, { token: user.accessToken });
    // 3 × 100 sessions × (the list + 2 fields) = 900; a fourth alias makes 1,200.
    expect((await ask(`{ ${["a", "b", "c"].map((a) => sessions(a)).join(" ")} }`)).errors).toBeUndefined();
    const refusal = {
      message: "Operation costs more than 1000 (each field counts once per item of the lists above it; ask for smaller pages).",
      extensions: { code: "GRAPHQL_VALIDATION_FAILED", reason: "MAX_COST" },
    };
    for (const query of [
      `{ ${["a", "b", "c", "d"].map((a) => sessions(a)).join(" ")} }`,
      `{ ...F ...G } fragment F on Query { ${sessions("a")} ${sessions("b")} } fragment G on Query { ${sessions("c")} ${sessions("d")} }`,
    ]) {
      const res = await ask(query);
      expect(res.status).toBe(400);
      expect(res.data).toBeUndefined();
      expect(res.errors).toEqual([expect.objectContaining(refusal)]);
    }
    // Smaller pages cost less; a page size in a variable counts as the most it may ask for.
    expect((await ask(`{ ${["a", "b", "c", "d"].map((a) => sessions(a, "(first: 10)")).join(" ")} }`)).errors).toBeUndefined();
    const variable = await ask(`query ($n: Int) { ${["a", "b", "c", "d"].map((a) => sessions(a, "(first: $n)")).join(" ")} }`, {
      n: 10,
    });
    expect(variable.errors).toEqual([expect.objectContaining(refusal)]);
  });

  it("refuses a document with more than GRAPHQL_MAX_TOKENS tokens without parsing it all", async () => {
    const res = await server.post({ query: `{ ${"__typename ".repeat(500)} }` });
    expect(res.status).toBe(400);
    expect(res.errors?.[0]).toMatchObject({
      message: expect.stringMatching(/contains more th.t 400 tokens/),
      extensions: { code: "GRAPHQL_PARSE_FAILED" },
    });
  });

  it("does not blow up on fragments spread many times (the limits are computed once per fragment)", async () => {
    const fragments = Array.from({ length: 12 }, (_, i) => `fragment F${i} on Query { ...F${i + 1} ...F${i + 1} }`).join(" ");
    const started = Date.now();
    const res = await server.post({ query: `{ ...F0 } ${fragments} fragment F12 on Query { __typename }` });
    expect(res.errors).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("answers a body over 100 KB with 413 before parsing it", async () => {
    const res = await server.post({ query: "{ __typename }", padding: "x".repeat(101 * 1024) });
    expect(res.status).toBe(413);
    expect(res.errors).toEqual([{ message: "Request body is larger than 100 KB.", extensions: { code: "PAYLOAD_TOO_LARGE" } }]);
  });
});
