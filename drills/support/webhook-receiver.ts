import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";

export interface ReceivedEvent {
  id: string;
  type: string;
  occurredAt: string;
  userId: string;
  data: Record<string, unknown>;
}

/** What the receiver does with the n-th request (from 1): answer this status, or never answer. */
export type ReceiverBehaviour = (n: number) => number | "hang";

/**
 * A real webhook endpoint, as a backend writes one: it checks the Standard Webhooks signature
 * with the shared secret (a bad one is answered 401 and not recorded), records every
 * accepted delivery, and deduplicates by webhook-id as the at-least-once contract asks.
 */
export class WebhookReceiver {
  /** Every accepted delivery, duplicates included, in arrival order. */
  readonly deliveries: ReceivedEvent[] = [];
  /** The webhook-id of every request whose signature checked out, answered or not. */
  readonly verifiedIds: string[] = [];
  /** Requests refused for a bad or missing signature. */
  rejected = 0;
  requests = 0;
  /** The most requests it was answering at once (instances must never overlap on one endpoint). */
  maxInFlight = 0;
  /** Each answer waits this long first (a slow receiver). */
  delayMs = 0;
  private inFlight = 0;
  private readonly verifier: Webhook;
  private readonly hanging = new Set<IncomingMessage>();

  private constructor(
    private readonly server: Server,
    secret: string,
    public behaviour: ReceiverBehaviour,
  ) {
    this.verifier = new Webhook(secret);
  }

  static async start(secret: string, behaviour: ReceiverBehaviour = () => 204): Promise<WebhookReceiver> {
    const server = createServer();
    const receiver = new WebhookReceiver(server, secret, behaviour);
    server.on("request", (req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const n = ++receiver.requests;
        receiver.inFlight++;
        receiver.maxInFlight = Math.max(receiver.maxInFlight, receiver.inFlight);
        res.on("close", () => receiver.inFlight--);
        const body = Buffer.concat(chunks).toString();
        let event: ReceivedEvent;
        try {
          event = receiver.verifier.verify(body, req.headers as Record<string, string>) as ReceivedEvent;
        } catch {
          receiver.rejected++;
          res.writeHead(401).end();
          return;
        }
        if (event.id !== req.headers["webhook-id"]) {
          receiver.rejected++;
          res.writeHead(400).end();
          return;
        }
        receiver.verifiedIds.push(event.id);
        const answer = receiver.behaviour(n);
        if (answer === "hang") {
          receiver.hanging.add(req);
          return;
        }
        setTimeout(() => {
          if (answer >= 200 && answer < 300) receiver.deliveries.push(event);
          res.writeHead(answer).end();
        }, receiver.delayMs);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks`;
  }

  /** The distinct events, by webhook-id, in the order they were first accepted. */
  distinct(): ReceivedEvent[] {
    const seen = new Set<string>();
    return this.deliveries.filter((e) => {
      if (seen.has(e.id)) return false;
      seen.add(e.id);
      return true;
    });
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** A Standard Webhooks secret for a test or drill. */
export function newWebhookSecret(): string {
  return `whsec_${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64")}`;
}
