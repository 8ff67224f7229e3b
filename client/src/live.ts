import { type Client, createClient } from "graphql-ws";
import { type GraphQLErrorLike, SESSION_ENDED_REASONS, TOKEN_REASONS, unauthenticatedReason } from "./errors.js";
import {
  SessionEventsDocument,
  type SessionEventsSubscription,
  SessionsCreatedDocument,
  type SessionsCreatedSubscription,
} from "./gql/graphql.js";
import type { ExecutionResultLike, RevocationReason, SessionCreatedEvent, SubscriptionSink } from "./types.js";

export type SessionEvent = SessionEventsSubscription["sessionRevoked"];

export interface LiveCallbacks {
  /** A token for connection_init (`fresh`: refresh first); null when signed out. */
  token(fresh: boolean): Promise<string | null>;
  /** This client's own session ended. */
  sessionEnded(reason: RevocationReason): void;
  otherSessionEnded(event: SessionEvent): void;
  /** A new session of this user began on another device (never this one's own). */
  sessionCreated(event: SessionCreatedEvent): void;
  /** The connection cannot be held (or was refused for an unclear reason): check over HTTP instead. */
  unusable(): void;
}

interface CloseEventLike {
  code: number;
  reason: string;
}

function isCloseEvent(value: unknown): value is CloseEventLike {
  return (
    value !== null && typeof value === "object" && typeof (value as { code?: unknown }).code === "number" && "reason" in value
  );
}

/** "SESSION_REVOKED", "Session revoked", "session-revoked" all read as SESSION_REVOKED. */
function closeReason(reason: unknown): string {
  return String(reason ?? "")
    .trim()
    .toUpperCase()
    .replace(/[\s-]+/g, "_");
}

/** What an UNAUTHENTICATED reason (or a 4403 close reason) about the session means for the sign-out. */
export function signOutReasonFor(reason: string, heard?: RevocationReason): RevocationReason | undefined {
  switch (reason) {
    case "SESSION_REVOKED":
    case "SESSION_NOT_FOUND":
      return heard ?? "REVOKED";
    case "SESSION_EXPIRED":
      return heard ?? "EXPIRED";
    case "REFRESH_TOKEN_REUSE":
      return "REFRESH_TOKEN_REUSE";
    default:
      return undefined;
  }
}

/** Thrown from connectionParams when there is no one to connect as; never retried. */
class SignedOut extends Error {}
/** Wraps a failed refresh at connect (no `code`, so graphql-ws does not take it for a close event); retried. */
class TokenUnavailable extends Error {}

const TOKEN_CLOSE_REASONS = new Set([...TOKEN_REASONS, "TOKEN_MISSING"]);

