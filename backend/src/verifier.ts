import type { IncomingMessage, ServerResponse } from "node:http";
import { type EventsOptions, readEvents, type SessionApiEvent } from "./event-feed.js";
import { KeySet } from "./key-set.js";
import { LookupBatcher, type SessionLookup } from "./lookup-batcher.js";
import { bearerToken, refusal } from "./refusal.js";
import { RevocationStream, type RevokedSession } from "./revocation-stream.js";

/** Why a request was refused: the API's own reasons, and SERVICE_UNAVAILABLE when no exact answer could be had. */
export type RefusalReason =
  | "TOKEN_MISSING"
  | "TOKEN_INVALID"
  | "TOKEN_EXPIRED"
  | "SESSION_NOT_FOUND"
  | "SESSION_REVOKED"
  | "SESSION_EXPIRED"
  | "SERVICE_UNAVAILABLE";

export interface VerifiedSession {
  userId: string;
  sessionId: string;
}

export type SessionCheck = ({ ok: true } & VerifiedSession) | { ok: false; reason: RefusalReason };

export interface SessionVerifierOptions {
  /** The session API's address, e.g. `http://sessions.internal:4000` (a trailing `/graphql` is ignored). */
  url: string;
  /** A service key with the scope `sessions:stream` (and `events:read` for `events()`). */
  serviceKey: string;
  /** The tokens' `iss` and `aud` (the API's JWT_ISSUER and JWT_AUDIENCE); default `session-api`. */
  issuer?: string;
  audience?: string;
  /** A token with an unknown `kid` refetches the key set at most once per this interval; default 10 s. */
  keyRefetchIntervalMs?: number;
  /**
   * How long a session the verifier has seen alive is kept before it is looked up again
   * (which also records it as active on the API, so a backend's traffic keeps it from going
   * idle); default 60 s. Revocations end it at once, whatever this says.
   */
  sessionMaxAgeMs?: number;
  /** Sessions kept in memory at most (oldest dropped first); default 100,000. */
  maxSessions?: number;
  /** How long a lookup may take before the request is answered SERVICE_UNAVAILABLE; default 2 s. */
  lookupTimeoutMs?: number;
  /** How long `ready()` waits for the key set and the first lease; default 10 s. */
  readyTimeoutMs?: number;
  /** Where the verifier reports a lost stream or a failed lookup; default: nowhere. */
  onError?: (error: unknown) => void;
  /** A fetch to use instead of the global one. */
  fetch?: typeof fetch;
}

export interface VerifierStatus {
  /** True while a lease is held: sessions already seen are answered from memory. */
  leaseHeld: boolean;
  /** Sessions held in memory, alive and ended. */
  sessions: number;
  /** Lookup requests made so far (each covers every session asked for in one turn). */
  lookups: number;
  /** Times the key set was fetched. */
  keyFetches: number;
}

interface KnownSession {
  userId: string;
  /** Epoch ms: the earlier of the session's absolute and idle deadlines when it was looked up. */
  expiresAt: number;
  /** performance.now() when it was looked up. */
  loadedAt: number;
}

const ENDED_REASON: Record<string, RefusalReason> = { EXPIRED: "SESSION_EXPIRED" };

/**
 * An exact session check for a Node backend. A token's signature is checked against the
 * session API's published keys; its session's liveness comes from memory fed by the API's
 * revocation stream, trusted only under a lease (see revocation-stream.ts). A session it has
 * not seen costs one batched lookup, then lives under the lease.
 *
 * When the lease has lapsed (the stream is cut or silent) it does not answer from memory: every
 * request is looked up on the API (batched), so a revocation is never missed; when the API
 * cannot be reached either, the answer is SERVICE_UNAVAILABLE (fail closed).
 */
export class SessionVerifier {
  private readonly keys: KeySet;
  private readonly lookups: LookupBatcher;
  private readonly stream: RevocationStream;
  private readonly options: Required<Pick<SessionVerifierOptions, "issuer" | "audience" | "sessionMaxAgeMs" | "maxSessions">>;
  private readonly alive = new Map<string, KnownSession>();
  /** Ended sessions heard of (kept in insertion order, bounded): an ending is for good. */
  private readonly ended = new Map<string, RefusalReason>();
  /** Verified tokens by their text (only genuine ones): a signature check per request costs more than the rest. */
  private readonly tokens = new Map<string, { userId: string; sessionId: string; exp: number }>();
  private trustedUntil = 0;
  /** Bumped whenever memory becomes void: a lookup sent before it may not be kept. */
  private generation = 0;
  private streamOpen = false;
  private readonly revokedListeners = new Set<(event: RevokedSession) => void>();
  private readonly leaseWaiters = new Set<() => void>();
  private started = false;
  private closed = false;
  private readonly graphqlUrl: string;

