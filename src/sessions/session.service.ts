import { randomUUID } from "node:crypto";
import { type Actor, setActor } from "../audit-log/request-actor";
import type { Transaction, Transactions } from "../db/transaction";
import { parseDevice } from "../lib/device";
import type { DeviceIdHasher } from "./device-id";
import { formatRefreshToken, generateSecret, hashSecret, parseRefreshToken, secretMatches } from "./refresh-token";
import type { RevocationTarget, SessionEventSink, SessionRevocation } from "./revocation/revocation";
import type { RevocationReason } from "./revocation/revocation-reason";
import { SessionEntity } from "./session.entity";
import type { SessionStore } from "./session.store";
import { invalidReason, type SessionInvalidReason, sessionExpiresAt } from "./session-lifetime";
import type {
  SessionCheck,
  SessionCredential,
  SessionRef,
  SessionRefusal,
  SessionRequirements,
  SessionValidator,
} from "./validate-session";

/** The most sessions one call answers (mySessions, and a user's sessions seen by staff or a service key). */
export const MAX_SESSIONS_PAGE = 100;

export interface SessionPolicy {
  idleTtl: number;
  maxTtl: number;
  /** Absolute lifetime of a rememberMe: false session. */
  shortTtl: number;
  refreshReuseGrace: number;
  /** MAX_SESSIONS_PER_USER; 0: no limit. */
  maxSessionsPerUser: number;
}

/** A sign-in's facts about the device, as the transport and the input gave them. */
export interface NewSessionInput {
  userId: string;
  deviceName: string | null;
  actor: Actor;
  /** The device's long-lived id (already validated), or null when the client sent none. */
  deviceId: string | null;
  /** False: SESSION_SHORT_TTL, and a cookie that dies with the browser. */
  rememberMe: boolean;
}

/** One session as a verifier sees it: alive until `expiresAt`, or why not. */
export type SessionLookup =
  | { sessionId: string; userId: string; alive: true; expiresAt: string }
  | { sessionId: string; userId: string | null; alive: false; reason: SessionInvalidReason };

export type RefreshResult =
  | { ok: true; session: SessionEntity; refreshToken: string }
  | { ok: false; reason: SessionInvalidReason | "REFRESH_TOKEN_INVALID" | "REFRESH_TOKEN_REUSE" | "REFRESH_TOKEN_ROTATED" };

/**
 * The session lifecycle over its store. Every revocation goes through `revoke`, which queues
 * the report to `events` on its transaction's after-commit queue (db/transaction.ts): it is
 * sent when the outermost transaction commits, whoever opened it, and never on a rollback
 * (see wireRevocations for what listens).
 */
export class SessionService {
  constructor(
    private readonly transactions: Transactions,
    private readonly store: SessionStore,
    private readonly validator: SessionValidator,
    private readonly policy: SessionPolicy,
    private readonly events: SessionEventSink,
    private readonly deviceIds: DeviceIdHasher,
    /** Records activity on a session (the LastActiveWriter); lookups count as activity. */
    private readonly activity?: (session: SessionEntity) => void,
  ) {}

  /**
   * The one session check (see SessionValidator): the session the credential names, if it is
   * alive and meets `require`; otherwise why not.
   */
  validateSession(credential: SessionCredential, require?: SessionRequirements): Promise<SessionCheck> {
    return this.validator.validateSession(credential, require);
  }

