import { startTestServer, type TestServer } from "./support/test-server";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

async function probe(path: string, method = "GET") {
  const res = await fetch(new URL(path, server.url), { method });
  return {
    status: res.status,
    headers: {
      contentType: res.headers.get("content-type"),
      cacheControl: res.headers.get("cache-control"),
      allow: res.headers.get("allow"),
    },
    body: await res.text(),
  };
}

const JSON_NO_STORE = { contentType: "application/json; charset=utf-8", cacheControl: "no-store", allow: null };

describe("health endpoints", () => {
  it("answers GET /healthz with 200 while the process runs", async () => {
    expect(await probe("/healthz")).toEqual({ status: 200, headers: JSON_NO_STORE, body: JSON.stringify({ status: "ok" }) });
  });

  it("answers GET /readyz with 200 when the database answers and the revocation listener is connected, with the outbox in its detail", async () => {
    expect(server.fanout.connected).toBe(true);
    expect(await probe("/readyz")).toEqual({
      status: 200,
      headers: JSON_NO_STORE,
      body: JSON.stringify({
        status: "ready",
        checks: { database: "ok", revocationListener: "ok" },
        detail: { outbox: { events: 0, oldestUndeliveredSeconds: null } },
      }),
    });
  });

  it("answers HEAD with the status and no body, and refuses other methods with 405", async () => {
    expect(await probe("/readyz", "HEAD")).toEqual({ status: 200, headers: JSON_NO_STORE, body: "" });
    expect(await probe("/healthz", "POST")).toEqual({
      status: 405,
      headers: { ...JSON_NO_STORE, allow: "GET, HEAD" },
      body: JSON.stringify({ status: "method not allowed" }),
    });
  });
});
