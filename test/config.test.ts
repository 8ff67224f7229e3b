import { spawnSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import path from "node:path";
import { ConfigError, loadConfig } from "../src/config/environment";
import { flag } from "../src/config/variable-kinds";
import { generateSigningKey } from "../src/lib/signing-keys";
import { MeDocument } from "./gql/graphql";
import { startTestServer } from "./support/test-server";
import { signUp } from "./support/users";

const MAIN = path.join(__dirname, "..", "dist", "src", "main.js");

/** The problems loadConfig reports for `env`, or [] when it parses. */
function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.problems;
  }
}

const { privateKey: rsa } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const RSA_KEY = rsa.export({ format: "pem", type: "pkcs8" }).toString();
const SEC1_KEY = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ format: "pem", type: "sec1" }).toString();

describe("configuration", () => {
  it("has working defaults for development, with a per-process ES256 signing key", () => {
    const a = loadConfig({});
    const b = loadConfig({});
    expect(a).toMatchObject({ env: "development", port: 4000, host: "127.0.0.1", accessTokenTtl: 300 });
    expect(a.jwt.keys.map((k) => [k.alg, k.privateKey !== null])).toEqual([["ES256", true]]);
    expect(a.jwt.keys[0].kid).not.toBe(b.jwt.keys[0].kid);
    expect(Object.isFrozen(a)).toBe(true);
  });

  it("names every invalid variable at once", () => {
    expect(problems({ PORT: "eighty", ACCESS_TOKEN_TTL: "-5", DATABASE_URL: "mysql://x", JWT_PRIVATE_KEYS: "short" })).toEqual([
      'DATABASE_URL must be a postgres:// or postgresql:// URL, such as postgres://user@localhost:5432/db, got "mysql://x"',
      'PORT must be a whole number from 0 to 65535, got "eighty"',
      "JWT_PRIVATE_KEYS must be PKCS#8 PEM keys, Ed25519 or P-256, at least one private (holds no PEM key), got 5 characters",
      'ACCESS_TOKEN_TTL must be a whole number of seconds, got "-5"',
    ]);
  });

  it.each([
    ["duration", { ACCESS_TOKEN_TTL: "15m" }, 'ACCESS_TOKEN_TTL must be a whole number of seconds, got "15m"'],
    ["duration below its minimum", { SESSION_SWEEP_INTERVAL: "0" }, 'SESSION_SWEEP_INTERVAL must be at least 1 second, got "0"'],
    [
      "duration that may be zero",
      { REFRESH_REUSE_GRACE: "1.5" },
      'REFRESH_REUSE_GRACE must be a whole number of seconds, got "1.5"',
    ],
    ["count", { LOGIN_MAX_FAILURES_PER_IP: "lots" }, 'LOGIN_MAX_FAILURES_PER_IP must be a whole number, got "lots"'],
    ["count below its minimum", { GRAPHQL_MAX_DEPTH: "0" }, 'GRAPHQL_MAX_DEPTH must be at least 1, got "0"'],
    ["number in a range", { PASSWORD_HASH_COST: "99" }, 'PASSWORD_HASH_COST must be a whole number from 10 to 20, got "99"'],
    ["enum", { NODE_ENV: "prod" }, 'NODE_ENV must be one of development, production, test, got "prod"'],
    [
      "log level (an enum)",
      { LOG_LEVEL: "verbose" },
      'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "verbose"',
    ],
    [
      "URL (its password masked)",
      { DATABASE_URL: "mysql://root:hunter2@db.internal/app" },
      'DATABASE_URL must be a postgres:// or postgresql:// URL, such as postgres://user@localhost:5432/db, got "mysql://root:***@db.internal/app"',
    ],
    [
      "list",
      { CORS_ORIGINS: "https://app.example.test, https://app.example.test/path" },
      'CORS_ORIGINS must be comma-separated origins such as https://app.example.com (no path, no "*"; "https://app.example.test/path" is not one), got "https://app.example.test, https://app.example.test/path"',
    ],
    [
      "address ranges",
      { TRUST_PROXY: "10.0.0.0/8, 10.0.0.1/33" },
      'TRUST_PROXY must be comma-separated IP addresses or CIDR blocks such as 10.0.0.0/8 (entry 2 is not one), got "10.0.0.0/8, 10.0.0.1/33"',
    ],
    [
      "key ring (by its length only)",
      { JWT_PRIVATE_KEYS: "hunter2" },
      "JWT_PRIVATE_KEYS must be PKCS#8 PEM keys, Ed25519 or P-256, at least one private (holds no PEM key), got 7 characters",
    ],
    [
      "key ring holding an RSA key (named by position, never quoted)",
      { JWT_PRIVATE_KEYS: RSA_KEY },
      `JWT_PRIVATE_KEYS must be PKCS#8 PEM keys, Ed25519 or P-256, at least one private (key 1 is neither Ed25519 nor P-256), got ${RSA_KEY.trim().length} characters`,
    ],
    [
      "key ring holding a SEC1 EC key",
      { JWT_PRIVATE_KEYS: SEC1_KEY },
      `JWT_PRIVATE_KEYS must be PKCS#8 PEM keys, Ed25519 or P-256, at least one private (key 1 is a "EC PRIVATE KEY" block; expected a PKCS#8 "PRIVATE KEY" (convert with: openssl pkcs8 -topk8 -nocrypt) or a "PUBLIC KEY"), got ${SEC1_KEY.trim().length} characters`,
    ],
    [
      "bound between two variables",
      { SESSION_IDLE_TTL: "7200", SESSION_MAX_TTL: "3600" },
      'SESSION_IDLE_TTL must not exceed SESSION_MAX_TTL (3600 seconds), got "7200"',
    ],
  ])("describes a bad %s in words: the variable, what it must be, and what was given", (_kind, env, message) => {
    expect(problems(env)).toEqual([message]);
    expect(message).not.toMatch(/NaN|Expected|received|hunter2/);
  });

  it("says in words what a boolean must be (no variable is one yet; the kind is ready)", () => {
    const result = flag(false).safeParse("yes");
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.message)).toEqual(["must be true or false"]);
    expect(["true", "1", "FALSE", "0"].map((v) => flag(false).parse(v))).toEqual([true, true, false, false]);
    expect(flag(true).parse(undefined)).toBe(true);
  });

  it("defaults SESSION_IDLE_TTL to the smaller of 7 days and SESSION_MAX_TTL", () => {
    expect(loadConfig({}).sessionIdleTtl).toBe(7 * 24 * 3600);
    expect(loadConfig({ SESSION_MAX_TTL: "3600" })).toMatchObject({ sessionIdleTtl: 3600, sessionMaxTtl: 3600 });
    expect(loadConfig({ SESSION_MAX_TTL: "3600", SESSION_IDLE_TTL: "600" }).sessionIdleTtl).toBe(600);
  });

  it("starts the real server with SESSION_MAX_TTL=3600 alone, and its sessions end within the hour", async () => {
    const server = await startTestServer({ SESSION_MAX_TTL: "3600" });
    try {
      const user = await signUp(server);
      expect((await server.request(MeDocument, {}, { token: user.accessToken })).data?.me.id).toBe(user.user.id);
      const [row] = await server.sql<{ seconds: number }>(
        "SELECT extract(epoch FROM expires_at - created_at)::int AS seconds FROM sessions WHERE id = $1",
        [user.session.id],
      );
      expect(row.seconds).toBe(3600);
    } finally {
      await server.stop();
    }
  });

  it("requires JWT_PRIVATE_KEYS and full-cost password hashing in production", () => {
    expect(() => loadConfig({ NODE_ENV: "production" })).toThrow(/JWT_PRIVATE_KEYS is required in production/);
    const keys = generateSigningKey("EdDSA");
    expect(() => loadConfig({ NODE_ENV: "production", JWT_PRIVATE_KEYS: keys, PASSWORD_HASH_COST: "10" })).toThrow(
      /PASSWORD_HASH_COST must be at least 17/,
    );
  });

  it("reads the revocation lease in milliseconds, 2 s by default, refusing one too short to renew", () => {
    expect(loadConfig({}).revocationLeaseMs).toBe(2000);
    expect(loadConfig({ REVOCATION_LEASE_MS: "750" }).revocationLeaseMs).toBe(750);
    expect(() => loadConfig({ REVOCATION_LEASE_MS: "50" })).toThrow(/REVOCATION_LEASE_MS/);
    expect(() => loadConfig({ REVOCATION_LEASE_MS: "1.5" })).toThrow(/REVOCATION_LEASE_MS/);
  });

  it("reads the hardening settings, with safe defaults and a parsed CORS allow-list", () => {
    expect(loadConfig({})).toMatchObject({
      freshSessionTtl: 600,
      loginThrottle: { maxFailuresPerAccount: 5, maxFailuresPerIp: 50, windowSeconds: 900 },
      corsOrigins: [],
      sessionRetention: 30 * 24 * 3600,
      queryLimits: { maxDepth: 10, maxAliases: 15, maxTokens: 1000, maxCost: 10_000 },
    });
    const config = loadConfig({ CORS_ORIGINS: "https://app.example.test, http://localhost:5173", LOGIN_LOCKOUT_SECONDS: "60" });
    expect(config.corsOrigins).toEqual(["https://app.example.test", "http://localhost:5173"]);
    expect(config.loginThrottle.windowSeconds).toBe(60);
    expect(() => loadConfig({ CORS_ORIGINS: "*" })).toThrow(/CORS_ORIGINS/);
    expect(() => loadConfig({ CORS_ORIGINS: "https://app.example.test/path" })).toThrow(/CORS_ORIGINS/);
    expect(() => loadConfig({ LOGIN_MAX_FAILURES_PER_ACCOUNT: "0" })).toThrow(/LOGIN_MAX_FAILURES_PER_ACCOUNT/);
  });

  it("bounds costly and slow work by default: a register budget, a password-hash queue, request timeouts, connection and socket caps", () => {
    expect(loadConfig({})).toMatchObject({
      registerBudget: { maxPerIp: 30, windowSeconds: 3600 },
      passwordQueue: { concurrency: 2, maxWaiting: 16 },
      httpLimits: { headersTimeout: 10, requestTimeout: 20, maxConnectionsPerIp: 256 },
      socketCaps: { perSession: 10, perUser: 50, perIp: 100, total: undefined },
    });
    expect(loadConfig({ WS_MAX_CONNECTIONS: "900", PASSWORD_HASH_QUEUE: "0" })).toMatchObject({
      socketCaps: { total: 900 },
      passwordQueue: { maxWaiting: 0 },
    });
    expect(() => loadConfig({ HTTP_HEADERS_TIMEOUT: "30", HTTP_REQUEST_TIMEOUT: "20" })).toThrow(
      /HTTP_HEADERS_TIMEOUT must not exceed HTTP_REQUEST_TIMEOUT/,
    );
    expect(() => loadConfig({ WS_MAX_PER_SESSION: "0" })).toThrow(/WS_MAX_PER_SESSION/);
  });

  it("stops the real server at start-up with a message naming the bad variable", () => {
    const run = spawnSync(process.execPath, [MAIN], {
      env: { PATH: process.env.PATH, SESSION_IDLE_TTL: "soon", DATABASE_URL: process.env.DATABASE_URL },
      encoding: "utf8",
      timeout: 20_000,
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('SESSION_IDLE_TTL must be a whole number of seconds, got "soon"');
    expect(run.stdout).not.toContain("ready");
  });
});
