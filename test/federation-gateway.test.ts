import { randomBytes } from "node:crypto";
import { type Supergraph, startSupergraph } from "../examples/supergraph/src/supergraph";
import { generateSigningKey } from "../src/lib/signing-keys";
import { LiveClient } from "./support/live-client";
import {
  createTestSchema,
  databaseUrl,
  type GraphQLResponse,
  TEST_ENV,
  type TestServer,
  testServerFrom,
} from "./support/test-server";
import { signIn, signUp } from "./support/users";

/**
 * Federation mode end to end: the session API and the notes subgraph behind GraphQL Hive
 * Gateway (examples/supergraph), each request sent to the gateway as a client would.
 */
let supergraph: Supergraph;
let server: TestServer;
const sockets: LiveClient[] = [];

beforeAll(async () => {
  const schema = await createTestSchema();
  supergraph = await startSupergraph({
    api: {
      env: { ...TEST_ENV, JWT_PRIVATE_KEYS: generateSigningKey("ES256") },
      databaseUrl: databaseUrl(),
      dbSchema: schema.name,
    },
  });
  server = await testServerFrom(supergraph.api.server, schema, () => supergraph.stop());
});

afterAll(async () => {
  await Promise.all(sockets.map((s) => s.dispose()));
  await server?.stop();
});

async function gateway(query: string, token?: string, variables?: Record<string, unknown>): Promise<GraphQLResponse<unknown>> {
  const response = await fetch(supergraph.gateway.url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/graphql-response+json",
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, headers: response.headers, ...(await response.json()) };
}

const ME_NOTES = "{ me { id notes { text } } }";
const ADD_NOTE = "mutation ($text: String!) { addNote(text: $text) { text } }";
const LOGOUT = "mutation { logout }";
const REVOKED = { status: 401, errors: [{ extensions: { code: "UNAUTHENTICATED", reason: "SESSION_REVOKED" } }] };

describe("federation mode, through the gateway", () => {
  it("lets a user sign in, add and read notes with { me { id notes { text } } }, and log out, all through the gateway", async () => {
    const signedUp = await gateway(
      `mutation ($email: String!) { register(input: { email: $email, password: "correct horse battery staple" }) { accessToken user { id } } }`,
      undefined,
      { email: `user-${randomBytes(4).toString("hex")}@example.test` },
    );
    const { accessToken, user } = (signedUp.data as { register: { accessToken: string; user: { id: string } } }).register;
    expect(await gateway(ADD_NOTE, accessToken, { text: "buy milk" })).toMatchObject({ data: { addNote: { text: "buy milk" } } });
    expect(await gateway(ME_NOTES, accessToken)).toMatchObject({
      status: 200,
      data: { me: { id: user.id, notes: [{ text: "buy milk" }] } },
    });
    expect(await gateway(LOGOUT, accessToken)).toMatchObject({ status: 200, data: { logout: true } });
  });

  it("has the notes subgraph check sessions with @session-api/backend: its verifier holds the revocation stream, with a service key of its own", async () => {
    expect(server.services.verifiers?.connected).toBe(1);
    const keys = await server.services.serviceKeys.listKeys();
    expect(keys.filter((key) => !key.revokedAt).map((key) => [key.name, key.scopes])).toEqual([
      ["notes-subgraph", ["sessions:stream"]],
    ]);
  });

  it("refuses the very next request after logout, to the notes subgraph or ours, 401 SESSION_REVOKED: 0 stale answers over 10 trials", async () => {
    const { email } = await signUp(server);
    let stale = 0;
    for (let trial = 0; trial < 10; trial++) {
      const { accessToken } = await signIn(server, email);
      expect((await gateway(ME_NOTES, accessToken)).status).toBe(200);
      expect(await gateway(LOGOUT, accessToken)).toMatchObject({ data: { logout: true } });
      for (const answer of [
        await gateway(ADD_NOTE, accessToken, { text: "after logout" }),
        await gateway(ME_NOTES, accessToken),
        await gateway("{ mySessions { id } }", accessToken),
      ]) {
        if (answer.status !== 401 || answer.data) stale++;
        expect(answer).toMatchObject(REVOKED);
      }
    }
    expect(stale).toBe(0);
    const [written] = await server.sql<{ n: number }>(
      "SELECT count(*)::int AS n FROM subgraph_notes WHERE text = 'after logout'",
    );
    expect(written.n).toBe(0);
  });

  it("never shows another user's notes or sessions, _entities included", async () => {
    const ada = await signUp(server);
    const bob = await signUp(server);
    await gateway(ADD_NOTE, bob.accessToken, { text: "bob's secret" });
    expect(await gateway(ME_NOTES, ada.accessToken)).toMatchObject({ data: { me: { id: ada.user.id, notes: [] } } });
    const entities = `query ($r: [_Any!]!) { _entities(representations: $r) { ... on User { id notes { text } } ... on Session { id } } }`;
    // The gateway does not expose _entities; asked of each subgraph directly, neither answers Bob's data to Ada.
    const asAda = { "content-type": "application/json", authorization: `Bearer ${ada.accessToken}` };
    const viaNotes = await fetch(supergraph.notes.url, {
      method: "POST",
      headers: asAda,
      body: JSON.stringify({
        query: entities.replace("... on Session { id }", ""),
        variables: { r: [{ __typename: "User", id: bob.user.id }] },
      }),
    }).then((r) => r.json());
    expect(viaNotes).toEqual({ data: { _entities: [{ id: bob.user.id, notes: [] }] } });
    const viaOurs = await server.post(
      {
        query: `query ($r: [_Any!]!) { _entities(representations: $r) { ... on User { id email } ... on Session { id } } }`,
        variables: {
          r: [
            { __typename: "User", id: bob.user.id },
            { __typename: "Session", id: bob.session.id },
          ],
        },
      },
      { token: ada.accessToken },
    );
    expect(viaOurs.data).toEqual({ _entities: [null, null] });
    expect((await gateway("{ _entities(representations: []) { __typename } }", ada.accessToken)).status).toBe(400);
  });

  it("carries sessionRevoked through the gateway, and the session API closes the revoked session's socket (the gateway's upstream one)", async () => {
    const laptop = await signUp(server, { deviceName: "laptop" });
    const phone = await signIn(server, laptop.email, { deviceName: "phone" });
    const phoneLive = new LiveClient(supergraph.gateway.wsUrl, { authorization: `Bearer ${phone.accessToken}` }).subscribe();
    sockets.push(phoneLive);
    // Subscribed through the gateway once the session API holds the upstream socket for the phone's session.
    const live = server.services.live;
    for (let i = 0; i < 50 && live.size !== 1; i++) await new Promise((r) => setTimeout(r, 100));
    expect(await gateway(LOGOUT, phone.accessToken)).toMatchObject({ data: { logout: true } });
    expect(await phoneLive.eventFor(phone.session.id)).toMatchObject({ reason: "LOGOUT", current: true });
    for (let i = 0; i < 50 && live.size !== 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(live.size).toBe(0);
  });
});
