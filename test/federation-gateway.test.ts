import { randomBytes } from "node:crypto";
import { createServer, type IncomingHttpHeaders, request, type Server } from "node:http";
import { composeSupergraph } from "../examples/supergraph/src/compose";
import type { Supergraph } from "../examples/supergraph/src/supergraph";
import { freePort } from "./support/free-port";
import { LiveClient } from "./support/live-client";
import type { GraphQLResponse, TestServer } from "./support/test-server";
import { startTestSupergraph } from "./support/test-supergraph";
import { accessClaims, nowSeconds, serverSigned } from "./support/tokens";
import { PASSWORD, signIn, signUp } from "./support/users";

/**
 * Federation mode end to end: the session API and the notes subgraph behind GraphQL Hive
 * Gateway (examples/supergraph), each request sent to the gateway as a client would. The
 * gateway reaches the notes subgraph through a relay that records each request's headers,
 * so a test can see what that subgraph was sent.
 */
const APP = "http://127.0.0.1:5173";
let supergraph: Supergraph;
let server: TestServer;
let relay: Server;
const sockets: LiveClient[] = [];
/** The headers of every request the gateway sent the notes subgraph. */
const sentToNotes: IncomingHttpHeaders[] = [];

/** An HTTP relay on `port` to 127.0.0.1:`target`, recording each request's headers. */
async function recordingRelay(port: number, target: number): Promise<Server> {
  const relay = createServer((req, res) => {
    sentToNotes.push(req.headers);
    const upstream = request(
      { host: "127.0.0.1", port: target, path: req.url, method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on("error", () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => relay.listen(port, "127.0.0.1", resolve));
  return relay;
}

beforeAll(async () => {
  const [apiPort, notesPort, relayPort] = [await freePort(), await freePort(), await freePort()];
  relay = await recordingRelay(relayPort, notesPort);
  ({ supergraph, server } = await startTestSupergraph(
    { CORS_ORIGINS: APP, WS_MAX_PER_IP: "2" },
    {
      apiPort,
      notesPort,
      supergraph: await composeSupergraph({
        sessionApiUrl: `http://127.0.0.1:${apiPort}/graphql`,
        notesUrl: `http://127.0.0.1:${relayPort}/`,
      }),
      corsOrigins: [APP],
    },
  ));
});

afterAll(async () => {
  await Promise.all(sockets.map((s) => s.dispose()));
  await server?.stop();
  relay?.closeAllConnections();
  await new Promise((resolve) => relay?.close(resolve));
});

async function gateway(
  query: string,
  token?: string,
  variables?: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<GraphQLResponse<unknown>> {
  const response = await fetch(supergraph.gateway.url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/graphql-response+json",
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...headers,
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

  it("has the notes subgraph and the gateway check sessions with @session-api/backend: each verifier holds the revocation stream, with a service key of its own", async () => {
    expect(server.services.verifiers?.connected).toBe(2);
    const keys = await server.services.serviceKeys.listKeys();
    expect(keys.filter((key) => !key.revokedAt).map((key) => [key.name, key.scopes])).toEqual(
      expect.arrayContaining([
        ["notes-subgraph", ["sessions:stream"]],
        ["gateway", ["sessions:stream"]],
      ]),
    );
    expect(keys.filter((key) => !key.revokedAt)).toHaveLength(2);
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

  it("carries sessionRevoked through the gateway, then closes the revoked session's socket, the client's (4403 SESSION_REVOKED) and the gateway's upstream one", async () => {
    const laptop = await signUp(server, { deviceName: "laptop" });
    const phone = await signIn(server, laptop.email, { deviceName: "phone" });
    const phoneLive = new LiveClient(supergraph.gateway.wsUrl, { authorization: `Bearer ${phone.accessToken}` }).subscribe();
    sockets.push(phoneLive);
    // Subscribed through the gateway once the session API holds the upstream socket for the phone's session.
    const live = server.services.live;
    for (let i = 0; i < 50 && live.size !== 1; i++) await new Promise((r) => setTimeout(r, 100));
    expect(await gateway(LOGOUT, phone.accessToken)).toMatchObject({ data: { logout: true } });
    expect(await phoneLive.eventFor(phone.session.id)).toMatchObject({ reason: "LOGOUT", current: true });
    expect(await phoneLive.closedWithin()).toEqual({ code: 4403, reason: "SESSION_REVOKED" });
    for (let i = 0; i < 50 && live.size !== 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(live.size).toBe(0);
  });
});

describe("the gateway's own sockets keep the session API's socket rules", () => {
  const through = (authorization?: string) => {
    const client = new LiveClient(supergraph.gateway.wsUrl, authorization ? { authorization } : {});
    sockets.push(client);
    return client;
  };

  it("refuses at connection_init a credential the API would refuse, with its reason: an ended session, a forged token, none", async () => {
    const user = await signUp(server);
    await server.post({ query: LOGOUT }, { token: user.accessToken });
    expect(await through(`Bearer ${user.accessToken}`).closedWithin()).toEqual({ code: 4403, reason: "SESSION_REVOKED" });
    expect(await through("Bearer not.a.token").closedWithin()).toEqual({ code: 4403, reason: "TOKEN_INVALID" });
    expect(await through().closedWithin()).toEqual({ code: 4403, reason: "TOKEN_MISSING" });
  });

  it("closes the socket of a session ended elsewhere, even one that never subscribed to the event", async () => {
    const laptop = await signUp(server);
    const phone = await signIn(server, laptop.email);
    const phoneSocket = through(`Bearer ${phone.accessToken}`);
    await phoneSocket.connected;
    await server.post(
      { query: "mutation ($id: ID!) { revokeSession(id: $id) }", variables: { id: phone.session.id } },
      { token: laptop.accessToken },
    );
    expect(await phoneSocket.closedWithin()).toEqual({ code: 4403, reason: "SESSION_REVOKED" });
  });

  it("closes a socket when its access token expires (4403 TOKEN_EXPIRED), so the client reconnects with a fresh one", async () => {
    const user = await signUp(server);
    const shortLived = serverSigned(server, accessClaims(user, { exp: nowSeconds() + 2 }));
    const socket = through(`Bearer ${shortLived}`).subscribe();
    await socket.connected;
    expect(socket.isClosed).toBe(false);
    expect(await socket.closedWithin(6000)).toEqual({ code: 4403, reason: "TOKEN_EXPIRED" });
  });
});

describe("browsers through the gateway", () => {
  const COOKIE_MODE = { "x-auth-transport": "cookie" };
  const refreshCookieOf = (res: { headers: Headers }) =>
    res.headers.getSetCookie().find((c) => c.startsWith("__Host-refresh_token=")) ?? null;

  it("answers the allowed origin's preflight with credentials and the headers cookie mode needs, and names no other origin", async () => {
    const preflight = (origin: string) =>
      fetch(supergraph.gateway.url, {
        method: "OPTIONS",
        headers: {
          origin,
          "access-control-request-method": "POST",
          "access-control-request-headers": "content-type, authorization, x-auth-transport",
        },
      });
    const allowed = await preflight(APP);
    expect(allowed.headers.get("access-control-allow-origin")).toBe(APP);
    expect(allowed.headers.get("access-control-allow-credentials")).toBe("true");
    expect(allowed.headers.get("access-control-allow-headers")).toBe("content-type, authorization, x-auth-transport");
    const other = await preflight("https://evil.example.test");
    expect(other.headers.get("access-control-allow-origin")).not.toBe("https://evil.example.test");
  });

  it("carries cookie mode to the session API: the refresh cookie is set, refreshes, and is cleared on logout, and the notes subgraph never sees it", async () => {
    const { email } = await signUp(server);
    sentToNotes.length = 0;
    const login = await gateway(
      `mutation ($email: String!) { login(input: { email: $email, password: "${PASSWORD}" }) { accessToken refreshToken } }`,
      undefined,
      { email },
      { ...COOKIE_MODE, origin: APP },
    );
    expect(login).toMatchObject({ status: 200, data: { login: { refreshToken: null } } });
    expect(login.headers.get("access-control-allow-origin")).toBe(APP);
    const setCookie = refreshCookieOf(login);
    expect(setCookie).toMatch(/^__Host-refresh_token=[^;]+; Max-Age=\d+; Path=\/; Secure; HttpOnly; SameSite=Strict$/);
    const cookie = setCookie!.split(";")[0];
    const { accessToken } = (login.data as { login: { accessToken: string } }).login;

    const refreshed = await gateway(
      "mutation { refreshSession { accessToken } }",
      undefined,
      {},
      { ...COOKIE_MODE, origin: APP, cookie },
    );
    expect(refreshed).toMatchObject({ status: 200, data: { refreshSession: { accessToken: expect.any(String) } } });
    expect(refreshCookieOf(refreshed)).not.toBe(setCookie);
    // A note and the notes of `me`, with the cookie on the request as a browser would send it.
    const next = refreshCookieOf(refreshed)!.split(";")[0];
    const { refreshSession } = refreshed.data as { refreshSession: { accessToken: string } };
    expect(
      await gateway(ADD_NOTE, refreshSession.accessToken, { text: "in cookie mode" }, { origin: APP, cookie: next }),
    ).toMatchObject({
      data: { addNote: { text: "in cookie mode" } },
    });
    expect(await gateway(ME_NOTES, refreshSession.accessToken, {}, { origin: APP, cookie: next })).toMatchObject({
      data: { me: { notes: [{ text: "in cookie mode" }] } },
    });
    expect(sentToNotes.length).toBeGreaterThanOrEqual(2);
    for (const headers of sentToNotes) {
      expect(headers.cookie).toBeUndefined();
      expect(headers.authorization).toBe(`Bearer ${refreshSession.accessToken}`);
    }

    const loggedOut = await gateway(LOGOUT, refreshSession.accessToken, {}, { ...COOKIE_MODE, origin: APP, cookie: next });
    expect(loggedOut).toMatchObject({ status: 200, data: { logout: true } });
    expect(refreshCookieOf(loggedOut)).toMatch(/^__Host-refresh_token=; Max-Age=0;/);
    expect(loggedOut.headers.get("clear-site-data")).toBe('"cache", "storage"');
    expect(accessToken).not.toBe(refreshSession.accessToken);
  });

  it("lets no other origin use the refresh cookie through it: the session API refuses it, FORBIDDEN_ORIGIN, and the cookie is untouched", async () => {
    const { email } = await signUp(server);
    const login = await gateway(
      `mutation ($email: String!) { login(input: { email: $email, password: "${PASSWORD}" }) { accessToken } }`,
      undefined,
      { email },
      { ...COOKIE_MODE, origin: APP },
    );
    const cookie = refreshCookieOf(login)!.split(";")[0];

    const stolen = await gateway(
      "mutation { refreshSession { accessToken } }",
      undefined,
      {},
      { ...COOKIE_MODE, origin: "https://evil.example.test", cookie },
    );
    expect(stolen.data ?? null).toBeNull();
    expect(stolen.errors?.[0]?.extensions).toMatchObject({ code: "FORBIDDEN_ORIGIN" });
    expect(refreshCookieOf(stolen)).toBeNull();
    // Not spent: the app's own page refreshes with it as if nothing had happened.
    const own = await gateway(
      "mutation { refreshSession { accessToken } }",
      undefined,
      {},
      { ...COOKIE_MODE, origin: APP, cookie },
    );
    expect(own).toMatchObject({ status: 200, data: { refreshSession: { accessToken: expect.any(String) } } });
  });
});

describe("clients behind the gateway", () => {
  it("are recorded by their own address: the gateway forwards X-Forwarded-For and the session API trusts it (TRUST_PROXY)", async () => {
    const { email } = await signUp(server);
    const login = await gateway(
      `mutation ($email: String!) { login(input: { email: $email, password: "${PASSWORD}" }) { session { id } } }`,
      undefined,
      { email },
      { "x-forwarded-for": "203.0.113.50" },
    );
    const { session } = (login.data as { login: { session: { id: string } } }).login;
    const [row] = await server.sql<{ ip_address: string }>("SELECT ip_address FROM sessions WHERE id = $1", [session.id]);
    expect(row.ip_address).toBe("203.0.113.50");
  });

  it("are counted by their own address for the socket caps: three browsers behind one gateway hold three upstream sockets under WS_MAX_PER_IP=2", async () => {
    const users = [await signUp(server), await signUp(server), await signUp(server)];
    const live = server.services.live;
    const before = live.size;
    const clients = users.map((user, i) =>
      new LiveClient(
        supergraph.gateway.wsUrl,
        { authorization: `Bearer ${user.accessToken}` },
        { "x-forwarded-for": `198.51.100.${70 + i}` },
      ).subscribe(),
    );
    sockets.push(...clients);
    for (let i = 0; i < 50 && live.size !== before + 3; i++) await new Promise((r) => setTimeout(r, 100));
    expect(live.size).toBe(before + 3);
    // Each one's upstream socket is its own: the third user's logout reaches the third browser.
    expect(await gateway(LOGOUT, users[2].accessToken)).toMatchObject({ data: { logout: true } });
    expect(await clients[2].eventFor(users[2].session.id)).toMatchObject({ reason: "LOGOUT", current: true });
  });
});
