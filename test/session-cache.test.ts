import { LogoutAllDevicesDocument, LogoutDocument, MeDocument, RevokeSessionDocument } from "./gql/graphql";
import { sharedWith, startTestServer, type TestServer } from "./support/test-server";
import { addSessionsLike, signIn, signUp } from "./support/users";
import { until } from "./support/wait";

/**
 * The request path answers "is this session alive?" from memory. These tests hold it to the
 * promise: a cached entry never outlives the revocation that ended it.
 */
let a: TestServer;
let b: TestServer;
beforeAll(async () => {
  a = await startTestServer();
  b = await startTestServer({}, sharedWith(a));
});
afterAll(async () => {
  await b.stop();
  await a.stop();
});

const me = (server: TestServer, token: string) => server.request(MeDocument, {}, { token });

describe("the session cache", () => {
  it("serves a live session from memory: repeated requests read the database once", async () => {
    const user = await signUp(a);
    const loads = jest.spyOn(a.services.sessionStore, "getSessionsAndUsers");
    try {
      for (let i = 0; i < 10; i++) expect((await me(a, user.accessToken)).status).toBe(200);
      expect(loads).toHaveBeenCalledTimes(1);
    } finally {
      loads.mockRestore();
    }
  });

  it("never answers from a stale entry on the instance that revoked the session, even under concurrent load", async () => {
    for (let round = 0; round < 10; round++) {
      const user = await signUp(a);
      await Promise.all(Array.from({ length: 5 }, () => me(a, user.accessToken))); // warm
      const [, , logout] = await Promise.all([
        me(a, user.accessToken),
        me(a, user.accessToken),
        a.request(LogoutDocument, {}, { token: user.accessToken }),
      ]);
      expect(logout.data).toEqual({ logout: true });
      expect((await me(a, user.accessToken)).status).toBe(401);
    }
  });

  it("drops an entry on every instance before a revocation on another returns", async () => {
    // The revoking call answers only once every instance holding a lease has acknowledged
    // the revocation (instance-leases.ts): the very next request to b is refused.
    for (let round = 0; round < 10; round++) {
      const laptop = await signUp(a);
      const phone = await signIn(a, laptop.email);
      expect((await me(b, phone.accessToken)).status).toBe(200); // cached on b
      await a.request(RevokeSessionDocument, { id: phone.session.id }, { token: laptop.accessToken });
      expect((await me(b, phone.accessToken)).errors?.[0].extensions).toEqual({
        code: "UNAUTHENTICATED",
        reason: "SESSION_REVOKED",
      });
    }
  });

  it("answers a logout of many devices only once its own instance has heard every one of its NOTIFYs", async () => {
    // 400 sessions go out as three NOTIFYs; the call waits for the last one sent, which
    // PostgreSQL delivers after the others (one transaction's notifications keep their order).
    // The listening backend is kept busy for 150 ms meanwhile: PostgreSQL sends a listener its
    // notifications only between queries, so without the wait the call would answer first.
    const user = await signUp(a);
    await addSessionsLike(a, user.session.id, 400);
    const heard = new Set<string>();
    const stopHearing = a.fanout.onRevoked((revocations) => {
      for (const r of revocations) heard.add(r.sessionId);
    });
    try {
      const busy = a.fanout.stall(150);
      const res = await a.request(LogoutAllDevicesDocument, { keepCurrent: true }, { token: user.accessToken });
      expect(res.data).toEqual({ logoutAllDevices: 400 });
      expect(heard.size).toBe(400);
      await busy;
    } finally {
      stopHearing();
    }
  });

  it("forgets everything when the revocation listener drops, so a revocation it could not hear is still seen, and is used again once back", async () => {
    const user = await signUp(b);
    expect((await me(b, user.accessToken)).status).toBe(200); // cached on b
    const pid = b.fanout.backendPid;
    await b.sql("SELECT pg_terminate_backend($1)", [pid]);
    await until(() => b.fanout.backendPid === null, 10_000);
    // Ended behind every instance's back (no NOTIFY): only a database read can see it, and
    // the reconnected instance catches up on it from the database too.
    await b.sql("UPDATE sessions SET revoked_at = now(), revoked_reason = 'REVOKED' WHERE id = $1", [user.session.id]);
    expect((await me(b, user.accessToken)).status).toBe(401);

    await until(() => b.fanout.backendPid !== null, 10_000);
    const other = await signUp(b);
    const loads = jest.spyOn(b.services.sessionStore, "getSessionsAndUsers");
    try {
      for (let i = 0; i < 5; i++) expect((await me(b, other.accessToken)).status).toBe(200);
      expect(loads).toHaveBeenCalledTimes(1);
    } finally {
      loads.mockRestore();
    }
  });
});