  /**
   * Creates a session inside the caller's transaction; returns it with its refresh token.
   * In the same transaction: the device is remembered (newDevice), the INSERT NOTIFYs the
   * user's other sockets (sessionCreated, sent by the commit), and past MAX_SESSIONS_PER_USER
   * the least recently active sessions end (SESSION_LIMIT). Concurrent sign-ins of one user
   * take turns on the user's row, so the limit holds exactly. A rollback sends and ends nothing.
   */
  async createSession(tx: Transaction, input: NewSessionInput): Promise<{ session: SessionEntity; refreshToken: string }> {
    const limit = this.policy.maxSessionsPerUser;
    if (limit > 0) await this.store.lockUserSignIns(tx, input.userId);
    const newDevice = input.deviceId
      ? await this.store.rememberDevice(tx, input.userId, this.deviceIds.hash(input.deviceId))
      : true;
    const now = new Date();
    const { secret, hash } = generateSecret();
    const session = Object.assign(new SessionEntity(), {
      id: randomUUID(),
      userId: input.userId,
      secretHash: hash,
      previousSecretHash: null,
      secretRotatedAt: null,
      deviceName: input.deviceName,
      userAgent: input.actor.userAgent?.slice(0, 512) ?? null,
      ...parseDevice(input.actor.userAgent),
      ipAddress: input.actor.ipAddress,
      newDevice,
      persistent: input.rememberMe,
      createdAt: now,
      lastActiveAt: now,
      authenticatedAt: now,
      expiresAt: new Date(now.getTime() + (input.rememberMe ? this.policy.maxTtl : this.policy.shortTtl) * 1000),
      revokedAt: null,
      revokedReason: null,
    });
    await this.store.createSession(tx, session);
    if (limit > 0) {
      const target: RevocationTarget = {
        kind: "over-limit",
        userId: input.userId,
        keepSessionId: session.id,
        keep: limit,
        idleTtl: this.policy.idleTtl,
      };
      await this.revoke(tx, target, "SESSION_LIMIT");
    }
    tx.afterCommit(() => this.events.sessionCreated({ userId: session.userId, session }));
    return { session, refreshToken: formatRefreshToken(session.id, secret) };
  }

  /** One live session of this user, or null: another user's, an ended one and a missing one look alike. */
  async getUserSession(userId: string, sessionId: string): Promise<SessionEntity | null> {
    const session = await this.store.getSession(sessionId);
    if (!session || session.userId !== userId) return null;
    return invalidReason(session, this.policy.idleTtl) === null ? session : null;
  }

  /** Whether the user has signed in on this device before (the login throttle trusts it). */
  isKnownDevice(userId: string, deviceId: string): Promise<boolean> {
    return this.store.isKnownDevice(userId, this.deviceIds.hash(deviceId));
  }

  /** The earlier of the absolute cap and the idle deadline. */
  expiresAt(session: SessionEntity): Date {
    return sessionExpiresAt(session, this.policy.idleTtl);
  }

  /**
   * What a session verifier (`@session-api/backend`) asks about sessions it has not seen: one
   * read for the whole batch, straight from the database (the verifier's stream covers what
   * happens after it). An alive session's lookup is activity, as a request here would be.
   */
  async lookupSessions(ids: readonly string[]): Promise<SessionLookup[]> {
    const sessions = await this.store.getSessionsAndUsers(ids);
    return ids.map((sessionId, i) => {
      const session = sessions[i];
      const reason = invalidReason(session, this.policy.idleTtl);
      if (!session || reason)
        return { sessionId, userId: session?.userId ?? null, alive: false, reason: reason ?? "SESSION_NOT_FOUND" };
      this.activity?.(session);
      return { sessionId, userId: session.userId, alive: true, expiresAt: this.expiresAt(session).toISOString() };
    });
  }

  /**
   * A page of the user's live sessions: the viewer's current one first (when it has one: support
   * staff and service keys look at a user's sessions from outside), then most recently active
   * first (SessionStore.listUserSessions).
   */
  listUserSessions(
    viewer: { userId: string; sessionId: string | null },
    page: { first: number; after: string | null },
  ): Promise<SessionEntity[]> {
    return this.store.listUserSessions(viewer.userId, this.policy.idleTtl, { ...page, currentSessionId: viewer.sessionId });
  }

