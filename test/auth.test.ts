import jwt from "jsonwebtoken";
import { ChangePasswordDocument, LoginDocument, MeDocument, RegisterDocument } from "./gql/graphql";
import { startTestServer, type TestServer } from "./support/test-server";
import { PASSWORD, signIn, signUp, uniqueEmail } from "./support/users";

let server: TestServer;
beforeAll(async () => {
  // A realistic hash cost here, so the timing test below can see a hash being skipped.
  server = await startTestServer({ PASSWORD_HASH_COST: "14" });
});
afterAll(() => server.stop());

describe("register", () => {
  it("creates the user, signs in, and stores neither the password nor the refresh token in the clear", async () => {
    const email = uniqueEmail();
    const res = await server.request(RegisterDocument, {
      input: { email: email.toUpperCase(), password: PASSWORD, deviceName: "Laptop" },
    });
    const payload = res.data!.register;
    expect(payload.user.email).toBe(email);
    expect(payload.session).toMatchObject({ current: true, deviceName: "Laptop" });
    expect(new Date(payload.accessTokenExpiresAt).getTime()).toBeGreaterThan(Date.now());

    const [user] = await server.sql<{ password_hash: string }>("SELECT password_hash FROM users WHERE email = $1", [email]);
    expect(user.password_hash).toMatch(/^\$scrypt\$ln=14,r=8,p=1\$/);
    expect(user.password_hash).not.toContain(PASSWORD);
    const [row] = await server.sql<Record<string, unknown>>("SELECT * FROM sessions WHERE id = $1", [payload.session.id]);
    const secret = payload.refreshToken!.split(".")[1];
    expect(JSON.stringify(row)).not.toContain(secret);
  });

  it("issues a refresh token with at least 128 random bits and an access token naming the session", async () => {
    const user = await signUp(server);
    const [sessionId, secret] = user.refreshToken!.split(".");
    expect(sessionId).toBe(user.session.id);
    expect(Buffer.from(secret, "base64url").length * 8).toBeGreaterThanOrEqual(128);
    const decoded = jwt.decode(user.accessToken, { complete: true })!;
    expect(decoded.header).toMatchObject({ alg: "ES256", typ: "at+jwt", kid: expect.any(String) });
    expect(decoded.payload).toMatchObject({ sub: user.user.id, sid: user.session.id, iss: "session-api", aud: "session-api" });
  });

  it("refuses an email that is already registered with a clear error, whatever its case", async () => {
    const user = await signUp(server);
    const res = await server.request(RegisterDocument, { input: { email: user.email.toUpperCase(), password: PASSWORD } });
    expect(res.status).toBe(200);
    expect(res.data).toBeNull();
    expect(res.errors).toEqual([
      expect.objectContaining({ message: "An account with this email already exists.", extensions: { code: "EMAIL_TAKEN" } }),
    ]);
  });

  it("rejects a short password and a bad email as BAD_USER_INPUT without echoing the input back", async () => {
    const res = await server.request(RegisterDocument, { input: { email: "not-an-email", password: "short" } });
    expect(res.data).toBeNull();
    expect(res.errors?.[0].extensions).toEqual({
      code: "BAD_USER_INPUT",
      fields: [
        { field: "email", messages: ["email must be a valid email address"] },
        { field: "password", messages: ["password must be 8 to 128 characters"] },
      ],
    });
    expect(JSON.stringify(res)).not.toContain("short");
  });
});

describe("new passwords", () => {
  const COMMON = "password must not be a commonly used password";
  const EMAIL = "password must not be the email address or the part before its @";
  const refusal = (field: string, messages: string[]) => ({ code: "BAD_USER_INPUT", fields: [{ field, messages }] });

  it("refuses at register the most common passwords, in any case, and the email or its local part, naming the rule and never the password", async () => {
    const email = uniqueEmail();
    const localPart = email.split("@")[0];
    const cases: [string, string[]][] = [
      ["password", [COMMON]],
      ["12345678", [COMMON]],
      ["qwertyuiop", [COMMON]],
      ["Baseball1", [COMMON]],
      [email.toUpperCase(), [EMAIL]],
      [localPart, [EMAIL]],
    ];
    for (const [password, messages] of cases) {
      const res = await server.request(RegisterDocument, { input: { email, password } });
      expect({ status: res.status, errors: res.errors?.map((e) => e.extensions) }).toEqual({
        status: 400,
        errors: [refusal("password", messages)],
      });
      // ("password" itself is also the field's name.)
      if (password !== "password") expect(JSON.stringify(res)).not.toContain(password);
    }
    // None of them made an account: the email is still free.
    expect((await server.request(RegisterDocument, { input: { email, password: PASSWORD } })).data?.register.user.email).toBe(
      email,
    );
  });

  it("refuses at changePassword a common password, the email's local part and the current password, before checking the current one", async () => {
    const user = await signUp(server);
    const change = (currentPassword: string, newPassword: string) =>
      server.request(ChangePasswordDocument, { currentPassword, newPassword }, { token: user.accessToken });
    const newPassword = (messages: string[]) => [
      refusal(
        "newPassword",
        messages.map((m) => m.replace(/^password/, "newPassword")),
      ),
    ];
    expect((await change(PASSWORD, "qwertyuiop")).errors?.map((e) => e.extensions)).toEqual(newPassword([COMMON]));
    expect((await change(PASSWORD, user.email.split("@")[0])).errors?.map((e) => e.extensions)).toEqual(newPassword([EMAIL]));
    expect((await change(PASSWORD, PASSWORD)).errors?.map((e) => e.extensions)).toEqual([
      refusal("newPassword", ["newPassword must differ from the current password"]),
    ]);
    // Nothing changed, and no attempt was counted against the account.
    const [{ n }] = await server.sql<{ n: number }>(
      "SELECT count(*)::int AS n FROM security_events WHERE user_id = $1 AND type IN ('LOGIN_FAILED', 'PASSWORD_CHANGED')",
      [user.user.id],
    );
    expect(n).toBe(0);
    expect((await server.request(LoginDocument, { input: { email: user.email, password: PASSWORD } })).data?.login.user.id).toBe(
      user.user.id,
    );
  });
});

