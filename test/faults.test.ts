import { LogoutDocument, MeDocument, RefreshSessionDocument } from "./gql/graphql";
import { startTestServer, type TestServer } from "./support/test-server";
import { signUp } from "./support/users";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

describe("a refresh racing a logout", () => {
  it("always ends with the session revoked, and whatever the race minted no longer works", async () => {
    for (let i = 0; i < 5; i++) {
      const user = await signUp(server);
      const [refreshed, logout] = await Promise.all([
        server.request(RefreshSessionDocument, { refreshToken: user.refreshToken }),
        server.request(LogoutDocument, {}, { token: user.accessToken }),
      ]);
      expect(logout.data?.logout).toBe(true);
      const [row] = await server.sql<{ revoked: boolean }>(
        "SELECT revoked_at IS NOT NULL AS revoked FROM sessions WHERE id = $1",
        [user.session.id],
      );
      expect(row.revoked).toBe(true);
      const minted = refreshed.data?.refreshSession;
      if (minted) {
        expect((await server.request(MeDocument, {}, { token: minted.accessToken })).status).toBe(401);
        expect(
          (await server.request(RefreshSessionDocument, { refreshToken: minted.refreshToken })).errors?.[0].extensions.code,
        ).toBe("UNAUTHENTICATED");
      }
    }
  });
});