/** Backoff between reconnects: 0.5-1 s, doubling up to 15-30 s. */
function backoffMs(retries: number): number {
  const ceiling = Math.min(30_000, 1000 * 2 ** retries);
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

/**
 * The signed-in client's live connection: one graphql-ws client, subscribed to
 * `sessionRevoked` and `sessionCreated`, and carrying the app's own subscriptions. What each close means:
 *
 * | close | what the SDK does |
 * |---|---|
 * | 4403 SESSION_REVOKED / SESSION_NOT_FOUND | signs out: the reason heard in this session's event, else REVOKED; no reconnect |
 * | 4403 SESSION_EXPIRED | signs out with EXPIRED; no reconnect |
 * | 4403 TOKEN_EXPIRED / TOKEN_INVALID / TOKEN_MISSING | refreshes and reconnects at once, once; refused again: stops, and checks over HTTP |
 * | 4403 with another reason | stops, and checks over HTTP (which signs out if the session is over) |
 * | 1001, 1006, 1012, 1013, 1014, 4408, 4499, network errors | reconnects with backoff, with a token from getAccessToken() |
 * | codes graphql-ws treats as fatal (4400, 4401, 4409, 4429, 4500, 1002-1011 but 1006) | stops, and checks over HTTP |
 */
export class LiveConnection {
  private readonly client: Client;
  private readonly subscriptions = new Set<() => void>();
  private stopped = false;
  private tokenRetried = false;
  private freshToken = false;
  /** The reason of this session's own event, when it arrived before the close. */
  private heard: RevocationReason | undefined;
  private wakeUp: (() => void) | undefined;
  /** Whether the socket is open and acknowledged (the fallback checks run while it is not). */
  connected = false;

  constructor(
    url: string,
    webSocketImpl: unknown,
    private readonly callbacks: LiveCallbacks,
  ) {
    this.client = createClient({
      url,
      webSocketImpl,
      retryAttempts: Infinity,
      // connectionParams are read at every connect, so a reconnect carries a current token.
      connectionParams: async () => {
        if (this.stopped) throw new SignedOut();
        const fresh = this.freshToken;
        this.freshToken = false;
        let token: string | null;
        try {
          token = await callbacks.token(fresh);
        } catch (error) {
          throw new TokenUnavailable("No access token could be had for the live connection.", { cause: error });
        }
        if (!token || this.stopped) throw new SignedOut();
        return { authorization: `Bearer ${token}` };
      },
      shouldRetry: (errorOrClose) => this.shouldRetry(errorOrClose),
      retryWait: (retries) => this.wait(this.freshToken ? 0 : backoffMs(retries)),
      on: {
        connected: () => {
          this.tokenRetried = false;
          this.setConnected(true);
        },
        closed: () => this.setConnected(false),
      },
    });
    this.subscribe(SessionEventsDocument.toString(), undefined, {
      next: (result) => this.onSessionEvent(result as ExecutionResultLike<SessionEventsSubscription>),
      error: (error) => this.onFatal(error),
      complete: () => {
        if (!this.stopped) this.callbacks.unusable();
      },
    });
    // News only: its errors and completion say nothing the revocation stream does not.
    this.subscribe(SessionsCreatedDocument.toString(), undefined, {
      next: (result) => {
        const event = (result as ExecutionResultLike<SessionsCreatedSubscription>).data?.sessionCreated;
        if (event && !this.stopped) this.callbacks.sessionCreated(event);
      },
      error: () => undefined,
      complete: () => undefined,
    });
  }

  /** Subscribes over this connection; returns the unsubscribe. */
  subscribe(query: string, variables: Record<string, unknown> | undefined, sink: SubscriptionSink): () => void {
    let dispose: () => void = () => undefined;
    const unsubscribe = () => {
      this.subscriptions.delete(unsubscribe);
      dispose();
    };
    this.subscriptions.add(unsubscribe);
    dispose = this.client.subscribe(
      { query, variables },
      {
        next: (value) => sink.next(value as ExecutionResultLike),
        error: (error) => {
          this.subscriptions.delete(unsubscribe);
          sink.error(error);
        },
        complete: () => {
          this.subscriptions.delete(unsubscribe);
          sink.complete();
        },
      },
    );
    return unsubscribe;
  }

  /** Ends the connection for good: no further connection attempts. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    // Without subscriptions graphql-ws gives up a pending reconnect instead of dialling again.
    for (const unsubscribe of [...this.subscriptions]) unsubscribe();
    this.wakeUp?.();
    // dispose() waits for a connect in progress, which rejects once connectionParams sees `stopped`.
    Promise.resolve(this.client.dispose()).catch(() => undefined);
    this.setConnected(false);
  }

  private shouldRetry(errorOrClose: unknown): boolean {
    if (this.stopped || errorOrClose instanceof SignedOut) return false;
    if (isCloseEvent(errorOrClose) && errorOrClose.code === 4403) {
      if (TOKEN_CLOSE_REASONS.has(closeReason(errorOrClose.reason)) && !this.tokenRetried) {
        this.tokenRetried = true;
        this.freshToken = true;
        return true;
      }
      return false;
    }
    // Going away (1001), abnormal closure (1006), try again later (1013), network errors,
    // a refresh that failed for now: all pass.
    return true;
  }

  private onSessionEvent(result: ExecutionResultLike<SessionEventsSubscription>): void {
    if (this.stopped) return;
    if (result.errors?.length) {
      this.onErrors(result.errors);
      return;
    }
    const event = result.data?.sessionRevoked;
    if (!event) return;
    if (event.current) {
      this.heard = event.reason;
      this.callbacks.sessionEnded(event.reason);
    } else {
      this.callbacks.otherSessionEnded(event);
    }
  }

  private onErrors(errors: readonly GraphQLErrorLike[]): void {
    const reason = unauthenticatedReason(errors);
    const signOut = reason && SESSION_ENDED_REASONS.has(reason) ? signOutReasonFor(reason, this.heard) : undefined;
    if (signOut) this.callbacks.sessionEnded(signOut);
    else this.callbacks.unusable();
  }

  /** Why the connection ended for good (graphql-ws hands the close or error to every sink). */
  private onFatal(error: unknown): void {
    if (this.stopped || error instanceof SignedOut) return;
    if (Array.isArray(error)) {
      this.onErrors(error as GraphQLErrorLike[]);
      return;
    }
    if (isCloseEvent(error) && error.code === 4403) {
      const ended = signOutReasonFor(closeReason(error.reason), this.heard);
      if (ended) {
        this.callbacks.sessionEnded(ended);
        return;
      }
    }
    this.callbacks.unusable();
  }

  private setConnected(connected: boolean): void {
    this.connected = connected;
  }

  private wait(ms: number): Promise<void> {
    if (this.stopped || ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = done;
    });
  }
}