describe("login", () => {
  it("creates a new session each time", async () => {
    const user = await signUp(server);
    const again = await signIn(server, user.email);
    expect(again.session.id).not.toBe(user.session.id);
    expect(again.refreshToken).not.toBe(user.refreshToken);
  });

  it("never adopts a refresh token or session the client sends along", async () => {
    const user = await signUp(server);
    const res = await server.request(
      LoginDocument,
      { input: { email: user.email, password: PASSWORD } },
      { token: user.accessToken, headers: { cookie: `__Host-refresh_token=${user.refreshToken}` } },
    );
    expect(res.data!.login.session.id).not.toBe(user.session.id);
    expect(res.data!.login.refreshToken).not.toBe(user.refreshToken);
  });

  it("gives an unknown email and a wrong password the same answer", async () => {
    const user = await signUp(server);
    const wrong = await server.request(LoginDocument, { input: { email: user.email, password: "wrong password!" } });
    const unknown = await server.request(LoginDocument, { input: { email: uniqueEmail(), password: "wrong password!" } });
    const shape = (r: typeof wrong) => ({ status: r.status, data: r.data, errors: r.errors });
    expect(shape(wrong)).toEqual(shape(unknown));
    expect(wrong.errors?.[0]).toMatchObject({
      message: "Invalid email or password.",
      extensions: { code: "INVALID_CREDENTIALS" },
    });
  });

  it("spends a password hash on an unknown email too, so both take about the same time", async () => {
    const user = await signUp(server);
    const time = async (email: string) => {
      const start = process.hrtime.bigint();
      await server.request(LoginDocument, { input: { email, password: "wrong password!" } });
      return Number(process.hrtime.bigint() - start) / 1e6;
    };
    // Medians of a few tries: the point is that neither path skips the hash, not a benchmark.
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 7; i++) {
      known.push(await time(user.email));
      unknown.push(await time(uniqueEmail()));
    }
    // With PASSWORD_HASH_COST=14 a hash costs tens of ms: a skipped hash would show as a ratio far below 0.5.
    expect(median(unknown) / median(known)).toBeGreaterThan(0.5);
    expect(median(unknown) / median(known)).toBeLessThan(2);
  });
});

describe("changePassword", () => {
  it("needs the current password", async () => {
    const user = await signUp(server);
    const res = await server.request(
      ChangePasswordDocument,
      { currentPassword: "not my password", newPassword: "a brand new password" },
      { token: user.accessToken },
    );
    expect(res.errors?.[0].extensions.code).toBe("INVALID_CREDENTIALS");
    const login = await server.request(LoginDocument, { input: { email: user.email, password: PASSWORD } });
    expect(login.data?.login.user.id).toBe(user.user.id);
  });

  it("sets the new password and ends every other session with reason PASSWORD_CHANGED", async () => {
    const user = await signUp(server);
    const other = await signIn(server, user.email);
    const third = await signIn(server, user.email);

    const res = await server.request(
      ChangePasswordDocument,
      { currentPassword: PASSWORD, newPassword: "a brand new password" },
      { token: user.accessToken },
    );
    expect(res.data).toEqual({ changePassword: 2 });
    expect((await server.request(MeDocument, {}, { token: other.accessToken })).status).toBe(401);
    expect((await server.request(MeDocument, {}, { token: third.accessToken })).status).toBe(401);
    expect((await server.request(MeDocument, {}, { token: user.accessToken })).status).toBe(200);
    const reasons = await server.sql<{ revoked_reason: string }>(
      "SELECT revoked_reason FROM sessions WHERE id = ANY($1::uuid[])",
      [[other.session.id, third.session.id]],
    );
    expect(reasons).toEqual([{ revoked_reason: "PASSWORD_CHANGED" }, { revoked_reason: "PASSWORD_CHANGED" }]);

    const oldLogin = await server.request(LoginDocument, { input: { email: user.email, password: PASSWORD } });
    expect(oldLogin.errors?.[0].extensions.code).toBe("INVALID_CREDENTIALS");
    const newLogin = await server.request(LoginDocument, { input: { email: user.email, password: "a brand new password" } });
    expect(newLogin.data?.login.user.id).toBe(user.user.id);
  });
});