  constructor(private readonly config: SessionVerifierOptions) {
    const base = config.url.replace(/\/+$/, "").replace(/\/graphql$/, "");
    const fetchImpl = config.fetch ?? fetch;
    this.graphqlUrl = `${base}/graphql`;
    this.options = {
      issuer: config.issuer ?? "session-api",
      audience: config.audience ?? "session-api",
      sessionMaxAgeMs: config.sessionMaxAgeMs ?? 60_000,
      maxSessions: config.maxSessions ?? 100_000,
    };
    this.keys = new KeySet(`${base}/.well-known/jwks.json`, config.keyRefetchIntervalMs ?? 10_000, fetchImpl);
    this.lookups = new LookupBatcher(`${base}/sessions/lookup`, config.serviceKey, fetchImpl, config.lookupTimeoutMs ?? 2000);
    this.stream = new RevocationStream({
      baseUrl: base,
      serviceKey: config.serviceKey,
      fetch: fetchImpl,
      handlers: {
        opened: () => {
          this.forget();
          this.streamOpen = true;
        },
        revoked: (sessions) => this.revoked(sessions),
        renewed: (until) => {
          this.trustedUntil = Math.max(this.trustedUntil, until);
          for (const done of this.leaseWaiters) done();
          this.leaseWaiters.clear();
        },
        lapsed: () => {
          this.streamOpen = false;
          this.forget();
        },
        error: (error) => config.onError?.(error),
      },
    });
  }

