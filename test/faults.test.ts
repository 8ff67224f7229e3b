import { LogoutDocument, MeDocument, RefreshSessionDocument } from "./gql/graphql";
import { startTestServer, type TestServer } from "./support/test-server";
import { signUp } from "./support/users";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

describe("when the session store fails", () => {
  it("refuses authenticated requests with 503 (never lets them through) and recovers without a restart", async () => {
    const user = await signUp(server);
    // A real failure of the session lookup: the table is gone for a moment.
    await server.sql("ALTER TABLE sessions RENAME TO sessions_away");
    try {
      const res = await server.request(MeDocument, {}, { token: user.accessToken });
      expect(res.status).toBe(503);
      expect(res.data).toBeUndefined();
      expect(res.errors).toEqual([
        { message: "Temporarily unavailable; try again shortly.", extensions: { code: "SERVICE_UNAVAILABLE" } },
      ]);
    } finally {
      await server.sql("ALTER TABLE sessions_away RENAME TO sessions");
    }
    expect((await server.request(MeDocument, {}, { token: user.accessToken })).data?.me.id).toBe(user.user.id);
  });
});

describe("a refresh racing a logout", () => {
  it("always ends with the session revoked, and whatever the race minted no longer works", async () => {
    for (let i = 0; i < 5; i++) {
      const user = await signUp(server);
      const [refreshed, logout] = await Promise.all([
        server.request(RefreshSessionDocument, { refreshToken: user.refreshToken }),
        server.request(LogoutDocument, {}, { token: user.accessToken }),
      ]);
      expect(logout.data?.logout).toBe(true);
      const [row] = await server.sql<{ revoked: boolean }>("SELECT revoked_at IS NOT NULL AS revoked FROM sessions WHERE id = $1", [
        user.session.id,
      ]);
      expect(row.revoked).toBe(true);
      const minted = refreshed.data?.refreshSession;
      if (minted) {
        expect((await server.request(MeDocument, {}, { token: minted.accessToken })).status).toBe(401);
        expect((await server.request(RefreshSessionDocument, { refreshToken: minted.refreshToken })).status).toBe(401);
      }
    }
  });
});
