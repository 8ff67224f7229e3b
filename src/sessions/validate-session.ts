import type { Transaction } from "../db/transaction";
import type { AccessTokenService } from "./access-token";
import type { LastActiveWriter } from "./last-active-writer";
import type { SessionEntity } from "./session.entity";
import type { SessionStore } from "./session.store";
import type { SessionCache } from "./session-cache";
import { invalidReason, isFresh, type SessionInvalidReason } from "./session-lifetime";

/** A session named by a credential: its user and its id. */
export interface SessionRef {
  userId: string;
  sessionId: string;
}

/** A request's signed-in user and session, as the session check found it. */
export interface Viewer extends SessionRef {
  session: SessionEntity;
}

/**
 * What proves a session: the access token a transport carried, or, for a guard stacked on a
 * check this request already passed, the session that check found.
 */
export type SessionCredential = { token: string } | { session: SessionRef };

export type SessionRefusal = "TOKEN_INVALID" | "TOKEN_EXPIRED" | SessionInvalidReason | "SESSION_NOT_FRESH";

export type SessionCheck =
  /** `expiredToken`: the token was genuine but past its `exp` (only with `acceptExpiredToken`). */
  | { ok: true; viewer: Viewer; expiredToken: boolean }
  /** `sessionId`, when the credential named one; `session`, the row read, if any. */
  | { ok: false; reason: SessionRefusal; sessionId?: string; session?: SessionEntity | null };

/** The guards, each stacked on the ones before it (better-auth's order). */
export interface SessionRequirements {
  /** Authoritative: the database, never memory, says the session is alive. */
  authoritative?: boolean;
  /** Fresh: authoritative, and the password was proved within FRESH_SESSION_TTL. */
  fresh?: boolean;
  /**
   * Read inside this transaction and keep the row locked until it ends (authoritative): no
   * revocation can slip in between the check and the change it guards.
   */
  lockIn?: Transaction;
  /** A genuine access token past its `exp` still names its session (the logout exception). */
  acceptExpiredToken?: boolean;
}

export interface ValidatorPolicy {
  /** SESSION_IDLE_TTL, seconds. */
  idleTtl: number;
  /** FRESH_SESSION_TTL, seconds. */
  freshTtl: number;
}

/**
 * "Is this request's session alive?", answered in one place for every transport (HTTP,
 * WebSocket, the benchmark) and for the guards resolvers stack on it. It answers a result,
 * never a refusal by exception: the transport turns it into a 401 or a close code. A read
 * that fails throws (the caller fails closed: SERVICE_UNAVAILABLE, 1013).
 */
export class SessionValidator {
  constructor(
    private readonly accessTokens: AccessTokenService,
    private readonly cache: SessionCache,
    private readonly store: SessionStore,
    private readonly lastActive: LastActiveWriter,
    private readonly policy: ValidatorPolicy,
  ) {}

  async validateSession(credential: SessionCredential, require: SessionRequirements = {}): Promise<SessionCheck> {
    let named: SessionRef;
    let expiredToken = false;
    if ("token" in credential) {
      const verified = this.accessTokens.verify(credential.token);
      if (!verified.ok && verified.reason === "TOKEN_INVALID") return { ok: false, reason: "TOKEN_INVALID" };
      if (!verified.ok && !require.acceptExpiredToken) {
        return { ok: false, reason: "TOKEN_EXPIRED", sessionId: verified.claims.sessionId };
      }
      expiredToken = !verified.ok;
      named = verified.claims;
    } else {
      named = credential.session;
    }
    const { sessionId } = named;
    const session =
      require.authoritative || require.fresh || require.lockIn
        ? await this.authoritative(sessionId, require.lockIn)
        : await this.signedIn(sessionId);
    // The session must belong to the token's subject.
    if (session && session.userId !== named.userId) return { ok: false, reason: "TOKEN_INVALID", sessionId, session };
    const invalid = invalidReason(session, this.policy.idleTtl);
    if (invalid || !session) return { ok: false, reason: invalid ?? "SESSION_NOT_FOUND", sessionId, session };
    if (require.fresh && !isFresh(session, this.policy.freshTtl))
      return { ok: false, reason: "SESSION_NOT_FRESH", sessionId, session };
    // A request with a usable token is activity; a guard's second look is not another one.
    if ("token" in credential && !expiredToken) this.lastActive.seen(session);
    return { ok: true, viewer: { userId: named.userId, sessionId, session }, expiredToken };
  }

  /**
   * Signed in: memory may answer "alive" on its own. A cached session that looks expired is
   * read again, since another instance may have recorded newer activity.
   */
  private async signedIn(sessionId: string): Promise<SessionEntity | null> {
    const cached = this.cache.peek(sessionId);
    if (cached && !invalidReason(cached, this.policy.idleTtl)) return cached;
    return this.cache.load(sessionId);
  }

  /** Authoritative: the database's row, read now (in `tx`, locked, when given). */
  private authoritative(sessionId: string, tx: Transaction | undefined): Promise<SessionEntity | null> {
    return tx ? this.store.getSession(sessionId, { tx, lock: true }) : this.cache.load(sessionId);
  }
}
