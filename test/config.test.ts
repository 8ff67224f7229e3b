import { spawnSync } from "node:child_process";
import path from "node:path";
import { ConfigError, loadConfig } from "../src/config/environment";

const MAIN = path.join(__dirname, "..", "dist", "src", "main.js");

describe("configuration", () => {
  it("has working defaults for development, with a per-process JWT secret", () => {
    const a = loadConfig({});
    const b = loadConfig({});
    expect(a).toMatchObject({ env: "development", port: 4000, host: "127.0.0.1", accessTokenTtl: 300 });
    expect(a.jwt.secret.length).toBeGreaterThanOrEqual(32);
    expect(a.jwt.secret).not.toBe(b.jwt.secret);
    expect(Object.isFrozen(a)).toBe(true);
  });

  it("names every invalid variable at once", () => {
    const attempt = () =>
      loadConfig({ PORT: "eighty", ACCESS_TOKEN_TTL: "-5", DATABASE_URL: "mysql://x", JWT_SECRET: "short" });
    expect(attempt).toThrow(ConfigError);
    try {
      attempt();
    } catch (error) {
      const problems = (error as ConfigError).problems.join("\n");
      for (const name of ["PORT", "ACCESS_TOKEN_TTL", "DATABASE_URL", "JWT_SECRET"]) expect(problems).toContain(name);
    }
  });

  it("requires a JWT_SECRET and full-cost password hashing in production", () => {
    expect(() => loadConfig({ NODE_ENV: "production" })).toThrow(/JWT_SECRET is required in production/);
    expect(() => loadConfig({ NODE_ENV: "production", JWT_SECRET: "x".repeat(32), PASSWORD_HASH_COST: "10" })).toThrow(
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
      queryLimits: { maxDepth: 10, maxAliases: 15, maxTokens: 1000 },
    });
    const config = loadConfig({ CORS_ORIGINS: "https://app.example.test, http://localhost:5173", LOGIN_LOCKOUT_SECONDS: "60" });
    expect(config.corsOrigins).toEqual(["https://app.example.test", "http://localhost:5173"]);
    expect(config.loginThrottle.windowSeconds).toBe(60);
    expect(() => loadConfig({ CORS_ORIGINS: "*" })).toThrow(/CORS_ORIGINS/);
    expect(() => loadConfig({ CORS_ORIGINS: "https://app.example.test/path" })).toThrow(/CORS_ORIGINS/);
    expect(() => loadConfig({ LOGIN_MAX_FAILURES_PER_ACCOUNT: "0" })).toThrow(/LOGIN_MAX_FAILURES_PER_ACCOUNT/);
  });

  it("stops the real server at start-up with a message naming the bad variable", () => {
    const run = spawnSync(process.execPath, [MAIN], {
      env: { PATH: process.env.PATH, SESSION_IDLE_TTL: "soon", DATABASE_URL: process.env.DATABASE_URL },
      encoding: "utf8",
      timeout: 20_000,
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("SESSION_IDLE_TTL");
    expect(run.stdout).not.toContain("ready");
  });
});
