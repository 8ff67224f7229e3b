import { MeDocument } from "./gql/graphql";
import { startTcpProxy, type TcpProxy } from "./support/tcp-proxy";
import { databaseUrl, startTestServer, type TestServer } from "./support/test-server";
import { signUp } from "./support/users";
import { sleep } from "./support/wait";

let proxy: TcpProxy;
let server: TestServer;
beforeAll(async () => {
  const url = new URL(databaseUrl());
  proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port || 5432) });
  url.host = `127.0.0.1:${proxy.port}`;
  server = await startTestServer({}, { databaseUrl: url.toString() });
});
afterAll(async () => {
  proxy.restore();
  await server.stop();
  await proxy.close();
});

describe("when the database goes away", () => {
  it("refuses authenticated requests (fails closed) and recovers without a restart when it returns", async () => {
    const user = await signUp(server);
    expect((await server.request(MeDocument, {}, { token: user.accessToken })).status).toBe(200);

    proxy.cut();
    // The server notices when its connections drop (the revocation listener's among them; see
    // the session cache) and from then on cannot vouch for any session.
    let during = await server.request(MeDocument, {}, { token: user.accessToken });
    for (let i = 0; i < 20 && during.status === 200; i++) {
      await sleep(100);
      during = await server.request(MeDocument, {}, { token: user.accessToken });
    }
    expect(during.status).toBe(503);
    expect(during.data).toBeUndefined();
    expect(during.errors?.[0].extensions).toEqual({ code: "SERVICE_UNAVAILABLE" });

    proxy.restore();
    let after = await server.request(MeDocument, {}, { token: user.accessToken });
    for (let i = 0; i < 20 && after.status !== 200; i++) {
      await sleep(250);
      after = await server.request(MeDocument, {}, { token: user.accessToken });
    }
    expect(after.data?.me.id).toBe(user.user.id);
  });
});
