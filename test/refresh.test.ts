import { MeDocument, RefreshSessionDocument } from "./gql/graphql";
import { startTestServer, type TestServer } from "./support/test-server";
import { signIn, signUp } from "./support/users";
import { sleep } from "./support/wait";

const GRACE_SECONDS = 3;
let server: TestServer;
beforeAll(async () => {
  // A short grace window so the test can wait it out, but long enough that twenty racing
  // refreshes queued on one row all land inside it on a busy machine.
  server = await startTestServer({ REFRESH_REUSE_GRACE: String(GRACE_SECONDS) });
});
afterAll(() => server.stop());

const refresh = (refreshToken: string) => server.request(RefreshSessionDocument, { refreshToken });

describe("refreshSession", () => {
  it("rotates the refresh token and returns a working access token for the same session", async () => {
    const user = await signUp(server);
    const res = await refresh(user.refreshToken!);
    const payload = res.data!.refreshSession;
    expect(payload.session.id).toBe(user.session.id);
    expect(payload.refreshToken).not.toBe(user.refreshToken);
    expect((await server.request(MeDocument, {}, { token: payload.accessToken })).data?.me.id).toBe(user.user.id);
    // and the new one rotates again
    expect((await refresh(payload.refreshToken!)).data?.refreshSession.session.id).toBe(user.session.id);
  });

  it("treats a spent token replayed after the grace window as theft: the whole session is revoked, other sessions untouched", async () => {
    const user = await signUp(server);
    const other = await signIn(server, user.email);
    const rotated = (await refresh(user.refreshToken!)).data!.refreshSession;
    await sleep(GRACE_SECONDS * 1000 + 100);

    const replay = await refresh(user.refreshToken!);
    expect(replay).toMatchObject({ status: 401, data: null });
    expect(replay.errors?.[0].extensions).toEqual({ code: "UNAUTHENTICATED", reason: "REFRESH_TOKEN_REUSE" });

    // The thief's fresh tokens die with the session.
    expect((await refresh(rotated.refreshToken!)).errors?.[0].extensions).toEqual({
      code: "UNAUTHENTICATED",
      reason: "SESSION_REVOKED",
    });
    expect((await server.request(MeDocument, {}, { token: rotated.accessToken })).status).toBe(401);
    const [row] = await server.sql("SELECT revoked_reason FROM sessions WHERE id = $1", [user.session.id]);
    expect(row).toEqual({ revoked_reason: "REFRESH_TOKEN_REUSE" });
    expect((await server.request(MeDocument, {}, { token: other.accessToken })).status).toBe(200);
  });

  it("treats any earlier token of the session as theft, not only the last one spent: a thief who rotated twice is caught", async () => {
    const victim = await signUp(server);
    const first = (await refresh(victim.refreshToken!)).data!.refreshSession;
    const thief = (await refresh(first.refreshToken!)).data!.refreshSession;

    // The first token, two rotations old, is no racing tab even within the grace period.
    const replay = await refresh(victim.refreshToken!);
    expect(replay).toMatchObject({ status: 401, data: null });
    expect(replay.errors?.[0].extensions).toEqual({ code: "UNAUTHENTICATED", reason: "REFRESH_TOKEN_REUSE" });

    expect((await refresh(thief.refreshToken!)).errors?.[0].extensions).toEqual({
      code: "UNAUTHENTICATED",
      reason: "SESSION_REVOKED",
    });
    expect((await server.request(MeDocument, {}, { token: thief.accessToken })).status).toBe(401);
    const [row] = await server.sql("SELECT revoked_reason FROM sessions WHERE id = $1", [victim.session.id]);
    expect(row).toEqual({ revoked_reason: "REFRESH_TOKEN_REUSE" });
  });

  it("refuses, without ending anything, a secret this session never issued, even one another session spent", async () => {
    const target = await signUp(server);
    const elsewhere = await signUp(server);
    await refresh(elsewhere.refreshToken!);
    await refresh((await refresh(target.refreshToken!)).data!.refreshSession.refreshToken!);
    const borrowed = `${target.session.id}.${elsewhere.refreshToken!.split(".")[1]}`;
    expect((await refresh(borrowed)).errors?.[0].extensions).toEqual({
      code: "UNAUTHENTICATED",
      reason: "REFRESH_TOKEN_INVALID",
    });
    const [row] = await server.sql("SELECT revoked_at FROM sessions WHERE id = $1", [target.session.id]);
    expect(row).toEqual({ revoked_at: null });
  });

  it("still answers the token spent just now, within the grace period, as a racing tab (REFRESH_TOKEN_ROTATED)", async () => {
    const user = await signUp(server);
    const first = (await refresh(user.refreshToken!)).data!.refreshSession;
    await refresh(first.refreshToken!);
    const racing = await refresh(first.refreshToken!);
    expect(racing).toMatchObject({ status: 409, data: null });
    expect(racing.errors?.[0].extensions).toEqual({ code: "REFRESH_TOKEN_ROTATED" });
  });

  it("rotates exactly once when twenty requests race with one token, and revokes nothing", async () => {
    const user = await signUp(server);
    const results = await Promise.all(Array.from({ length: 20 }, () => refresh(user.refreshToken!)));
    const winners = results.filter((r) => r.data?.refreshSession);
    const losers = results.filter((r) => !r.data);
    expect(winners).toHaveLength(1);
    expect(losers).toHaveLength(19);
    for (const loser of losers) {
      expect(loser).toMatchObject({ status: 409, data: null });
      expect(loser.errors?.[0].extensions).toEqual({ code: "REFRESH_TOKEN_ROTATED" });
    }
    const newToken = winners[0].data!.refreshSession.refreshToken!;
    expect((await refresh(newToken)).data?.refreshSession.session.id).toBe(user.session.id);
    const live = await server.sql("SELECT count(*)::int AS n FROM sessions WHERE id = $1 AND revoked_at IS NULL", [
      user.session.id,
    ]);
    expect(live).toEqual([{ n: 1 }]);
  });

  it("refuses a refresh token with a wrong secret without revoking the session", async () => {
    const user = await signUp(server);
    const forged = `${user.session.id}.${"A".repeat(43)}`;
    expect((await refresh(forged)).errors?.[0].extensions).toEqual({ code: "UNAUTHENTICATED", reason: "REFRESH_TOKEN_INVALID" });
    expect((await refresh("garbage")).errors?.[0].extensions).toEqual({
      code: "UNAUTHENTICATED",
      reason: "REFRESH_TOKEN_INVALID",
    });
    expect((await refresh(user.refreshToken!)).data?.refreshSession.session.id).toBe(user.session.id);
  });

  it("never extends a session past its absolute expiry", async () => {
    const user = await signUp(server);
    const cap = new Date(Date.now() + 60_000);
    await server.sql("UPDATE sessions SET expires_at = $2 WHERE id = $1", [user.session.id, cap]);
    const payload = (await refresh(user.refreshToken!)).data!.refreshSession;
    expect(new Date(payload.session.expiresAt).getTime()).toBe(cap.getTime());
    expect(new Date(payload.accessTokenExpiresAt).getTime()).toBeLessThanOrEqual(cap.getTime());
    await server.sql("UPDATE sessions SET expires_at = now() WHERE id = $1", [user.session.id]);
    expect((await refresh(payload.refreshToken!)).errors?.[0].extensions).toEqual({
      code: "UNAUTHENTICATED",
      reason: "SESSION_EXPIRED",
    });
  });
});