  /**
   * Rotates a refresh token. The row lock makes parallel refreshes with one token queue up:
   * the first rotates, the others find their secret already spent. The secret spent by the
   * last rotation, within `refreshReuseGrace` seconds, is a racing tab and is told so without
   * harm. Any other secret this session ever issued and spent (the whole family, not only the
   * last one: a thief who rotated twice must not be safe) is a replay, and the whole session is
   * revoked (theft detection, RFC 9700 §4.14.2). A secret the session never issued is a plain
   * refusal, so knowing a session id is no remote logout.
   */
  async rotateRefreshToken(token: string, actor: Actor): Promise<RefreshResult> {
    const parsed = parseRefreshToken(token);
    if (!parsed) return { ok: false, reason: "REFRESH_TOKEN_INVALID" };
    return this.transactions.run(async (tx): Promise<RefreshResult> => {
      await setActor(tx, actor);
      const session = await this.store.getSession(parsed.sessionId, { tx, lock: true });
      const invalid = invalidReason(session, this.policy.idleTtl);
      if (invalid || !session) return { ok: false, reason: invalid ?? "SESSION_NOT_FOUND" };
      const now = new Date();
      if (secretMatches(parsed.secret, session.secretHash)) {
        const { secret, hash } = generateSecret();
        await this.store.rotateSecret(tx, session.id, { hash, previousHash: session.secretHash, rotatedAt: now });
        Object.assign(session, {
          previousSecretHash: session.secretHash,
          secretHash: hash,
          secretRotatedAt: now,
          lastActiveAt: now,
        });
        return { ok: true, session, refreshToken: formatRefreshToken(session.id, secret) };
      }
      const justSpent = secretMatches(parsed.secret, session.previousSecretHash);
      if (justSpent && now.getTime() - (session.secretRotatedAt?.getTime() ?? 0) < this.policy.refreshReuseGrace * 1000) {
        return { ok: false, reason: "REFRESH_TOKEN_ROTATED" };
      }
      if (justSpent || (await this.store.isSpentSecret(tx, session.id, hashSecret(parsed.secret)))) {
        await this.revoke(tx, { kind: "locked-session", sessionId: session.id }, "REFRESH_TOKEN_REUSE");
        return { ok: false, reason: "REFRESH_TOKEN_REUSE" };
      }
      return { ok: false, reason: "REFRESH_TOKEN_INVALID" };
    });
  }

  /**
   * Ends, with reason LOGOUT, every session a logout's credentials prove, in one statement:
   * - `session`, named by an access token the context builder has checked (signed in, or
   *   genuine but expired), and only if it belongs to that token's user;
   * - the session of `refreshToken`, if the token is that live session's current one or the
   *   one spent within `refreshReuseGrace` seconds (a tab that refreshed just before another
   *   logged out). One spent earlier, forged, unknown or malformed ends nothing: it proves
   *   nothing about the session now. The hashes are compared by the UPDATE itself, so a
   *   rotation racing this cannot leave the session alive with a token just logged out.
   * Sessions already ended are left as they are. Answers how many sessions ended.
   */
  async logout(
    credentials: { session?: { userId: string; sessionId: string } | null; refreshToken?: string | null },
    actor: Actor,
  ): Promise<number> {
    const parsed = credentials.refreshToken ? parseRefreshToken(credentials.refreshToken) : null;
    const session = credentials.session ?? undefined;
    const refresh = parsed
      ? {
          sessionId: parsed.sessionId,
          secretHash: hashSecret(parsed.secret),
          idleTtl: this.policy.idleTtl,
          reuseGrace: this.policy.refreshReuseGrace,
        }
      : undefined;
    if (!session && !refresh) return 0;
    // Without an access token, the refresh token is the actor's proof of being that session.
    const by = session ? actor : { ...actor, sessionId: parsed?.sessionId ?? null };
    const revoked = await this.revokeInTransaction(by, "LOGOUT", { kind: "logout", session, refresh });
    return revoked.length;
  }

  /**
   * Ends one of the viewer's sessions. Another user's session, a missing one and an ended
   * one all answer false and change nothing: the caller cannot tell them apart.
   */
  async revokeSession(viewerId: string, sessionId: string, reason: RevocationReason, actor: Actor): Promise<boolean> {
    const revoked = await this.revokeInTransaction(actor, reason, { kind: "owned-session", sessionId, userId: viewerId });
    return revoked.length > 0;
  }

  /**
   * Ends one session whoever's it is: for support staff, whose guard (an admin's fresh
   * session) stands in for the ownership check. False if it was not a live session.
   */
  async revokeAnySession(sessionId: string, reason: RevocationReason, actor: Actor): Promise<boolean> {
    const revoked = await this.revokeInTransaction(actor, reason, { kind: "any-session", sessionId });
    return revoked.length > 0;
  }

  /**
   * Ends all of a user's live sessions but `exceptSessionId`, in one statement. Given `tx`, it
   * runs in the caller's transaction, whose actor the caller has set and which has taken
   * lockUserSessions first; otherwise it takes that lock itself. Either way the events go out
   * when the transaction commits.
   */
  async revokeUserSessions(
    userId: string,
    reason: RevocationReason,
    options: { exceptSessionId?: string; tx?: Transaction; actor?: Actor } = {},
  ): Promise<SessionRevocation[]> {
    const target: RevocationTarget = { kind: "user-sessions", userId, exceptSessionId: options.exceptSessionId };
    if (options.tx) return this.revoke(options.tx, target, reason);
    return this.transactions.run(async (tx) => {
      if (options.actor) await setActor(tx, options.actor);
      await this.store.lockUserSessions(tx, userId);
      return this.revoke(tx, target, reason);
    });
  }

