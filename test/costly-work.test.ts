import { LoginDocument, RegisterDocument } from "./gql/graphql";
import { startTestServer, type TestServer } from "./support/test-server";
import { PASSWORD, signUp, uniqueEmail } from "./support/users";

/** Unauthenticated work that costs a password hash: a budget per IP, and a bounded queue. */
describe("register's budget per IP", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ REGISTER_MAX_PER_IP: "3", REGISTER_WINDOW_SECONDS: "3600" });
  });
  afterAll(() => server.stop());

  const register = (email: string) => server.request(RegisterDocument, { input: { email, password: PASSWORD } });

  it("counts every call, a taken email too, and answers the next RATE_LIMITED with Retry-After (429), creating nothing", async () => {
    const first = uniqueEmail();
    expect((await register(first)).data?.register.user.email).toBe(first);
    expect((await register(first)).errors?.[0].extensions.code).toBe("EMAIL_TAKEN");
    expect((await register(uniqueEmail())).data?.register).toBeTruthy();
    const refusedEmail = uniqueEmail();
    const refused = await register(refusedEmail);
    expect(refused.status).toBe(429);
    expect(refused.data).toBeNull();
    expect(refused.errors).toEqual([
      expect.objectContaining({
        message: "Too many attempts; try again later.",
        extensions: { code: "RATE_LIMITED", retryAfter: expect.any(Number) },
      }),
    ]);
    const retryAfter = refused.errors![0].extensions.retryAfter as number;
    expect(retryAfter).toBeGreaterThan(3500);
    expect(retryAfter).toBeLessThanOrEqual(3600);
    expect(refused.headers.get("retry-after")).toBe(String(retryAfter));
    // A taken email gets the same refusal: past the budget, the oracle is closed.
    expect((await register(first)).errors?.[0].extensions.code).toBe("RATE_LIMITED");
    expect(await server.sql("SELECT count(*)::int AS n FROM users WHERE email = $1", [refusedEmail])).toEqual([{ n: 0 }]);
  });

  it("leaves login alone: past the register budget, a sign-in from the same IP is still checked", async () => {
    const res = await server.request(LoginDocument, { input: { email: uniqueEmail(), password: PASSWORD } });
    expect(res.errors?.[0].extensions.code).toBe("INVALID_CREDENTIALS");
  });
});

describe("the queue in front of every password hash", () => {
  let server: TestServer;
  beforeAll(async () => {
    // One hash at a time, one waiting, each slow enough (2^15) for a burst to pile up.
    server = await startTestServer({ PASSWORD_HASH_COST: "15", PASSWORD_HASH_CONCURRENCY: "1", PASSWORD_HASH_QUEUE: "1" });
  });
  afterAll(() => server.stop());

  it("answers 503 SERVICE_UNAVAILABLE with Retry-After to registers and logins past it, and serves the rest", async () => {
    const user = await signUp(server);
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        i % 2 === 0
          ? server.request(RegisterDocument, { input: { email: uniqueEmail(), password: PASSWORD } })
          : server.request(LoginDocument, { input: { email: user.email, password: PASSWORD } }),
      ),
    );
    const refused = answers.filter((a) => a.status === 503);
    const served = answers.filter((a) => a.status === 200 && a.data);
    expect(refused.length).toBeGreaterThanOrEqual(6);
    expect(served.length).toBeGreaterThanOrEqual(2);
    expect(refused.length + served.length).toBe(12);
    for (const answer of refused) {
      expect(answer.errors).toEqual([
        {
          message: "Temporarily unavailable; try again shortly.",
          extensions: { code: "SERVICE_UNAVAILABLE", requestId: answer.headers.get("x-request-id") },
        },
      ]);
      expect(answer.headers.get("retry-after")).toMatch(/^[1-9]\d*$/);
    }
    expect(answers.filter((a, i) => i % 2 === 0 && a.status === 503).length).toBeGreaterThan(0);
    expect(answers.filter((a, i) => i % 2 === 1 && a.status === 503).length).toBeGreaterThan(0);
  });

  it("does not count a login it refused for a full queue against the account's throttle (five failures)", async () => {
    const user = await signUp(server);
    const wrong = () => server.request(LoginDocument, { input: { email: user.email, password: "wrong password" } });
    const burst = await Promise.all(Array.from({ length: 5 }, wrong));
    const refused = burst.filter((a) => a.status === 503).length;
    expect(refused).toBeGreaterThan(0);
    expect(burst.filter((a) => a.errors?.[0].extensions.code === "INVALID_CREDENTIALS")).toHaveLength(5 - refused);
    // The refused ones were given back: exactly that many failures are left before the lockout.
    for (let i = 0; i < refused; i++) expect((await wrong()).errors?.[0].extensions.code).toBe("INVALID_CREDENTIALS");
    expect((await wrong()).errors?.[0].extensions.code).toBe("RATE_LIMITED");
  });
});
