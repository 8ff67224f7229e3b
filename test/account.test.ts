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
import { sleep } from "./support/wait";

const FRESH_SECONDS = 2;
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ FRESH_SESSION_TTL: String(FRESH_SECONDS) });
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
    const res = await server.request(ChangeEmailDocument, { newEmail: `  ${newEmail.toUpperCase()} `.trim(), currentPassword: PASSWORD }, { token: user.accessToken });
    expect(res).toMatchObject({ status: 200, data: { changeEmail: 2 } });
    expect((await server.request(MeDocument, {}, { token: user.accessToken })).data?.me.email).toBe(newEmail);
    for (const other of [phone, tablet]) expect((await server.request(MeDocument, {}, { token: other.accessToken })).status).toBe(401);
    const reasons = await server.sql("SELECT DISTINCT revoked_reason FROM sessions WHERE user_id = $1 AND revoked_at IS NOT NULL", [user.user.id]);
    expect(reasons).toEqual([{ revoked_reason: "EMAIL_CHANGED" }]);
    // The new email signs in; the old one no longer does.
    expect((await server.request(LoginDocument, { input: { email: newEmail, password: PASSWORD } })).data?.login).toBeTruthy();
    expect((await server.request(LoginDocument, { input: { email: user.email, password: PASSWORD } })).errors?.[0].extensions.code).toBe(
      "INVALID_CREDENTIALS",
    );
  });

  it("refuses a wrong password and changes nothing", async () => {
    const user = await signUp(server);
    const other = await signIn(server, user.email);
    const res = await server.request(ChangeEmailDocument, { newEmail: uniqueEmail(), currentPassword: "not the password" }, { token: user.accessToken });
    expect(res.errors?.[0].extensions.code).toBe("INVALID_CREDENTIALS");
    expect((await server.request(MeDocument, {}, { token: user.accessToken })).data?.me.email).toBe(user.email);
    expect((await server.request(MeDocument, {}, { token: other.accessToken })).status).toBe(200);
  });

  it("answers EMAIL_TAKEN for an email in use, whatever its case, and ends no session", async () => {
    const user = await signUp(server);
    const other = await signIn(server, user.email);
    const taken = await signUp(server);
    const res = await server.request(ChangeEmailDocument, { newEmail: taken.email.toUpperCase(), currentPassword: PASSWORD }, { token: user.accessToken });
    expect(res.errors?.[0]).toMatchObject({ message: "An account with this email already exists.", extensions: { code: "EMAIL_TAKEN" } });
    expect((await server.request(MeDocument, {}, { token: other.accessToken })).status).toBe(200);
  });

  it("refuses an invalid email as BAD_USER_INPUT", async () => {
    const user = await signUp(server);
    const res = await server.request(ChangeEmailDocument, { newEmail: "not-an-email", currentPassword: PASSWORD }, { token: user.accessToken });
    expect(res.errors?.[0].extensions.code).toBe("BAD_USER_INPUT");
  });
});

describe("a sensitive change needs a fresh session", () => {
  it.each([
    ["changePassword", (token: string) => server.request(ChangePasswordDocument, { currentPassword: PASSWORD, newPassword: "a new password!" }, { token })],
    ["changeEmail", (token: string) => server.request(ChangeEmailDocument, { newEmail: uniqueEmail(), currentPassword: PASSWORD }, { token })],
  ])("%s is FORBIDDEN with reason SESSION_NOT_FRESH once FRESH_SESSION_TTL has passed, changing nothing", async (_name, call) => {
    const user = await signUp(server);
    const other = await signIn(server, user.email);
    await sleep(FRESH_SECONDS * 1000 + 100);
    const res = await call(user.accessToken);
    expect(res.status).toBe(403);
    expect(res.data).toBeNull();
    expect(res.errors).toEqual([
      expect.objectContaining({
        message: "Confirm your password (reauthenticate) to do this.",
        extensions: { code: "FORBIDDEN", reason: "SESSION_NOT_FRESH" },
      }),
    ]);
    expect((await server.request(MeDocument, {}, { token: other.accessToken })).status).toBe(200);
    expect((await server.request(MeDocument, {}, { token: user.accessToken })).data?.me.email).toBe(user.email);
  });

  it("ending other sessions needs a fresh session too, so a stale stolen token cannot sign the owner out everywhere", async () => {
    const user = await signUp(server);
    const other = await signIn(server, user.email);
    await makeStale(user.session.id);
    const revoke = await server.request(RevokeSessionDocument, { id: other.session.id }, { token: user.accessToken });
    const all = await server.request(LogoutAllDevicesDocument, { keepCurrent: true }, { token: user.accessToken });
    for (const res of [revoke, all]) {
      expect(res.status).toBe(403);
      expect(res.errors?.[0].extensions).toEqual({ code: "FORBIDDEN", reason: "SESSION_NOT_FRESH" });
    }
    expect((await server.request(MeDocument, {}, { token: other.accessToken })).status).toBe(200);
    // Ending one's own session never needs freshness.
    expect((await server.request(RevokeSessionDocument, { id: user.session.id }, { token: user.accessToken })).data?.revokeSession).toBe(true);
    expect((await server.request(LogoutDocument, {}, { token: other.accessToken })).data?.logout).toBe(true);
  });

  it("reauthenticate makes the session fresh again, and the change then succeeds", async () => {
    const user = await signUp(server);
    await makeStale(user.session.id);
    const stale = await server.request(ChangePasswordDocument, { currentPassword: PASSWORD, newPassword: "a new password!" }, { token: user.accessToken });
    expect(stale.errors?.[0].extensions.reason).toBe("SESSION_NOT_FRESH");

    const re = await server.request(ReauthenticateDocument, { password: PASSWORD }, { token: user.accessToken });
    expect(re).toMatchObject({ status: 200, data: { reauthenticate: true } });
    const [row] = await server.sql<{ fresh: boolean }>("SELECT authenticated_at > now() - interval '5 seconds' AS fresh FROM sessions WHERE id = $1", [user.session.id]);
    expect(row.fresh).toBe(true);
    const ok = await server.request(ChangePasswordDocument, { currentPassword: PASSWORD, newPassword: "a new password!" }, { token: user.accessToken });
    expect(ok.data?.changePassword).toBe(0);
  });

  it("reauthenticate with a wrong password is INVALID_CREDENTIALS and leaves the session stale", async () => {
    const user = await signUp(server);
    await makeStale(user.session.id);
    const re = await server.request(ReauthenticateDocument, { password: "wrong password" }, { token: user.accessToken });
    expect(re.errors?.[0].extensions.code).toBe("INVALID_CREDENTIALS");
    const res = await server.request(ChangeEmailDocument, { newEmail: uniqueEmail(), currentPassword: PASSWORD }, { token: user.accessToken });
    expect(res.errors?.[0].extensions.reason).toBe("SESSION_NOT_FRESH");
  });

  it("reauthenticate needs a signed-in session", async () => {
    const res = await server.request(ReauthenticateDocument, { password: PASSWORD });
    expect(res.status).toBe(401);
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
