import WebSocket from "ws";
import { createSessionClient, type AuthEvent, type SessionClient, type SessionClientOptions } from "../client/src/index";
import { MeDocument } from "./gql/graphql";
import { startTestServer, type TestServer } from "./support/test-server";
import { PASSWORD, signUp, uniqueEmail } from "./support/users";

let server: TestServer;
const clients: SessionClient[] = [];
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  for (const client of clients) client.dispose();
  await server.stop();
});

/** A memory-mode client of the test server, with `ws` for its live connection; disposed after the file. */
function client(options: Partial<SessionClientOptions> = {}, on: TestServer = server): SessionClient & { events: AuthEvent[] } {
  const auth = createSessionClient({ url: on.url, transport: "memory", webSocketImpl: WebSocket, ...options });
  clients.push(auth);
  const events: AuthEvent[] = [];
  auth.onAuthStateChange((event) => events.push(event));
  return Object.assign(auth, { events });
}

describe("the client SDK in memory mode", () => {
  it("signs up, answering the signed-in state, and runs typed requests with the token", async () => {
    const auth = client();
    const email = uniqueEmail();
    const state = await auth.signUp({ email, password: PASSWORD, deviceName: "node" });
    expect(state).toEqual({ status: "signed-in", user: { id: expect.any(String), email, createdAt: expect.any(String) }, sessionId: expect.any(String) });
    const me = await auth.request(MeDocument);
    expect(me.me).toEqual(state.user);
    expect(auth.events).toEqual([{ type: "SIGNED_IN", sessionId: state.sessionId }]);
  });

  it("signs in to an existing account", async () => {
    const user = await signUp(server);
    const auth = client();
    const state = await auth.signIn({ email: user.email, password: PASSWORD });
    expect(state.user?.id).toBe(user.user.id);
    expect(state.sessionId).not.toBe(user.session.id);
    expect(await auth.getAccessToken()).toEqual(expect.any(String));
  });
});