  /** Opens the stream and resolves once the key set is loaded and the first lease is held. */
  async ready(): Promise<void> {
    if (this.closed) throw new Error("session verifier: closed");
    if (!this.started) {
      this.started = true;
      this.stream.start();
    }
    const timeoutMs = this.config.readyTimeoutMs ?? 10_000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`session verifier: no key set and lease from ${this.config.url} within ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    const lease = this.leaseHeld ? Promise.resolve() : new Promise<void>((resolve) => this.leaseWaiters.add(resolve));
    try {
      await Promise.race([Promise.all([this.keys.load(), lease]), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** True while memory may answer (a lease is held). */
  get leaseHeld(): boolean {
    return performance.now() < this.trustedUntil;
  }

  status(): VerifierStatus {
    return {
      leaseHeld: this.leaseHeld,
      sessions: this.alive.size + this.ended.size,
      lookups: this.lookups.requests,
      keyFetches: this.keys.fetches,
    };
  }

  /** The token's session, if it is alive now; otherwise why not. Never throws. */
  async verify(accessToken: string | null | undefined): Promise<SessionCheck> {
    if (!accessToken) return { ok: false, reason: "TOKEN_MISSING" };
    let claims = this.tokens.get(accessToken);
    if (!claims) {
      const genuine = await this.verifySignature(accessToken);
      if (!genuine) return { ok: false, reason: "TOKEN_INVALID" };
      claims = genuine;
      remember(this.tokens, accessToken, claims, 10_000);
    }
    if (Date.now() >= claims.exp * 1000) return { ok: false, reason: "TOKEN_EXPIRED" };
    const { userId, sessionId } = claims;
    const ended = this.ended.get(sessionId);
    if (ended) return { ok: false, reason: ended };
    if (this.leaseHeld) {
      const known = this.alive.get(sessionId);
      if (known && Date.now() < known.expiresAt && performance.now() - known.loadedAt < this.options.sessionMaxAgeMs) {
        return known.userId === userId ? { ok: true, userId, sessionId } : { ok: false, reason: "TOKEN_INVALID" };
      }
    }
    return this.lookUp(userId, sessionId);
  }

  /**
   * The session check of an `Authorization: Bearer <token>` header, as the API makes it: a
   * header that is not a bearer token is TOKEN_INVALID, no header is TOKEN_MISSING.
   */
  verifyAuthorization(authorization: string | null | undefined): Promise<SessionCheck> {
    const token = bearerToken(authorization);
    if (token === null) return Promise.resolve({ ok: false, reason: "TOKEN_INVALID" });
    return this.verify(token);
  }

  /**
   * Express (or connect, or plain node:http) middleware: `req.session` is `{ userId, sessionId }`,
   * or the request is answered with the API's own 401 body and reason (503 when the session
   * could not be checked). With `optional`, a request without an Authorization header passes
   * through with no `req.session`; a bad or ended credential is still refused.
   */
  express(options: { optional?: boolean } = {}) {
    return (req: IncomingMessage & { session?: VerifiedSession }, res: ServerResponse, next: (error?: unknown) => void): void => {
      const authorization = req.headers.authorization;
      if (options.optional && !authorization) {
        next();
        return;
      }
      this.verifyAuthorization(authorization).then((check) => {
        if (check.ok) {
          req.session = { userId: check.userId, sessionId: check.sessionId };
          return next();
        }
        const { status, headers, body } = refusal(check.reason);
        res.writeHead(status, { ...headers, "content-type": "application/json; charset=utf-8", "cache-control": "no-store" });
        res.end(JSON.stringify(body));
      }, next);
    };
  }

  /** Called with every session that ends, from any instance of the API, in order. Returns the unsubscribe function. */
  /**
   * The API's session and account events (sign-ins, revocations, locks, password and email
   * changes), every committed one once, in order, from after `after`: an endless async
   * iterator, polling once caught up. Store each event's `cursor` and pass it back after a
   * restart. Needs a key with the scope `events:read`; works without `ready()`.
   *
   *   for await (const event of sessions.events({ after: await loadCursor() })) {
   *     await handle(event);
   *     await saveCursor(event.cursor);
   *   }
   */
  events(options: EventsOptions = {}): AsyncGenerator<SessionApiEvent, void, undefined> {
    return readEvents(this.graphqlUrl, this.config.serviceKey, this.config.fetch ?? fetch, options);
  }

  onRevoked(listener: (event: RevokedSession) => void): () => void {
    this.revokedListeners.add(listener);
    return () => this.revokedListeners.delete(listener);
  }

  /** Says goodbye to the API (no revoking call waits for this verifier from then on) and stops. */
  async close(): Promise<void> {
    this.closed = true;
    this.trustedUntil = 0;
    for (const done of this.leaseWaiters) done();
    await this.stream.close();
  }

  private async verifySignature(token: string) {
    const payload = await this.keys.verify(token, this.options);
    if (!payload) return null;
    const { sub, sid, exp } = payload as { sub?: unknown; sid?: unknown; exp?: unknown };
    if (typeof sub !== "string" || typeof sid !== "string" || typeof exp !== "number") return null;
    return { userId: sub, sessionId: sid, exp };
  }

  private async lookUp(userId: string, sessionId: string): Promise<SessionCheck> {
    const generation = this.generation;
    const keep = this.streamOpen;
    let answer: SessionLookup;
    try {
      answer = await this.lookups.load(sessionId);
    } catch (error) {
      this.config.onError?.(error);
      return { ok: false, reason: "SERVICE_UNAVAILABLE" };
    }
    // The stream may have ended the session while the answer was on its way.
    const ended = this.ended.get(sessionId);
    if (ended) return { ok: false, reason: ended };
    if (!answer.alive) {
      const reason = answer.reason as RefusalReason;
      if (reason !== "SESSION_NOT_FOUND") remember(this.ended, sessionId, reason, this.options.maxSessions);
      return { ok: false, reason };
    }
    // Kept only if the stream that will report its end was open before the lookup was sent.
    if (keep && generation === this.generation) {
      remember(
        this.alive,
        sessionId,
        { userId: answer.userId, expiresAt: Date.parse(answer.expiresAt), loadedAt: performance.now() },
        this.options.maxSessions,
      );
    }
    if (answer.userId !== userId) return { ok: false, reason: "TOKEN_INVALID" };
    return { ok: true, userId, sessionId };
  }

  private revoked(sessions: RevokedSession[]) {
    for (const session of sessions) {
      this.alive.delete(session.sessionId);
      remember(this.ended, session.sessionId, ENDED_REASON[session.reason] ?? "SESSION_REVOKED", this.options.maxSessions);
    }
    for (const session of sessions) {
      for (const listener of this.revokedListeners) {
        try {
          listener(session);
        } catch (error) {
          this.config.onError?.(error);
        }
      }
    }
  }

  /** Memory is void: the lease goes, and so do the sessions seen alive (ended ones stay ended). */
  private forget() {
    this.trustedUntil = 0;
    this.generation++;
    this.alive.clear();
  }
}

/** Sets `key` in a map used as a bounded FIFO: past `max` entries the oldest goes. */
function remember<K, V>(map: Map<K, V>, key: K, value: V, max: number) {
  map.delete(key);
  map.set(key, value);
  if (map.size > max) map.delete(map.keys().next().value as K);
}

/** The verifier; call `ready()` before serving. */
export function createSessionVerifier(options: SessionVerifierOptions): SessionVerifier {
  return new SessionVerifier(options);
}
