import { type ChildServer, startChildServer, urlInSchema } from "../drills/support/child-server";
import { createDrillSchema } from "../drills/support/drill-server";
import { gql } from "../drills/support/http";
import { DRILL_PASSWORD, uniqueEmail as drillEmail, OPERATIONS } from "../drills/support/load";
import { newWebhookSecret, WebhookReceiver } from "../drills/support/webhook-receiver";
import { generateSigningKey } from "../src/lib/signing-keys";
import { ChangePasswordDocument } from "./gql/graphql";
import { databaseUrl, sharedWith, startTestServer, type TestServer } from "./support/test-server";
import { PASSWORD, signIn, signUp } from "./support/users";
import { eventually, until } from "./support/wait";

/**
 * Session events as signed webhooks (issue 21), to a real HTTP receiver that checks every
 * Standard Webhooks signature with the shared secret and deduplicates by webhook-id.
 */
const FAST = { OUTBOX_POLL_MS: "50", WEBHOOK_BACKOFF_MS: "50", WEBHOOK_MAX_BACKOFF: "1", WEBHOOK_TIMEOUT: "2" };

/** The outbox as the feed orders it: what every endpoint must receive, in this order. */
async function outboxIds(server: TestServer): Promise<string[]> {
  return (await server.sql<{ id: string }>("SELECT id FROM outbox_events ORDER BY xid, seq")).map((r) => r.id);
}

/** A new endpoint starts at the end of the feed: wait for the worker's first turn to register it. */
async function endpointRegistered(server: TestServer): Promise<void> {
  await eventually(async () => {
    expect(await server.sql("SELECT 1 FROM webhook_endpoints")).toHaveLength(1);
  }, 5000);
}

