import {
  ChangeEmailDocument,
  ChangePasswordDocument,
  LoginDocument,
  LogoutAllDevicesDocument,
  LogoutDocument,
  MeDocument,
  ReauthenticateDocument,
  RevokeSessionDocument,
} from "./gql/graphql";
import { startTestServer, type TestServer } from "./support/test-server";
import { PASSWORD, signIn, signUp, uniqueEmail } from "./support/users";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ FRESH_SESSION_TTL: "60" });
});
afterAll(() => server.stop());

/** Makes a session stale without waiting: it proved the password long ago. */
const makeStale = (sessionId: string) =>
  server.sql("UPDATE sessions SET authenticated_at = now() - interval '1 hour' WHERE id = $1", [sessionId]);

describe("changeEmail", () => {
  it("checks the password, stores the new email lower-cased, ends the other sessions and returns how many", async () => {
    const user = await signUp(server);
    const phone = await signIn(server, user.email);
    const tablet = await signIn(server, user.email);
    const newEmail = uniqueEmail();
    const res = await server.request(
      ChangeEmailDocument,
      { newEmail: `  ${newEmail.toUpperCase()} `.trim(), currentPassword: PASSWORD },
      { token: user.accessToken },
    );
    expect(res).toMatchObject({ status: 200, data: { changeEmail: 2 } });
    expect((await server.request(MeDocument, {}, { token: user.accessToken })).data?.me.email).toBe(newEmail);
    for (const other of [phone, tablet])
      expect((await server.request(MeDocument, {}, { token: other.accessToken })).status).toBe(401);
    const reasons = await server.sql(
      "SELECT DISTINCT revoked_reason FROM sessions WHERE user_id = $1 AND revoked_at IS NOT NULL",
      [user.user.id],
    );
    expect(reasons).toEqual([{ revoked_reason: "EMAIL_CHANGED" }]);
    // The new email signs in; the old one no longer does.
    expect((await server.request(LoginDocument, { input: { email: newEmail, password: PASSWORD } })).data?.login).toBeTruthy();
    expect(
      (await server.request(LoginDocument, { input: { email: user.email, password: PASSWORD } })).errors?.[0].extensions.code,
    ).toBe("INVALID_CREDENTIALS");
  });

  it("refuses a wrong password and changes nothing", async () => {
    const user = await signUp(server);
    const other = await signIn(server, user.email);
    const res = await server.request(
      ChangeEmailDocument,
      { newEmail: uniqueEmail(), currentPassword: "not the password" },
      { token: user.accessToken },
    );
    expect(res.errors?.[0].extensions.code).toBe("INVALID_CREDENTIALS");
    expect((await server.request(MeDocument, {}, { token: user.accessToken })).data?.me.email).toBe(user.email);
    expect((await server.request(MeDocument, {}, { token: other.accessToken })).status).toBe(200);
  });

  it("answers EMAIL_TAKEN for an email in use, whatever its case, and ends no session", async () => {
    const user = await signUp(server);
    const other = await signIn(server, user.email);
    const taken = await signUp(server);
    const res = await server.request(
      ChangeEmailDocument,
      { newEmail: taken.email.toUpperCase(), currentPassword: PASSWORD },
      { token: user.accessToken },
    );
    expect(res.errors?.[0]).toMatchObject({
      message: "An account with this email already exists.",
      extensions: { code: "EMAIL_TAKEN" },
    });
    expect((await server.request(MeDocument, {}, { token: other.accessToken })).status).toBe(200);
  });

  it("refuses an invalid email as BAD_USER_INPUT", async () => {
    const user = await signUp(server);
    const res = await server.request(
      ChangeEmailDocument,
      { newEmail: "not-an-email", currentPassword: PASSWORD },
      { token: user.accessToken },
    );
    expect(res.errors?.[0].extensions.code).toBe("BAD_USER_INPUT");
  });
});

