import { ChangePasswordDocument, LoginDocument, MeDocument, RegisterDocument } from "./gql/graphql";
import { startTestServer, type TestServer } from "./support/test-server";
import { PASSWORD, signIn, signUp, uniqueEmail } from "./support/users";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
  // A real database failure on demand: a trigger that refuses writes to `sessions` while the
  // flag table says so. It fires in the middle of a mutation, after its first write.
  await server.sql(`
    CREATE TABLE fail_sessions (on_insert boolean NOT NULL, on_update boolean NOT NULL);
    INSERT INTO fail_sessions VALUES (false, false);
    CREATE FUNCTION fail_sessions() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF (TG_OP = 'INSERT' AND (SELECT on_insert FROM fail_sessions))
         OR (TG_OP = 'UPDATE' AND (SELECT on_update FROM fail_sessions)) THEN
        RAISE EXCEPTION 'injected failure: sessions are read-only';
      END IF;
      RETURN NEW;
    END $$;
    CREATE TRIGGER fail_sessions BEFORE INSERT OR UPDATE ON sessions FOR EACH ROW EXECUTE FUNCTION fail_sessions();
  `);
});
afterEach(() => server.sql("UPDATE fail_sessions SET on_insert = false, on_update = false"));
afterAll(() => server.stop());

describe("a failure halfway through a mutation", () => {
  it("register: the account is not created when its session cannot be, and the error reveals nothing", async () => {
    await server.sql("UPDATE fail_sessions SET on_insert = true");
    const email = uniqueEmail();
    const res = await server.request(RegisterDocument, { input: { email, password: PASSWORD } });
    expect(res.data).toBeNull();
    expect(res.errors).toEqual([
      {
        message: "Internal server error.",
        path: ["register"],
        locations: [{ line: 2, column: 3 }],
        extensions: { code: "INTERNAL_SERVER_ERROR", requestId: res.headers.get("x-request-id") },
      },
    ]);
    expect(await server.sql("SELECT id FROM users WHERE email = $1", [email])).toEqual([]);

    // and the same email registers fine once the database recovers
    await server.sql("UPDATE fail_sessions SET on_insert = false");
    const retry = await server.request(RegisterDocument, { input: { email, password: PASSWORD } });
    expect(retry.data?.register.user.email).toBe(email);
  });

  it("changePassword: the password stays as it was when the other sessions cannot be ended", async () => {
    const user = await signUp(server);
    const other = await signIn(server, user.email);
    await server.sql("UPDATE fail_sessions SET on_update = true");
    const res = await server.request(
      ChangePasswordDocument,
      { currentPassword: PASSWORD, newPassword: "an entirely new password" },
      { token: user.accessToken },
    );
    expect(res.errors?.[0].extensions).toEqual({ code: "INTERNAL_SERVER_ERROR", requestId: res.headers.get("x-request-id") });
    await server.sql("UPDATE fail_sessions SET on_update = false");

    const login = await server.request(LoginDocument, { input: { email: user.email, password: PASSWORD } });
    expect(login.data?.login.user.id).toBe(user.user.id);
    expect((await server.request(MeDocument, {}, { token: other.accessToken })).status).toBe(200);
  });
});