  /**
   * Ends every other session of the viewer's user, only if the viewer's own session is alive
   * when this commits: after the user's revocation lock, its row is read and kept locked, so
   * no revocation can end it before the others are ended. Of two sessions doing this at once,
   * exactly one survives: the second finds its own session ended by the first. Answers the
   * sessions ended, or why the acting session may no longer act.
   */
  revokeOtherSessions(
    viewer: SessionRef,
    reason: RevocationReason,
    actor: Actor,
  ): Promise<{ ok: true; revoked: SessionRevocation[] } | { ok: false; reason: SessionRefusal }> {
    return this.transactions.run(async (tx) => {
      await setActor(tx, actor);
      await this.store.lockUserSessions(tx, viewer.userId);
      const check = await this.validator.validateSession({ session: viewer }, { lockIn: tx });
      if (!check.ok) return { ok: false as const, reason: check.reason };
      const target: RevocationTarget = { kind: "user-sessions", userId: viewer.userId, exceptSessionId: viewer.sessionId };
      return { ok: true as const, revoked: await this.revoke(tx, target, reason) };
    });
  }

  /** Takes the user's revocation lock in the caller's transaction (see SessionStore.lockUserSessions). */
  lockUserSessions(tx: Transaction, userId: string): Promise<void> {
    return this.store.lockUserSessions(tx, userId);
  }

  /** A revocation in a transaction of its own (or the one open), with `actor` for the audit log. */
  private revokeInTransaction(
    actor: Actor | undefined,
    reason: RevocationReason,
    target: RevocationTarget,
  ): Promise<SessionRevocation[]> {
    return this.transactions.run(async (tx) => {
      if (actor) await setActor(tx, actor);
      return this.revoke(tx, target, reason);
    });
  }

  /**
   * The one way this service ends sessions: the revoking statement in `tx`, and their events
   * queued for after its commit (awaited by the transaction's `run`, so a revoking call
   * answers only once the fan-out has confirmed them).
   */
  private async revoke(tx: Transaction, target: RevocationTarget, reason: RevocationReason): Promise<SessionRevocation[]> {
    const revoked = await this.store.revoke(target, reason, tx);
    if (revoked.length > 0) tx.afterCommit(() => this.events.sessionsRevoked(revoked));
    return revoked;
  }

  /**
   * Marks the session as having just proved the password, inside the caller's transaction and
   * without a log entry of its own: the change that proved it (PASSWORD_CHANGED,
   * EMAIL_CHANGED) is the record.
   */
  markFresh(tx: Transaction, sessionId: string): Promise<void> {
    return this.store.markFresh(tx, sessionId);
  }

  /**
   * Marks the session as having just proved the password again, and logs it in the same
   * statement; false if it is no longer alive.
   */
  markAuthenticated(sessionId: string, actor: Actor): Promise<boolean> {
    return this.store.markAuthenticated(sessionId, actor);
  }

  /** Sessions of these users ended at or after `since` (a live instance catching up after a gap). */
  revokedSessionsSince(userIds: readonly string[], since: Date): Promise<SessionRevocation[]> {
    return this.store.listRevokedSince(userIds, since);
  }

  /**
   * Marks up to `limit` sessions past their absolute or idle deadline as revoked (EXPIRED) and
   * publishes them, optionally only among `sessionIds`. Safe with several instances sweeping
   * at once: FOR UPDATE SKIP LOCKED lets each row be claimed by exactly one statement, and a
   * row locked by a concurrent logout is left to that logout (or the next sweep).
   */
  revokeExpiredSessions(options: { limit?: number; sessionIds?: readonly string[] } = {}): Promise<SessionRevocation[]> {
    const target: RevocationTarget = {
      kind: "expired",
      idleTtl: this.policy.idleTtl,
      limit: options.limit ?? 5000,
      sessionIds: options.sessionIds,
    };
    return this.revokeInTransaction(undefined, "EXPIRED", target);
  }
}
