import { LogoutDocument, MeDocument } from "./gql/graphql";
import { liveClients, untilSubscribedAs } from "./support/live-client";
import { startTestServer, type TestServer } from "./support/test-server";
import { signIn, signUp } from "./support/users";

/** FEDERATION=true: our schema as an Apollo Federation 2 subgraph, asked directly (no gateway). */
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ FEDERATION: "true" });
});

const live = liveClients(() => server);

afterAll(async () => {
  await live.disposeAll();
  await server.stop();
});

const ENTITIES = `query ($representations: [_Any!]!) {
  _entities(representations: $representations) {
    __typename
    ... on User { id email }
    ... on Session { id deviceName current }
  }
}`;

function entities(token: string | undefined, representations: { __typename: string; id: string }[]) {
  return server.post({ query: ENTITIES, variables: { representations } }, { token });
}

describe("federation mode: the session API as a Federation 2 subgraph", () => {
  it("publishes its SDL with User and Session as entities keyed by id", async () => {
    const res = await server.post({ query: "{ _service { sdl } }" });
    const sdl = (res.data as { _service: { sdl: string } })._service.sdl;
    expect(sdl).toContain('@link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])');
    expect(sdl).toMatch(/type User\s+@key\(fields: "id"\)/);
    expect(sdl).toMatch(/type Session\s+@key\(fields: "id"\)/);
    expect(sdl).toContain("sessionRevoked");
  });

  it("resolves the caller's own User and Session through _entities", async () => {
    const ada = await signUp(server, { deviceName: "laptop" });
    const res = await entities(ada.accessToken, [
      { __typename: "User", id: ada.user.id },
      { __typename: "Session", id: ada.session.id },
    ]);
    expect(res).toEqual(
      expect.objectContaining({
        status: 200,
        data: {
          _entities: [
            { __typename: "User", id: ada.user.id, email: ada.email },
            { __typename: "Session", id: ada.session.id, deviceName: "laptop", current: true },
          ],
        },
      }),
    );
  });

  it("answers null, never another user's data, for another user's User or Session, and for an anonymous caller", async () => {
    const ada = await signUp(server);
    const bob = await signUp(server);
    const others = [
      { __typename: "User", id: bob.user.id },
      { __typename: "Session", id: bob.session.id },
      { __typename: "Session", id: "not-a-uuid" },
    ];
    expect((await entities(ada.accessToken, others)).data).toEqual({ _entities: [null, null, null] });
    expect((await entities(undefined, [{ __typename: "User", id: ada.user.id }])).data).toEqual({ _entities: [null] });
  });

  it("refuses the very next request after logout, _entities included, 401 SESSION_REVOKED: 0 stale answers over 10 trials", async () => {
    let stale = 0;
    for (let trial = 0; trial < 10; trial++) {
      const user = await signUp(server);
      expect((await server.request(MeDocument, {}, { token: user.accessToken })).data?.me.id).toBe(user.user.id);
      expect(await server.request(LogoutDocument, {}, { token: user.accessToken })).toMatchObject({ data: { logout: true } });
      for (const answer of [
        await entities(user.accessToken, [{ __typename: "User", id: user.user.id }]),
        await server.request(MeDocument, {}, { token: user.accessToken }),
      ]) {
        if (answer.status !== 401) stale++;
        expect(answer).toMatchObject({
          status: 401,
          errors: [{ extensions: { code: "UNAUTHENTICATED", reason: "SESSION_REVOKED" } }],
        });
      }
    }
    expect(stale).toBe(0);
  });

  it("keeps the credential mark on the subgraph schema: two sign-ins in one operation are refused", async () => {
    const res = await server.post({
      query: `mutation { a: login(input: { email: "a@example.test", password: "x" }) { accessToken } b: login(input: { email: "b@example.test", password: "x" }) { accessToken } }`,
    });
    expect(res).toMatchObject({
      status: 400,
      errors: [{ extensions: { code: "GRAPHQL_VALIDATION_FAILED", reason: "CREDENTIAL_BATCH" } }],
    });
  });

  it("still carries sessionRevoked on its own endpoint, and closes the revoked socket", async () => {
    const laptop = await signUp(server, { deviceName: "laptop" });
    const phone = await signIn(server, laptop.email, { deviceName: "phone" });
    const phoneLive = live.open(phone.accessToken).subscribe();
    await untilSubscribedAs(server, laptop.email, [phoneLive]);
    await server.request(LogoutDocument, {}, { token: phone.accessToken });
    expect(await phoneLive.eventFor(phone.session.id)).toMatchObject({ reason: "LOGOUT", current: true });
    expect(await phoneLive.closedWithin()).toEqual({ code: 4403, reason: "SESSION_REVOKED" });
  });
});
