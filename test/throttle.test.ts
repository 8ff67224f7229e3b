import { LoginDocument, ReauthenticateDocument } from "./gql/graphql";
import { startTestServer, type TestServer } from "./support/test-server";
import { PASSWORD, signUp, uniqueEmail } from "./support/users";
import { sleep } from "./support/wait";

const WINDOW_SECONDS = 2;
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({
    LOGIN_MAX_FAILURES_PER_ACCOUNT: "3",
    LOGIN_MAX_FAILURES_PER_IP: "1000",
    LOGIN_LOCKOUT_SECONDS: String(WINDOW_SECONDS),
  });
});
afterAll(() => server.stop());

const login = (email: string, password: string) => server.request(LoginDocument, { input: { email, password } });

async function failThreeTimes(email: string) {
  for (let i = 0; i < 3; i++) {
    expect((await login(email, "wrong password")).errors?.[0].extensions.code).toBe("INVALID_CREDENTIALS");
  }
}

describe("login throttling per account", () => {
  it("answers RATE_LIMITED with retryAfter and a Retry-After header after three failures (HTTP 429)", async () => {
    const user = await signUp(server);
    await failThreeTimes(user.email);
    const res = await login(user.email, "wrong password");
    expect(res.status).toBe(429);
    expect(res.data).toBeNull();
    expect(res.errors).toEqual([
      expect.objectContaining({
        message: "Too many attempts; try again later.",
        extensions: { code: "RATE_LIMITED", retryAfter: expect.any(Number) },
      }),
    ]);
    const retryAfter = res.errors![0].extensions.retryAfter as number;
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(WINDOW_SECONDS);
    expect(res.headers.get("retry-after")).toBe(String(retryAfter));
  });

  it("gives the right password during a lockout exactly the answer a wrong one gets", async () => {
    const user = await signUp(server);
    await failThreeTimes(user.email);
    const wrong = await login(user.email, "wrong password");
    const right = await login(user.email, PASSWORD);
    const strip = (r: typeof wrong) => ({
      status: r.status,
      data: r.data,
      errors: r.errors?.map((e) => ({ ...e, extensions: { ...e.extensions, retryAfter: 0 } })),
    });
    expect(strip(right)).toEqual(strip(wrong));
    expect(right.errors?.[0].extensions.code).toBe("RATE_LIMITED");
    expect(right.headers.get("retry-after")).toMatch(/^[1-9]\d*$/);
    const sessions = await server.sql("SELECT count(*)::int AS n FROM sessions WHERE user_id = $1", [user.user.id]);
    expect(sessions).toEqual([{ n: 1 }]); // only the registration's
  });

  it("throttles an unknown email the same way, so lockouts do not reveal which accounts exist", async () => {
    const email = uniqueEmail();
    await failThreeTimes(email);
    expect((await login(email, "wrong password")).errors?.[0].extensions.code).toBe("RATE_LIMITED");
  });

  it("ends the lockout after its window, and the right password then works", async () => {
    const user = await signUp(server);
    await failThreeTimes(user.email);
    expect((await login(user.email, PASSWORD)).errors?.[0].extensions.code).toBe("RATE_LIMITED");
    await sleep(WINDOW_SECONDS * 1000 + 200);
    expect((await login(user.email, PASSWORD)).data?.login.user.id).toBe(user.user.id);
  });

  it("resets the account's count on a successful login", async () => {
    const user = await signUp(server);
    await login(user.email, "wrong password");
    await login(user.email, "wrong password");
    expect((await login(user.email, PASSWORD)).data?.login).toBeTruthy();
    await login(user.email, "wrong password");
    await login(user.email, "wrong password");
    expect((await login(user.email, PASSWORD)).data?.login).toBeTruthy();
  });

  it("lets through at most the limit when many guesses race", async () => {
    const user = await signUp(server);
    const results = await Promise.all(Array.from({ length: 12 }, () => login(user.email, "wrong password")));
    const codes = results.map((r) => r.errors?.[0].extensions.code);
    expect(codes.filter((c) => c === "INVALID_CREDENTIALS")).toHaveLength(3);
    expect(codes.filter((c) => c === "RATE_LIMITED")).toHaveLength(9);
  });

  it("also throttles reauthenticate, on the signed-in session's own budget: a lockout from elsewhere does not hold it", async () => {
    const user = await signUp(server);
    for (let i = 0; i < 3; i++) {
      const res = await server.request(ReauthenticateDocument, { password: "wrong password" }, { token: user.accessToken });
      expect(res.errors?.[0].extensions.code).toBe("INVALID_CREDENTIALS");
    }
    const res = await server.request(ReauthenticateDocument, { password: PASSWORD }, { token: user.accessToken });
    expect(res.errors?.[0].extensions.code).toBe("RATE_LIMITED");

    // The other way round: an attacker locks the account, and the owner's session can still re-prove its password.
    const owner = await signUp(server);
    await failThreeTimes(owner.email);
    expect((await login(owner.email, PASSWORD)).errors?.[0].extensions.code).toBe("RATE_LIMITED");
    const reauth = await server.request(ReauthenticateDocument, { password: PASSWORD }, { token: owner.accessToken });
    expect(reauth.data).toEqual({ reauthenticate: true });
  });

  it("keeps its counters in PostgreSQL, shared by every instance, keyed without the email", async () => {
    const user = await signUp(server);
    const second = await startTestServer(
      { LOGIN_MAX_FAILURES_PER_ACCOUNT: "3", LOGIN_LOCKOUT_SECONDS: String(WINDOW_SECONDS) },
      { dbSchema: server.dbSchema },
    );
    try {
      await login(user.email, "wrong password");
      await login(user.email, "wrong password");
      await second.request(LoginDocument, { input: { email: user.email, password: "wrong password" } });
      const res = await second.request(LoginDocument, { input: { email: user.email, password: PASSWORD } });
      expect(res.errors?.[0].extensions.code).toBe("RATE_LIMITED");
    } finally {
      await second.stop();
    }
    const keys = await server.sql<{ key: string }>("SELECT key FROM login_throttle");
    expect(keys.some((k) => k.key.includes(user.email))).toBe(false);
  });
});

