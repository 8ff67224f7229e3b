import { blackHoleDrill } from "../drills/black-hole";
import { LoginDocument, MeDocument, RefreshSessionDocument, RegisterDocument } from "./gql/graphql";
import { startTcpProxy, type TcpProxy } from "./support/tcp-proxy";
import { databaseUrl, startTestServer, type TestServer } from "./support/test-server";
import { PASSWORD, signUp, uniqueEmail } from "./support/users";
import { sleep } from "./support/wait";

let proxy: TcpProxy;
let server: TestServer;
beforeAll(async () => {
  const url = new URL(databaseUrl());
  proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port || 5432) });
  url.host = `127.0.0.1:${proxy.port}`;
  server = await startTestServer({ DB_CONNECT_TIMEOUT: "1", DB_STATEMENT_TIMEOUT: "1" }, { databaseUrl: url.toString() });
});
afterAll(async () => {
  proxy.restore();
  await server.stop();
  await proxy.close();
});

const refusal = (res: { status: number; headers: Headers; data?: unknown; errors?: { extensions: unknown }[] }) => ({
  status: res.status,
  retryAfter: /^\d+$/.test(res.headers.get("retry-after") ?? ""),
  data: res.data ?? null,
  // The refusal names the request (its x-request-id), so that a user's report can be found in the logs.
  codes: res.errors?.map((e) => ({
    ...(e.extensions as object),
    sameIdAsHeader: (e.extensions as { requestId?: string }).requestId === res.headers.get("x-request-id"),
  })),
});
const REFUSED = {
  status: 503,
  retryAfter: true,
  data: null,
  codes: [{ code: "SERVICE_UNAVAILABLE", requestId: expect.any(String), sameIdAsHeader: true }],
};

describe("when the database connection is cut", () => {
  it("refuses authenticated requests (fails closed) and recovers without a restart when it returns", async () => {
    const user = await signUp(server);
    expect((await server.request(MeDocument, {}, { token: user.accessToken })).status).toBe(200);

    proxy.cut();
    try {
      // The server notices when its connections drop (the revocation listener's among them;
      // see the session cache) and from then on cannot vouch for any session.
      let during = await server.request(MeDocument, {}, { token: user.accessToken });
      for (let i = 0; i < 20 && during.status === 200; i++) {
        await sleep(100);
        during = await server.request(MeDocument, {}, { token: user.accessToken });
      }
      expect(refusal(during)).toEqual(REFUSED);
      // A client that asks for plain application/json gets the same refusal with 200, as the
      // GraphQL-over-HTTP spec has it for that media type.
      const legacy = await server.request(MeDocument, {}, { token: user.accessToken, headers: { accept: "application/json" } });
      expect({ status: legacy.status, data: legacy.data, errors: legacy.errors }).toEqual({
        status: 200,
        data: undefined,
        errors: [
          {
            message: "Temporarily unavailable; try again shortly.",
            extensions: { code: "SERVICE_UNAVAILABLE", requestId: legacy.headers.get("x-request-id") },
          },
        ],
      });
    } finally {
      proxy.restore();
    }
    let after = await server.request(MeDocument, {}, { token: user.accessToken });
    for (let i = 0; i < 20 && after.status !== 200; i++) {
      await sleep(250);
      after = await server.request(MeDocument, {}, { token: user.accessToken });
    }
    expect(after.data?.me.id).toBe(user.user.id);
  });
  it("reports not ready on /readyz (503) while the database is away, stays live on /healthz, and is ready again once it returns", async () => {
    const probe = async (path: string) => {
      const res = await fetch(new URL(path, server.url));
      return {
        status: res.status,
        cacheControl: res.headers.get("cache-control"),
        body: (await res.json()) as { checks?: Record<string, string> },
      };
    };
    const ready = async () => {
      let res = await probe("/readyz");
      for (let i = 0; i < 40 && res.status !== 200; i++) {
        await new Promise((r) => setTimeout(r, 250));
        res = await probe("/readyz");
      }
      return res;
    };
    // (The test before this one may have left the listener still reconnecting.)
    // (detail: the outbox's figures, information only, docs/EVENTS.md.)
    const outboxDetail = { outbox: { events: expect.any(Number), oldestUndeliveredSeconds: null } };
    expect(await ready()).toEqual({
      status: 200,
      cacheControl: "no-store",
      body: { status: "ready", checks: { database: "ok", revocationListener: "ok" }, detail: outboxDetail },
    });

    proxy.cut();
    let during = await probe("/readyz");
    for (let i = 0; i < 20 && during.body.checks?.revocationListener === "ok"; i++) {
      await new Promise((r) => setTimeout(r, 100));
      during = await probe("/readyz");
    }
    expect(during).toEqual({
      status: 503,
      cacheControl: "no-store",
      body: { status: "unavailable", checks: { database: "unreachable", revocationListener: "disconnected" } },
    });
    expect(await probe("/healthz")).toEqual({ status: 200, cacheControl: "no-store", body: { status: "ok" } });

    proxy.restore();
    expect((await ready()).body).toEqual({
      status: "ready",
      checks: { database: "ok", revocationListener: "ok" },
      detail: outboxDetail,
    });
  });

  it("refuses login, register and refreshSession with 503 SERVICE_UNAVAILABLE and Retry-After, not INTERNAL_SERVER_ERROR", async () => {
    const user = await signUp(server);
    proxy.cut();
    try {
      const answers = await Promise.all([
        server.request(LoginDocument, { input: { email: user.email, password: PASSWORD } }),
        server.request(RegisterDocument, { input: { email: uniqueEmail(), password: PASSWORD } }),
        server.request(RefreshSessionDocument, { refreshToken: user.refreshToken }),
      ]);
      expect(answers.map(refusal)).toEqual([REFUSED, REFUSED, REFUSED]);
    } finally {
      proxy.restore();
    }
  });
});

describe("when the database connection is black-holed (bytes held, no reset)", () => {
  it("answers every request 503 within the configured bound instead of hanging, and recovers when the hold ends", async () => {
    const figures = await blackHoleDrill({ databaseUrl: databaseUrl(), outageMs: 4500, devices: 4, boundSeconds: 1 });
    expect(figures.violations).toEqual([]);
    expect(figures.stale).toBe(0);
    expect(figures.slowestMs).toBeLessThan(4000);
  }, 60_000);
});
