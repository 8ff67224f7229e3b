import { ApolloClient, ApolloLink, HttpLink, InMemoryCache } from "@apollo/client";
import { cacheExchange, fetchExchange, Client as UrqlClient } from "@urql/core";
import { sessionLink } from "../client/src/apollo";
import { type AuthEvent, createSessionClient, type SessionClient } from "../client/src/index";
import { sessionExchange } from "../client/src/urql";
import { MeDocument } from "./gql/graphql";
import { startTestServer, type TestServer } from "./support/test-server";
import { PASSWORD, signUp } from "./support/users";
import { sleep, until } from "./support/wait";

/** A 3 s access token: a request can be made to arrive after its token expired. */
let server: TestServer;
const clients: SessionClient[] = [];
beforeAll(async () => {
  server = await startTestServer({ ACCESS_TOKEN_TTL: "3" });
});
afterAll(async () => {
  for (const auth of clients.splice(0)) auth.dispose();
  await server.stop();
});

function sessionClient(): SessionClient & { events: AuthEvent[] } {
  const auth = createSessionClient({ url: server.url, transport: "memory", live: false });
  clients.push(auth);
  const events: AuthEvent[] = [];
  auth.onAuthStateChange((event) => events.push(event));
  return Object.assign(auth, { events });
}

/** The GraphQL client's fetch over a network the test can slow down; records each answer's status. */
function slowNetwork() {
  let delay = 0;
  const statuses: number[] = [];
  const slowFetch: typeof fetch = async (input, init) => {
    const wait = delay;
    delay = 0;
    if (wait) await sleep(wait);
    const response = await fetch(input, init);
    statuses.push(response.status);
    return response;
  };
  return { fetch: slowFetch, statuses, delayNextBy: (ms: number) => (delay = ms) };
}

describe("sessionExchange (urql)", () => {
  function urqlClient(auth: SessionClient, network = slowNetwork()) {
    return new UrqlClient({
      url: server.url,
      exchanges: [sessionExchange(auth), cacheExchange, fetchExchange],
      fetch: network.fetch,
      requestPolicy: "cache-first",
    });
  }

  it("adds the access token, and sends none when signed out", async () => {
    const auth = sessionClient();
    const urql = urqlClient(auth);
    const signedOut = await urql.query(MeDocument, {}).toPromise();
    expect(signedOut.error?.graphQLErrors[0]?.extensions).toEqual({ code: "UNAUTHENTICATED", reason: "TOKEN_MISSING" });
    const user = await signUp(server);
    await auth.signIn({ email: user.email, password: PASSWORD });
    const result = await urql.query(MeDocument, {}, { requestPolicy: "network-only" }).toPromise();
    expect(result.error).toBeUndefined();
    expect(result.data?.me.id).toBe(user.user.id);
  });

  it("refreshes and retries once when the server refuses the token as expired", async () => {
    const auth = sessionClient();
    const network = slowNetwork();
    const urql = urqlClient(auth, network);
    const user = await signUp(server);
    await auth.signIn({ email: user.email, password: PASSWORD });
    await sleep(1000);
    network.delayNextBy(2500); // the token arrives after it expired
    const result = await urql.query(MeDocument, {}).toPromise();
    expect(result.error).toBeUndefined();
    expect(result.data?.me.id).toBe(user.user.id);
    expect(network.statuses).toEqual([401, 200]);
    expect(auth.events.map((e) => e.type)).toEqual(["SIGNED_IN", "TOKEN_REFRESHED"]);
  });

  it("never serves the previous user's cached results after a sign-out", async () => {
    const auth = sessionClient();
    const urql = urqlClient(auth);
    const [ada, bob] = [await signUp(server), await signUp(server)];
    await auth.signIn({ email: ada.email, password: PASSWORD });
    expect((await urql.query(MeDocument, {}).toPromise()).data?.me.id).toBe(ada.user.id);
    const cached = await urql.query(MeDocument, {}).toPromise();
    expect(cached.operation.context.meta?.cacheOutcome).toBe("hit");

    await auth.signOut();
    await auth.signIn({ email: bob.email, password: PASSWORD });
    const after = await urql.query(MeDocument, {}).toPromise();
    expect(after.operation.context.meta?.cacheOutcome).toBe("miss");
    expect(after.data?.me.id).toBe(bob.user.id);
  });
});

describe("sessionLink (Apollo Client)", () => {
  function apolloClient(auth: SessionClient, network = slowNetwork()) {
    return new ApolloClient({
      cache: new InMemoryCache(),
      link: ApolloLink.from([sessionLink(auth), new HttpLink({ uri: server.url, fetch: network.fetch })]),
    });
  }

  it("adds the access token", async () => {
    const auth = sessionClient();
    const apollo = apolloClient(auth);
    const user = await signUp(server);
    await auth.signIn({ email: user.email, password: PASSWORD });
    const { data } = await apollo.query({ query: MeDocument });
    expect(data?.me.id).toBe(user.user.id);
  });

  it("refreshes and retries once when the server refuses the token as expired", async () => {
    const auth = sessionClient();
    const network = slowNetwork();
    const apollo = apolloClient(auth, network);
    const user = await signUp(server);
    await auth.signIn({ email: user.email, password: PASSWORD });
    await sleep(1000);
    network.delayNextBy(2500);
    const { data } = await apollo.query({ query: MeDocument });
    expect(data?.me.id).toBe(user.user.id);
    expect(network.statuses).toEqual([401, 200]);
    expect(auth.events.map((e) => e.type)).toEqual(["SIGNED_IN", "TOKEN_REFRESHED"]);
  });

  it("clears the cache on sign-out, so the next user's queries go to the server", async () => {
    const auth = sessionClient();
    const apollo = apolloClient(auth);
    const [ada, bob] = [await signUp(server), await signUp(server)];
    await auth.signIn({ email: ada.email, password: PASSWORD });
    expect((await apollo.query({ query: MeDocument })).data?.me.id).toBe(ada.user.id);
    expect(JSON.stringify(apollo.cache.extract())).toContain(ada.user.id);

    await auth.signOut();
    await until(() => Object.keys(apollo.cache.extract() as object).length === 0, 2000);
    await auth.signIn({ email: bob.email, password: PASSWORD });
    expect((await apollo.query({ query: MeDocument })).data?.me.id).toBe(bob.user.id);
  });
});