describe("webhooks", () => {
  it("sends every event after commit, signed so the receiver can verify it, in the outbox's order", async () => {
    const secret = newWebhookSecret();
    const receiver = await WebhookReceiver.start(secret);
    const server = await startTestServer({ ...FAST, WEBHOOK_URLS: receiver.url, WEBHOOK_SECRET: secret });
    try {
      await endpointRegistered(server);
      const first = await signUp(server, { deviceName: "laptop" });
      await signIn(server, first.email, { deviceName: "phone" });
      const changed = await server.request(
        ChangePasswordDocument,
        { currentPassword: PASSWORD, newPassword: `${PASSWORD} again` },
        { token: first.accessToken },
      );
      expect(changed.errors).toBeUndefined();
      const expected = await outboxIds(server);
      await until(() => receiver.distinct().length >= expected.length, 10_000);

      const got = receiver.distinct();
      expect(got.map((e) => e.id)).toEqual(expected);
      expect(got.map((e) => e.type)).toEqual(["session.created", "session.created", "user.password_changed", "session.revoked"]);
      expect(got[0].data).toMatchObject({ newDevice: true, deviceName: "laptop" });
      expect(got[3].data).toMatchObject({ reason: "PASSWORD_CHANGED" });
      expect(new Set(got.map((e) => e.userId)).size).toBe(1);
      // Nothing secret travels: no token, hash or password anywhere in what was sent.
      const sent = JSON.stringify(receiver.deliveries);
      for (const secretText of [first.accessToken, first.refreshToken, PASSWORD, "secret_hash", "password_hash"]) {
        expect(sent).not.toContain(secretText);
      }
      expect(receiver.rejected).toBe(0);

      // The receiver's check is real: a body signed with another secret is refused.
      const forged = await fetch(receiver.url, {
        method: "POST",
        headers: {
          "webhook-id": got[0].id,
          "webhook-timestamp": String(Math.floor(Date.now() / 1000)),
          "webhook-signature": "v1,AAAA",
        },
        body: JSON.stringify(got[0]),
      });
      expect(forged.status).toBe(401);

      // The readiness detail reports the outbox: its size and nothing left undelivered.
      const ready = (await (await fetch(`${server.url.replace(/\/graphql$/, "")}/readyz`)).json()) as {
        detail: { outbox: { events: number; oldestUndeliveredSeconds: number | null } };
      };
      expect(ready.detail.outbox.events).toBe(expected.length);
      expect(ready.detail.outbox.oldestUndeliveredSeconds).toBeNull();
    } finally {
      await server.stop();
      await receiver.stop();
    }
  }, 30_000);

  it("retries a receiver that fails three times, then delivers everything, in order, each event once accepted", async () => {
    const secret = newWebhookSecret();
    const receiver = await WebhookReceiver.start(secret, (n) => (n <= 3 ? 503 : 200));
    const server = await startTestServer({ ...FAST, WEBHOOK_URLS: receiver.url, WEBHOOK_SECRET: secret });
    try {
      await endpointRegistered(server);
      const user = await signUp(server);
      for (let i = 0; i < 4; i++) await signIn(server, user.email);
      const expected = await outboxIds(server);
      expect(expected).toHaveLength(5);
      await until(() => receiver.deliveries.length >= expected.length, 15_000);
      expect(receiver.requests).toBe(3 + expected.length);
      expect(receiver.deliveries.map((e) => e.id)).toEqual(expected);
      const [endpoint] = await server.sql<{ attempts: number }>("SELECT attempts FROM webhook_endpoints");
      expect(endpoint.attempts).toBe(0);
    } finally {
      await server.stop();
      await receiver.stop();
    }
  }, 30_000);

  it("never has two instances deliver to one endpoint at once, and a receiver that was down gets everything once back", async () => {
    const secret = newWebhookSecret();
    const receiver = await WebhookReceiver.start(secret, () => 503);
    receiver.delayMs = 20;
    const env = { ...FAST, WEBHOOK_URLS: receiver.url, WEBHOOK_SECRET: secret };
    const a = await startTestServer(env);
    const b = await startTestServer(env, sharedWith(a));
    try {
      await endpointRegistered(a);
      const user = await signUp(a);
      await Promise.all([1, 2, 3, 4, 5].map((i) => signIn(i % 2 ? a : b, user.email)));
      await until(() => receiver.requests >= 3, 10_000); // down: refused, retried with backoff
      receiver.behaviour = () => 204; // back up
      const expected = await outboxIds(a);
      await until(() => receiver.deliveries.length >= expected.length, 15_000);
      await new Promise((r) => setTimeout(r, 300)); // room for a duplicate, were there one
      expect(receiver.deliveries.map((e) => e.id)).toEqual(expected);
      expect(receiver.maxInFlight).toBe(1);
    } finally {
      await b.stop();
      await a.stop();
      await receiver.stop();
    }
  }, 30_000);

  it("delivers an event whose server was killed with SIGKILL between the commit and the delivery, after a restart, with one id", async () => {
    const secret = newWebhookSecret();
    // The first delivery never gets an answer: the event is committed and in flight when the process dies.
    const receiver = await WebhookReceiver.start(secret, (n) => (n === 1 ? "hang" : 204));
    const schema = await createDrillSchema(databaseUrl());
    const env = {
      DATABASE_URL: urlInSchema(databaseUrl(), schema.name),
      NODE_ENV: "test",
      PASSWORD_HASH_COST: "10",
      JWT_PRIVATE_KEYS: generateSigningKey("ES256"),
      ...FAST,
      WEBHOOK_TIMEOUT: "30",
      WEBHOOK_URLS: receiver.url,
      WEBHOOK_SECRET: secret,
    };
    let child: ChildServer | null = await startChildServer(env);
    try {
      // The endpoint is registered on the worker's first turn; then the event commits.
      await new Promise((r) => setTimeout(r, 300));
      const registered = await gql(child.url, OPERATIONS.register, { e: drillEmail(), p: DRILL_PASSWORD });
      expect(registered.status).toBe(200);
      await until(() => receiver.requests >= 1, 10_000);
      expect(receiver.deliveries).toHaveLength(0);
      child.child.kill("SIGKILL");
      await child.exited;
      child = await startChildServer(env);
      await until(() => receiver.deliveries.length >= 1, 15_000);
      await new Promise((r) => setTimeout(r, 300));
      expect(receiver.requests).toBe(2);
      expect(receiver.deliveries).toHaveLength(1);
      expect(receiver.deliveries[0].type).toBe("session.created");
      // The attempt cut by the kill and the one after the restart carried the same webhook-id.
      expect(receiver.verifiedIds).toEqual([receiver.deliveries[0].id, receiver.deliveries[0].id]);
    } finally {
      if (child) {
        child.child.kill("SIGKILL");
        await child.exited;
      }
      await receiver.stop();
      await schema.drop();
    }
  }, 60_000);
});
