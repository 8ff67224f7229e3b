import { print } from "graphql";
import { type Client, createClient } from "graphql-ws";
import WebSocket from "ws";
import {
  LogoutDocument,
  SessionCreatedDocument,
  type SessionCreatedSubscription,
  SessionRevokedDocument,
  type SessionRevokedSubscription,
} from "../gql/graphql";
import type { TestServer } from "./test-server";
import { signIn } from "./users";

export type RevokedEvent = SessionRevokedSubscription["sessionRevoked"];
export type CreatedEvent = SessionCreatedSubscription["sessionCreated"];

export interface Closed {
  code: number;
  reason: string;
}

/**
 * One device's live connection, through the real graphql-ws client: it subscribes to
 * sessionRevoked, keeps every event, and records how the server closed the socket.
 */
export class LiveClient {
  readonly events: RevokedEvent[] = [];
  /** sessionCreated events, once `subscribeCreated()` was called. */
  readonly created: CreatedEvent[] = [];
  readonly closed: Promise<Closed>;
  /** Resolves when the server has acknowledged connection_init. */
  readonly connected: Promise<void>;
  private client: Client;
  private changed: (() => void)[] = [];
  private closedWith: Closed | null = null;

  /** `headers` go on the WebSocket upgrade (X-Forwarded-For, say), as a proxy's would. */
  constructor(url: string, connectionParams: Record<string, unknown>, headers?: Record<string, string>) {
    let resolveClosed!: (closed: Closed) => void;
    this.closed = new Promise((resolve) => (resolveClosed = resolve));
    let resolveConnected!: () => void;
    this.connected = new Promise((resolve) => (resolveConnected = resolve));
    this.client = createClient({
      url,
      webSocketImpl: headers
        ? class extends WebSocket {
            constructor(address: string, protocols?: string | string[]) {
              super(address, protocols, { headers });
            }
          }
        : WebSocket,
      connectionParams,
      lazy: false,
      retryAttempts: 0,
      onNonLazyError: () => undefined,
      on: {
        connected: () => resolveConnected(),
        closed: (event) => {
          const { code, reason } = event as { code: number; reason: string };
          this.closedWith ??= { code, reason: String(reason) };
          resolveClosed(this.closedWith);
          this.notify();
        },
      },
    });
  }

  /** Subscribes to sessionRevoked; events land in `events`. */
  subscribe(): this {
    this.client.subscribe<SessionRevokedSubscription>(
      { query: print(SessionRevokedDocument) },
      {
        next: (result) => {
          if (result.data) this.events.push(result.data.sessionRevoked);
          this.notify();
        },
        error: () => this.notify(),
        complete: () => this.notify(),
      },
    );
    return this;
  }

  /** Also subscribes to sessionCreated; events land in `created`. */
  subscribeCreated(): this {
    this.client.subscribe<SessionCreatedSubscription>(
      { query: print(SessionCreatedDocument) },
      {
        next: (result) => {
          if (result.data) this.created.push(result.data.sessionCreated);
          this.notify();
        },
        error: () => this.notify(),
        complete: () => this.notify(),
      },
    );
    return this;
  }

  /** The sessionCreated event about `sessionId`, waiting for it up to `timeoutMs`. */
  async createdFor(sessionId: string, timeoutMs = 5000): Promise<CreatedEvent> {
    await this.until(() => this.created.some((e) => e.session.id === sessionId), timeoutMs, `sessionCreated for ${sessionId}`);
    return this.created.find((e) => e.session.id === sessionId)!;
  }

  get isClosed(): boolean {
    return this.closedWith !== null;
  }

  /** The first event about `sessionId`, waiting for it up to `timeoutMs`. */
  async eventFor(sessionId: string, timeoutMs = 5000): Promise<RevokedEvent> {
    await this.until(() => this.events.some((e) => e.sessionId === sessionId), timeoutMs, `an event for ${sessionId}`);
    return this.events.find((e) => e.sessionId === sessionId)!;
  }

  async closedWithin(timeoutMs = 5000): Promise<Closed> {
    await this.until(() => this.isClosed, timeoutMs, "the socket to close");
    return this.closedWith!;
  }

  async dispose(): Promise<void> {
    await this.client.dispose();
  }

  private until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
      const listener = () => {
        if (!check()) return this.changed.push(listener);
        clearTimeout(timer);
        resolve();
      };
      this.changed.push(listener);
    });
  }

  private notify() {
    const listeners = this.changed;
    this.changed = [];
    for (const listener of listeners) listener();
  }
}

/** Tracks every live client a test file opens, so afterAll can dispose them all. */
export function liveClients(server: () => TestServer) {
  const opened: LiveClient[] = [];
  return {
    open(token: string, on: TestServer = server()): LiveClient {
      const client = new LiveClient(on.wsUrl, { authorization: `Bearer ${token}` });
      opened.push(client);
      return client;
    },
    openWith(params: Record<string, unknown>, on: TestServer = server()): LiveClient {
      const client = new LiveClient(on.wsUrl, params);
      opened.push(client);
      return client;
    },
    disposeAll: () => Promise.all(opened.splice(0).map((c) => c.dispose())),
  };
}

export { sleep } from "./wait";

/**
 * Waits until every client's subscription is live on the server: ends a throwaway session of
 * the user and waits for all clients to hear it (again, if a subscription was not yet active).
 * The throwaway's events are about its own session id, which tests never look for.
 */
export async function untilSubscribed(
  clients: LiveClient[],
  signInAndLogout: () => Promise<string>,
  attempts = 10,
): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    const sessionId = await signInAndLogout();
    const heard = await Promise.all(
      clients.map((c) =>
        c.eventFor(sessionId, 500).then(
          () => true,
          () => false,
        ),
      ),
    );
    if (heard.every(Boolean)) return;
  }
  throw new Error("subscriptions did not become active");
}

/** untilSubscribed with a throwaway session of `email`, signed in and logged out on `server`. */
export function untilSubscribedAs(server: TestServer, email: string, clients: LiveClient[]): Promise<void> {
  return untilSubscribed(clients, async () => {
    const throwaway = await signIn(server, email);
    await server.request(LogoutDocument, {}, { token: throwaway.accessToken });
    return throwaway.session.id;
  });
}
