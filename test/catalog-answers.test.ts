import { connect } from "node:net";
import WebSocket from "ws";
import { startTestServer, type TestServer } from "./support/test-server";
import { PASSWORD, signUp } from "./support/users";

/**
 * Inputs the seeded fuzzer found answered outside the contract, one test each, every answer
 * compared whole: each must be a refusal from the catalog (src/errors/error-codes.ts,
 * src/errors/close-codes.ts). The fuzzer (fuzz.test.ts) keeps the general property.
 */
let server: TestServer;
const sockets: WebSocket[] = [];
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  for (const socket of sockets) socket.terminate();
  await server.stop();
});

type Message = { type: string; id?: string; payload?: unknown };

/** An acknowledged graphql-transport-ws socket, its messages, and how it closed. */
async function acknowledgedSocket(token: string) {
  const socket = new WebSocket(server.wsUrl, "graphql-transport-ws");
  sockets.push(socket);
  const messages: Message[] = [];
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.once("close", (code, reason) => resolve({ code, reason: String(reason) })),
  );
  await new Promise((resolve) => socket.once("open", resolve));
  const acked = new Promise<void>((resolve) =>
    socket.on("message", (data) => {
      const message = JSON.parse(String(data)) as Message;
      messages.push(message);
      if (message.type === "connection_ack") resolve();
    }),
  );
  socket.send(JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${token}` } }));
  await acked;
  const next = async (predicate: (m: Message) => boolean) => {
    for (const end = Date.now() + 3000; Date.now() < end; await new Promise((r) => setTimeout(r, 20))) {
      const found = messages.find(predicate);
      if (found) return found;
    }
    throw new Error(`no such message; got ${JSON.stringify(messages)}`);
  };
  return { socket, messages, closed, next };
}

/** Writes bytes to the server's port and reads the whole answer (the server closes). */
function rawHttp(request: string): Promise<{ status: number; headers: string; body: unknown }> {
  const url = new URL(server.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname, () => socket.write(request));
    let data = "";
    socket.on("data", (chunk) => (data += chunk));
    socket.on("error", reject);
    socket.on("close", () => {
      const [head, body] = data.split("\r\n\r\n");
      resolve({ status: Number(head.split(" ")[1]), headers: head.toLowerCase(), body: JSON.parse(body) });
    });
  });
}

describe("answers the fuzzer found outside the catalog", () => {
  it("never repeats a password that could not be coerced as a variable", async () => {
    const user = await signUp(server);
    const res = await server.post({
      query: "mutation ($i: LoginInput!) { login(input: $i) { accessToken } }",
      variables: { i: { email: user.email, password: [PASSWORD] } },
    });
    expect(JSON.stringify(res.errors)).not.toContain(PASSWORD);
    expect(res.errors?.[0].extensions).toEqual({
      code: "BAD_USER_INPUT",
      fields: [{ field: "password", messages: [expect.any(String)] }],
    });
  });

  it("refuses an email its validator cannot even read (a lone surrogate) as BAD_USER_INPUT naming it, not a 500", async () => {
    const user = await signUp(server);
    const res = await server.post(
      {
        query: "mutation ($e: String!, $c: String!) { changeEmail(newEmail: $e, currentPassword: $c) }",
        variables: { e: "\ud800", c: PASSWORD },
      },
      { token: user.accessToken },
    );
    expect({ status: res.status, errors: res.errors }).toEqual({
      status: 400,
      errors: [
        {
          message: "Invalid input: newEmail must not contain a NUL character or an unpaired surrogate",
          locations: [{ line: 1, column: 39 }],
          path: ["changeEmail"],
          extensions: {
            code: "BAD_USER_INPUT",
            fields: [{ field: "newEmail", messages: ["newEmail must not contain a NUL character or an unpaired surrogate"] }],
          },
        },
      ],
    });
  });

  it("never repeats a password written into the document, in a parse or validation error", async () => {
    const parse = await server.post({ query: `mutation { reauthenticate(password: "${PASSWORD}" "${PASSWORD}") }` });
    const validation = await server.post({ query: `mutation { reauthenticate(password: ["${PASSWORD}"]) }` });
    expect([parse.status, parse.errors?.[0].extensions.code]).toEqual([400, "GRAPHQL_PARSE_FAILED"]);
    expect([validation.status, validation.errors?.[0].extensions.code]).toEqual([400, "GRAPHQL_VALIDATION_FAILED"]);
    expect(JSON.stringify([parse.errors, validation.errors])).not.toContain(PASSWORD);
  });

  it("refuses automatic persisted queries with 400 PERSISTED_QUERY_NOT_SUPPORTED, whatever their shape", async () => {
    const shapes = [
      { extensions: { persistedQuery: { version: 1, sha256Hash: "0".repeat(64) } } },
      { extensions: { persistedQuery: { version: 2, sha256Hash: "abc" } } },
      { query: "{ __typename }", extensions: { persistedQuery: { version: 1, sha256Hash: "abc" } } },
      { extensions: { persistedQuery: "yes" } },
    ];
    for (const body of shapes) {
      const res = await server.post(body);
      expect({ status: res.status, cacheControl: res.headers.get("cache-control"), errors: res.errors }).toEqual({
        status: 400,
        cacheControl: "no-store",
        errors: [{ message: "PersistedQueryNotSupported", extensions: { code: "PERSISTED_QUERY_NOT_SUPPORTED" } }],
      });
    }
  });

  it("refuses @skip or @include on a subscription's root field as a validation error over HTTP", async () => {
    const user = await signUp(server);
    const documents = [
      { query: "subscription { sessionRevoked @skip }" },
      { query: "subscription ($b: Boolean!) { sessionRevoked @include(if: $b) { sessionId } }", variables: { b: true } },
      { query: "subscription { ...S } fragment S on Subscription { sessionRevoked @skip(if: false) { sessionId } }" },
      { query: "subscription ($b: Boolean!) { sessionRevoked @, include(if: $b) { sessionId } }", variables: { b: true } },
    ];
    for (const body of documents) {
      for (const token of [undefined, user.accessToken]) {
        const res = await server.post(body, { token });
        expect({ status: res.status, codes: res.errors?.map((e) => e.extensions.code) }).toEqual({
          status: 400,
          codes: ["GRAPHQL_VALIDATION_FAILED"],
        });
      }
    }
  });

  it("gives that refusal the status and media type of any validation error, per Accept", async () => {
    const body = { query: "subscription { sessionRevoked @skip(if: true) { sessionId } }" };
    const answers = await Promise.all([server.post(body), server.post(body, { headers: { accept: "application/json" } })]);
    expect(answers.map((a) => [a.status, a.headers.get("content-type"), a.errors?.[0].extensions.code])).toEqual([
      [400, "application/graphql-response+json; charset=utf-8", "GRAPHQL_VALIDATION_FAILED"],
      [200, "application/json; charset=utf-8", "GRAPHQL_VALIDATION_FAILED"],
    ]);
  });

  it("answers the same documents over graphql-ws with an error message, the socket left open", async () => {
    const user = await signUp(server);
    const live = await acknowledgedSocket(user.accessToken);
    live.socket.send(
      JSON.stringify({
        id: "a",
        type: "subscribe",
        payload: {
          query: "subscription ($b: Boolean!) { sessionRevoked @include(if: $b) { sessionId } }",
          variables: { b: true },
        },
      }),
    );
    live.socket.send(
      JSON.stringify({
        id: "b",
        type: "subscribe",
        payload: { query: "subscription { sessionRevoked @skip(if: true) { sessionId } }" },
      }),
    );
    for (const id of ["a", "b"]) {
      const error = await live.next((m) => m.id === id);
      expect(error).toEqual({
        id,
        type: "error",
        payload: [expect.objectContaining({ extensions: { code: "GRAPHQL_VALIDATION_FAILED" } })],
      });
    }
    expect(live.socket.readyState).toBe(WebSocket.OPEN);
  });

  it("answers a subscribe that does not parse with an error message, not a 4500 close", async () => {
    const user = await signUp(server);
    const live = await acknowledgedSocket(user.accessToken);
    live.socket.send(JSON.stringify({ id: "p", type: "subscribe", payload: { query: "{ __typename" } }));
    expect(await live.next((m) => m.id === "p")).toEqual({
      id: "p",
      type: "error",
      payload: [{ message: "Syntax Error: Expected Name, found <EOF>.", extensions: { code: "GRAPHQL_PARSE_FAILED" } }],
    });
    expect(live.socket.readyState).toBe(WebSocket.OPEN);
  });

  it("answers a mutation's uncoercible variables over graphql-ws as over HTTP: BAD_USER_INPUT, no value", async () => {
    const user = await signUp(server);
    const live = await acknowledgedSocket(user.accessToken);
    live.socket.send(
      JSON.stringify({
        id: "v",
        type: "subscribe",
        payload: { query: "mutation ($p: String!) { reauthenticate(password: $p) }", variables: { p: [PASSWORD] } },
      }),
    );
    const next = await live.next((m) => m.id === "v" && m.type === "next");
    expect(JSON.stringify(next)).not.toContain(PASSWORD);
    expect(next.payload).toEqual({
      errors: [expect.objectContaining({ extensions: expect.objectContaining({ code: "BAD_USER_INPUT" }) })],
    });
  });

  it("closes a socket whose client sends connection_ack with 4400, as any protocol violation", async () => {
    const user = await signUp(server);
    const live = await acknowledgedSocket(user.accessToken);
    live.socket.send(JSON.stringify({ type: "connection_ack" }));
    expect(await live.closed).toEqual({ code: 4400, reason: "Invalid message received" });
  });

  it("answers refused WebSocket upgrades with JSON from the catalog", async () => {
    const key = "dGhlIHNhbXBsZSBub25jZQ==";
    const upgrade = (first: string, headers: string[]) =>
      rawHttp(`${first}\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n${headers.join("\r\n")}\r\n\r\n`);
    const answers = await Promise.all([
      upgrade("POST /graphql HTTP/1.1", [`Sec-WebSocket-Key: ${key}`, "Sec-WebSocket-Version: 13", "Content-Length: 0"]),
      upgrade("GET /graphql HTTP/1.1", ["Sec-WebSocket-Version: 13"]),
      upgrade("GET /graphql HTTP/1.1", [`Sec-WebSocket-Key: ${key}`, "Sec-WebSocket-Version: 99"]),
      upgrade("GET /elsewhere HTTP/1.1", [`Sec-WebSocket-Key: ${key}`, "Sec-WebSocket-Version: 13"]),
    ]);
    expect(
      answers.map((a) => [
        a.status,
        /content-type: application\/json/.test(a.headers),
        (a.body as { errors: { extensions: unknown }[] }).errors[0].extensions,
      ]),
    ).toEqual([
      [405, true, { code: "BAD_REQUEST" }],
      [400, true, { code: "BAD_REQUEST" }],
      [400, true, { code: "BAD_REQUEST" }],
      [404, true, { code: "NOT_FOUND" }],
    ]);
  });

  it("answers a request Node's parser refuses with JSON from the catalog", async () => {
    const answer = await rawHttp("GET /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: x\r\n\r\n");
    expect([answer.status, /content-type: application\/json/.test(answer.headers), answer.body]).toEqual([
      400,
      true,
      { errors: [{ message: "Malformed HTTP request.", extensions: { code: "BAD_REQUEST" } }] },
    ]);
  });
});
