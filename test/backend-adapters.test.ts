import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { ApolloServer } from "@apollo/server";
import { startStandaloneServer } from "@apollo/server/standalone";
import { Pool } from "pg";
import { sessionContext } from "../backend/src/apollo";
import type { SessionVerifier, VerifiedSession } from "../backend/src/index";
import { useSessionVerifier } from "../backend/src/yoga";
import { createNotesApp, createNotesTable } from "../examples/notes-api/src/notes-app";
import { LogoutDocument, MeDocument } from "./gql/graphql";
import { databaseUrl, startTestServer, type TestServer } from "./support/test-server";
import { signUp } from "./support/users";
import { closeVerifiers, createServiceKey, startVerifier } from "./support/verifier";

/**
 * The three adapters, each in front of a real server of its framework, against the real
 * session API: a live session passes with its user, a logged-out one is refused with the
 * API's own status, code and reason.
 */
let api: TestServer;
let sessions: SessionVerifier;
const leftovers: (() => Promise<unknown>)[] = [];
beforeAll(async () => {
  api = await startTestServer();
  sessions = await startVerifier(api, await createServiceKey(api, ["sessions:stream"]));
});
afterAll(async () => {
  for (const dispose of leftovers.reverse()) await dispose();
  await closeVerifiers();
  await api.stop();
});

async function listen(server: Server): Promise<string> {
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  leftovers.push(() => new Promise((resolve) => server.close(resolve)));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** The API's own refusal of a token: the body a backend must repeat. */
async function apiRefusal(token: string) {
  const answer = await api.request(MeDocument, {}, { token });
  return { status: answer.status, errors: answer.errors };
}

describe("the Express middleware (examples/notes-api)", () => {
  let url: string;
  beforeAll(async () => {
    const db = new Pool({ connectionString: databaseUrl(), options: `-c search_path=${api.dbSchema}`, max: 2 });
    leftovers.push(() => db.end());
    await createNotesTable(db);
    url = await listen(createServer(createNotesApp(sessions, db)));
  });

  it("serves the signed-in user's own notes, and after logout answers exactly what the API answers", async () => {
    const owner = await signUp(api);
    const other = await signUp(api);
    const headers = (token: string) => ({ authorization: `Bearer ${token}`, "content-type": "application/json" });
    expect(
      (await fetch(`${url}/notes`, { method: "POST", headers: headers(owner.accessToken), body: '{"body":"mine"}' })).status,
    ).toBe(201);
    expect(
      (await fetch(`${url}/notes`, { method: "POST", headers: headers(other.accessToken), body: '{"body":"theirs"}' })).status,
    ).toBe(201);
    const mine = await fetch(`${url}/notes`, { headers: headers(owner.accessToken) });
    expect((await mine.json()).notes.map((n: { body: string }) => n.body)).toEqual(["mine"]);

    await api.request(LogoutDocument, {}, { token: owner.accessToken });
    const refused = await fetch(`${url}/notes`, { headers: headers(owner.accessToken) });
    expect({ status: refused.status, errors: (await refused.json()).errors }).toEqual(await apiRefusal(owner.accessToken));
    expect((await apiRefusal(owner.accessToken)).errors?.[0].extensions).toMatchObject({
      code: "UNAUTHENTICATED",
      reason: "SESSION_REVOKED",
    });
  });

  it("refuses a request without a token with TOKEN_MISSING and a malformed header with TOKEN_INVALID", async () => {
    const missing = await fetch(`${url}/notes`);
    expect(missing.status).toBe(401);
    expect((await missing.json()).errors[0].extensions).toEqual({ code: "UNAUTHENTICATED", reason: "TOKEN_MISSING" });
    const malformed = await fetch(`${url}/notes`, { headers: { authorization: "Token abc" } });
    const apiAnswer = await api.request(MeDocument, {}, { headers: { authorization: "Token abc" } });
    expect({ status: malformed.status, errors: (await malformed.json()).errors }).toEqual({
      status: apiAnswer.status,
      errors: apiAnswer.errors,
    });
    expect(apiAnswer.errors?.[0].extensions).toEqual({ code: "UNAUTHENTICATED", reason: "TOKEN_INVALID" });
  });
});

/**
 * graphql-yoga is loaded untyped: its types widen graphql's own error extensions for the whole
 * program (`http.headers` becomes a plain object), which the API's catalog does not use.
 */
const { createSchema, createYoga } = require("graphql-yoga") as {
  createSchema(config: { typeDefs: string; resolvers: object }): unknown;
  createYoga(config: { schema: unknown; plugins: object[]; logging: boolean }): Parameters<typeof createServer>[1];
};

const typeDefs = "type Query { whoami: String! }";
const resolvers = {
  Query: { whoami: (_: unknown, __: unknown, context: { session: VerifiedSession | null }) => context.session?.userId },
};

async function ask(url: string, token: string) {
  const response = await fetch(url, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify({ query: "{ whoami }" }),
  });
  return { status: response.status, body: await response.json() };
}

describe.each([
  [
    "the GraphQL Yoga plugin",
    async () => {
      const yoga = createYoga({
        schema: createSchema({ typeDefs, resolvers }),
        plugins: [useSessionVerifier(sessions)],
        logging: false,
      });
      return `${await listen(createServer(yoga))}/graphql`;
    },
  ],
  [
    "the Apollo Server context helper",
    async () => {
      const server = new ApolloServer<{ session: VerifiedSession | null }>({ typeDefs, resolvers });
      const { url } = await startStandaloneServer(server, {
        listen: { port: 0, host: "127.0.0.1" },
        context: sessionContext(sessions),
      });
      leftovers.push(() => server.stop());
      return url;
    },
  ],
])("%s", (_name, start) => {
  it("runs the operation for a live session with its user, and refuses a logged-out one before any resolver with 401 and the reason", async () => {
    const url = await start();
    const owner = await signUp(api);
    expect(await ask(url, owner.accessToken)).toEqual({ status: 200, body: { data: { whoami: owner.user.id } } });
    await api.request(LogoutDocument, {}, { token: owner.accessToken });
    const refused = await ask(url, owner.accessToken);
    expect(refused.status).toBe(401);
    expect(refused.body.data ?? null).toBeNull();
    expect(refused.body.errors).toHaveLength(1);
    expect(refused.body.errors[0].extensions).toMatchObject({ code: "UNAUTHENTICATED", reason: "SESSION_REVOKED" });
  });
});