describe("malicious lockout (OWASP device cookies)", () => {
  const loginFrom = (email: string, password: string, deviceId?: string) =>
    server.request(LoginDocument, { input: { email, password, deviceId } });

  it("a device that once signed in is not held by the account-wide lock, only by its own budget", async () => {
    const owner = await signUp(server);
    // The owner's phone signed in successfully once: the server now knows its device id.
    expect((await loginFrom(owner.email, PASSWORD, "owners-phone")).data?.login.session.newDevice).toBe(true);

    // An attacker anywhere keeps the account locked: without a device id, or with one of their own.
    await failThreeTimes(owner.email);
    expect((await loginFrom(owner.email, PASSWORD)).errors?.[0].extensions.code).toBe("RATE_LIMITED");
    expect((await loginFrom(owner.email, PASSWORD, "attackers-device")).errors?.[0].extensions.code).toBe("RATE_LIMITED");

    // The owner's phone signs in all the same, and its success does not lift the lock on the others.
    const phone = await loginFrom(owner.email, PASSWORD, "owners-phone");
    expect(phone.data?.login.session.newDevice).toBe(false);
    expect((await loginFrom(owner.email, PASSWORD)).errors?.[0].extensions.code).toBe("RATE_LIMITED");

    // Its own budget still stops guessing from it (a stolen phone is no oracle).
    for (let i = 0; i < 3; i++) {
      expect((await loginFrom(owner.email, "wrong password", "owners-phone")).errors?.[0].extensions.code).toBe(
        "INVALID_CREDENTIALS",
      );
    }
    expect((await loginFrom(owner.email, PASSWORD, "owners-phone")).errors?.[0].extensions.code).toBe("RATE_LIMITED");
  });

  it("a device id known to another account earns no trust on this one", async () => {
    const other = await signUp(server);
    await loginFrom(other.email, PASSWORD, "shared-device");
    const victim = await signUp(server);
    await failThreeTimes(victim.email);
    expect((await loginFrom(victim.email, PASSWORD, "shared-device")).errors?.[0].extensions.code).toBe("RATE_LIMITED");
  });
});

describe("login throttling per IP", () => {
  let tight: TestServer;
  beforeAll(async () => {
    tight = await startTestServer({
      LOGIN_MAX_FAILURES_PER_ACCOUNT: "100",
      LOGIN_MAX_FAILURES_PER_IP: "4",
      LOGIN_LOCKOUT_SECONDS: String(WINDOW_SECONDS),
    });
  });
  afterAll(() => tight.stop());

  it("refuses a client after too many failures across different accounts", async () => {
    const victim = await signUp(tight);
    for (let i = 0; i < 4; i++) {
      const res = await tight.request(LoginDocument, { input: { email: uniqueEmail(), password: "wrong password" } });
      expect(res.errors?.[0].extensions.code).toBe("INVALID_CREDENTIALS");
    }
    const res = await tight.request(LoginDocument, { input: { email: victim.email, password: PASSWORD } });
    expect(res.errors?.[0].extensions.code).toBe("RATE_LIMITED");
  });
});
