import { startTestServer, type TestServer } from "./support/test-server";

/**
 * Which browser origins may call the API with credentials: in development any page on this
 * machine's loopback (whatever port its dev server picked); in production only CORS_ORIGINS.
 */
const APP = "https://app.example.test";
const port = () => 1024 + Math.floor(Math.random() * 64000);
const loopbackOrigins = () => [`http://localhost:${port()}`, `http://127.0.0.1:${port()}`];

let development: TestServer;
let production: TestServer;
const devLog: string[] = [];
const prodLog: string[] = [];
beforeAll(async () => {
  [development, production] = await Promise.all([
    startTestServer({ NODE_ENV: "development", LOG_LEVEL: "warn" }, undefined, { logLines: devLog }),
    // Pasted from the address bar: with a trailing slash.
    startTestServer({ NODE_ENV: "production", PASSWORD_HASH_COST: "17", CORS_ORIGINS: `${APP}/`, LOG_LEVEL: "warn" }, undefined, {
      logLines: prodLog,
    }),
  ]);
});
afterAll(async () => {
  await development?.stop();
  await production?.stop();
});

function preflight(server: TestServer, origin: string) {
  return fetch(server.url, {
    method: "OPTIONS",
    headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type, authorization" },
  });
}

const corsOf = (headers: Headers) => ({
  origin: headers.get("access-control-allow-origin"),
  credentials: headers.get("access-control-allow-credentials"),
});

describe("in development", () => {
  it.each(loopbackOrigins())("allows %s, with credentials, in the preflight and the request itself", async (origin) => {
    const pre = await preflight(development, origin);
    expect(pre.status).toBe(204);
    expect(corsOf(pre.headers)).toEqual({ origin, credentials: "true" });
    expect(pre.headers.get("access-control-allow-headers")).toContain("authorization");

    const res = await development.post({ query: "{ __typename }" }, { headers: { origin } });
    expect(res.status).toBe(200);
    expect(res.data).toEqual({ __typename: "Query" });
    expect(corsOf(res.headers)).toEqual({ origin, credentials: "true" });
  });

  it.each(["http://localhost.example.test:3000", "http://127.0.0.1.example.test", "https://evil.example.test", "null"])(
    "still refuses %s",
    async (origin) => {
      const pre = await preflight(development, origin);
      expect(pre.status).toBe(403);
      expect(corsOf(pre.headers)).toEqual({ origin: null, credentials: null });
      const res = await development.post({ query: "{ __typename }" }, { headers: { origin } });
      expect(corsOf(res.headers)).toEqual({ origin: null, credentials: null });
    },
  );

  it("logs a refused origin at warn, naming it, once a minute however often it calls", async () => {
    const origin = `https://refused-${port()}.example.test`;
    await preflight(development, origin);
    await development.post({ query: "{ __typename }" }, { headers: { origin } });
    const lines = devLog.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line.origin === origin);
    expect(lines).toEqual([
      expect.objectContaining({ level: 40, origin, path: "/graphql", msg: "refused a browser origin not in CORS_ORIGINS" }),
    ]);
  });
});

describe("in production", () => {
  it.each(loopbackOrigins())("refuses %s, which is not in CORS_ORIGINS, and logs it at warn", async (origin) => {
    const pre = await preflight(production, origin);
    expect(pre.status).toBe(403);
    expect(corsOf(pre.headers)).toEqual({ origin: null, credentials: null });
    const res = await production.post({ query: "{ __typename }" }, { headers: { origin } });
    expect(corsOf(res.headers)).toEqual({ origin: null, credentials: null });
    const warned = prodLog.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line.origin === origin);
    expect(warned).toEqual([expect.objectContaining({ level: 40, origin })]);
  });

  it("allows the origin CORS_ORIGINS names with a trailing slash, as the browser sends it (without one)", async () => {
    expect(production.services.config.corsOrigins).toEqual([APP]);
    const pre = await preflight(production, APP);
    expect(pre.status).toBe(204);
    expect(corsOf(pre.headers)).toEqual({ origin: APP, credentials: "true" });
    const res = await production.post({ query: "{ __typename }" }, { headers: { origin: APP } });
    expect(corsOf(res.headers)).toEqual({ origin: APP, credentials: "true" });
  });
});
