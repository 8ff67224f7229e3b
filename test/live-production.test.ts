import { type Client, createClient } from "graphql-ws";
import WebSocket from "ws";
import { startTestServer, type TestServer } from "./support/test-server";
import { signUp } from "./support/users";

/**
 * In production, a document sent over graphql-ws is refused and worded exactly as over HTTP:
 * both transports validate with one rule set and format with one formatter
 * (src/graphql/document-policy.ts).
 */
let server: TestServer;
let client: Client;
beforeAll(async () => {
  server = await startTestServer({ NODE_ENV: "production", PASSWORD_HASH_COST: "17" });
  const user = await signUp(server);
  client = createClient({
    url: server.wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${user.accessToken}` },
    retryAttempts: 0,
  });
});
afterAll(async () => {
  await client.dispose();
  await server.stop();
});

/** The errors graphql-ws's `error` message carries for `query`. */
function overWebSocket(query: string): Promise<unknown[]> {
  return new Promise((resolve, reject) =>
    client.subscribe(
      { query },
      {
        next: (result) => reject(new Error(`ran: ${JSON.stringify(result).slice(0, 200)}`)),
        error: (errors) => (Array.isArray(errors) ? resolve(errors) : reject(errors)),
        complete: () => reject(new Error("completed without an error")),
      },
    ),
  );
}

const LONG_NAME = `f${"x".repeat(90 * 1024)}`;

describe("in production, over graphql-ws as over HTTP", () => {
  it.each([
    ["introspection", "{ __schema { types { name } } }"],
    ["introspection of one type", '{ __type(name: "User") { fields { name } } }'],
    ["a misspelt field (no 'Did you mean')", "{ mee { id } }"],
    ["a misspelt argument", "{ mySecurityEvents(frist: 1) { edges { cursor } } }"],
  ])("refuses %s with the very errors HTTP gives", async (_, query) => {
    const http = await server.post({ query });
    expect(http.status).toBe(400);
    const ws = await overWebSocket(query);
    expect(ws).toEqual(http.errors);
    expect(JSON.stringify(ws)).not.toMatch(/did you mean/i);
    for (const error of ws as { extensions: { code: string } }[]) expect(error.extensions.code).toBe("GRAPHQL_VALIDATION_FAILED");
  });

  it("does not echo a 90 KB field name back on either transport, only its first characters", async () => {
    const query = `{ ${LONG_NAME} }`;
    const http = await server.post({ query });
    const ws = await overWebSocket(query);
    expect(ws).toEqual(http.errors);
    expect(http.errors).toEqual([
      expect.objectContaining({
        message: `Cannot query field "${LONG_NAME.slice(0, 64)}…" on type "Query".`,
        extensions: { code: "GRAPHQL_VALIDATION_FAILED" },
      }),
    ]);
    expect(JSON.stringify(http).length).toBeLessThan(500);
  });

  it("does not echo a 90 KB key of a variable back in BAD_USER_INPUT either", async () => {
    const res = await server.post({
      query: "mutation ($input: LoginInput!) { login(input: $input) { accessToken } }",
      variables: { input: { email: "a@b.test", password: "whatever1", [LONG_NAME]: 1 } },
    });
    expect(res.errors?.[0].extensions).toEqual({
      code: "BAD_USER_INPUT",
      fields: [
        {
          field: `${LONG_NAME.slice(0, 64)}…`,
          messages: [`${LONG_NAME.slice(0, 64)}… is not a field of LoginInput`],
        },
      ],
    });
    expect(JSON.stringify(res).length).toBeLessThan(1000);
  });
});