describe("freshness: a sensitive action needs a recent proof of the password", () => {
  const changes = [
    [
      "changePassword",
      (token: string, currentPassword: string) =>
        server.request(ChangePasswordDocument, { currentPassword, newPassword: "a new password!" }, { token }),
    ],
    [
      "changeEmail",
      (token: string, currentPassword: string) =>
        server.request(ChangeEmailDocument, { newEmail: uniqueEmail(), currentPassword }, { token }),
    ],
  ] as const;
  const isFresh = async (sessionId: string) =>
    (
      await server.sql<{ fresh: boolean }>(
        "SELECT authenticated_at > now() - interval '5 seconds' AS fresh FROM sessions WHERE id = $1",
        [sessionId],
      )
    )[0].fresh;

  it.each(changes)(
    "%s on a stale session succeeds in one call with the right current password, and leaves the session fresh",
    async (name, call) => {
      const user = await signUp(server);
      const other = await signIn(server, user.email);
      await makeStale(user.session.id);
      const res = await call(user.accessToken, PASSWORD);
      expect(res).toMatchObject({ status: 200, data: { [name]: 1 } });
      expect(res.errors).toBeUndefined();
      expect((await server.request(MeDocument, {}, { token: other.accessToken })).errors?.[0].extensions.code).toBe(
        "UNAUTHENTICATED",
      );
      // The password it just proved counts like reauthenticate: ending sessions needs no second prompt.
      expect(await isFresh(user.session.id)).toBe(true);
      expect((await server.request(LogoutAllDevicesDocument, { keepCurrent: true }, { token: user.accessToken })).data).toEqual({
        logoutAllDevices: 0,
      });
    },
  );

  it.each(changes)(
    "%s on a stale session with a wrong current password is INVALID_CREDENTIALS, changes nothing, leaves it stale, and is throttled",
    async (_name, call) => {
      const user = await signUp(server);
      const other = await signIn(server, user.email);
      await makeStale(user.session.id);
      const wrong = await call(user.accessToken, "not the password");
      expect({ status: wrong.status, data: wrong.data, errors: wrong.errors }).toEqual({
        status: 200,
        data: null,
        errors: [
          {
            message: "The current password is not correct.",
            locations: expect.any(Array),
            path: [_name],
            extensions: { code: "INVALID_CREDENTIALS" },
          },
        ],
      });
      expect((await server.request(MeDocument, {}, { token: other.accessToken })).data?.me.email).toBe(user.email);
      expect(await isFresh(user.session.id)).toBe(false);
      const [failed] = await server.sql<{ n: number }>(
        "SELECT count(*)::int AS n FROM security_events WHERE user_id = $1 AND type = 'LOGIN_FAILED'",
        [user.user.id],
      );
      expect(failed.n).toBe(1);
      // The login throttle counts these guesses: past LOGIN_MAX_FAILURES_PER_ACCOUNT even the right password is refused.
      for (let i = 1; i < 5; i++)
        expect((await call(user.accessToken, "not the password")).errors?.[0].extensions.code).toBe("INVALID_CREDENTIALS");
      expect((await call(user.accessToken, PASSWORD)).errors?.[0].extensions).toEqual({
        code: "RATE_LIMITED",
        retryAfter: expect.any(Number),
      });
      expect((await server.request(MeDocument, {}, { token: other.accessToken })).data?.me.email).toBe(user.email);
    },
  );

  it("logoutAllDevices and revoking another session still need a fresh session, so a stale stolen token cannot sign the owner out everywhere", async () => {
    const user = await signUp(server);
    const other = await signIn(server, user.email);
    await makeStale(user.session.id);
    const revoke = await server.request(RevokeSessionDocument, { id: other.session.id }, { token: user.accessToken });
    const all = await server.request(LogoutAllDevicesDocument, { keepCurrent: true }, { token: user.accessToken });
    expect(revoke.errors).toEqual([
      {
        message: "Confirm your password (reauthenticate) to do this.",
        locations: expect.any(Array),
        path: ["revokeSession"],
        extensions: { code: "FORBIDDEN", reason: "SESSION_NOT_FRESH" },
      },
    ]);
    expect(all.errors).toEqual([
      {
        message: "Confirm your password (reauthenticate) to do this.",
        locations: expect.any(Array),
        path: ["logoutAllDevices"],
        extensions: { code: "FORBIDDEN", reason: "SESSION_NOT_FRESH" },
      },
    ]);
    for (const res of [revoke, all]) expect(res.data).toBeNull();
    expect((await server.request(MeDocument, {}, { token: other.accessToken })).data?.me.id).toBe(user.user.id);
    // Ending one's own session never needs freshness.
    expect(
      (await server.request(RevokeSessionDocument, { id: user.session.id }, { token: user.accessToken })).data?.revokeSession,
    ).toBe(true);
    expect((await server.request(LogoutDocument, {}, { token: other.accessToken })).data?.logout).toBe(true);
  });

  it("reauthenticate makes the session fresh again, and ending the other sessions then succeeds", async () => {
    const user = await signUp(server);
    await signIn(server, user.email);
    await makeStale(user.session.id);
    const stale = await server.request(LogoutAllDevicesDocument, { keepCurrent: true }, { token: user.accessToken });
    expect(stale.errors?.[0].extensions.reason).toBe("SESSION_NOT_FRESH");

    const re = await server.request(ReauthenticateDocument, { password: PASSWORD }, { token: user.accessToken });
    expect(re).toMatchObject({ status: 200, data: { reauthenticate: true } });
    expect(await isFresh(user.session.id)).toBe(true);
    const ok = await server.request(LogoutAllDevicesDocument, { keepCurrent: true }, { token: user.accessToken });
    expect(ok.data).toEqual({ logoutAllDevices: 1 });
  });

  it("reauthenticate with a wrong password is INVALID_CREDENTIALS and leaves the session stale", async () => {
    const user = await signUp(server);
    await makeStale(user.session.id);
    const re = await server.request(ReauthenticateDocument, { password: "wrong password" }, { token: user.accessToken });
    expect(re.errors?.[0].extensions.code).toBe("INVALID_CREDENTIALS");
    const res = await server.request(LogoutAllDevicesDocument, { keepCurrent: true }, { token: user.accessToken });
    expect(res.errors?.[0].extensions.reason).toBe("SESSION_NOT_FRESH");
  });

  it("reauthenticate needs a signed-in session", async () => {
    const res = await server.request(ReauthenticateDocument, { password: PASSWORD });
    expect(res.status).toBe(401); // the operation ran but produced nothing: the code's status
    expect(res.data).toBeNull();
    expect(res.errors?.[0].extensions).toEqual({ code: "UNAUTHENTICATED", reason: "TOKEN_MISSING" });
  });

  it("re-reads the session from the database: a session revoked earlier in the same operation cannot change the email", async () => {
    // The context builder loaded the session while it was alive; mutations run in order, so
    // `logout` ends it before `changeEmail` runs. Only a guard that re-reads the row sees that.
    const user = await signUp(server);
    const res = await server.post(
      { query: `mutation { logout changeEmail(newEmail: "${uniqueEmail()}", currentPassword: "${PASSWORD}") }` },
      { token: user.accessToken },
    );
    expect(res.errors).toEqual([
      expect.objectContaining({ path: ["changeEmail"], extensions: { code: "UNAUTHENTICATED", reason: "SESSION_REVOKED" } }),
    ]);
    const [row] = await server.sql<{ email: string }>("SELECT email FROM users WHERE id = $1", [user.user.id]);
    expect(row.email).toBe(user.email);
  });
});
