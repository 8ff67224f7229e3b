import type { SessionEntity } from "../session.entity";
import type { RevocationReason } from "./revocation-reason";

/** One ended session, as published to its user's live clients. */
export interface SessionRevocation {
  userId: string;
  sessionId: string;
  reason: RevocationReason;
  revokedAt: Date;
}

/**
 * A session that began, as its user's other live clients hear of it: the listed columns only
 * (device, IP, times, newDevice, persistent), never a secret.
 */
export interface SessionCreated {
  userId: string;
  session: SessionEntity;
}

/** What one socket hears: a session of its user ended; `current` when it is the socket's own. */
export interface RevokedEventPayload {
  sessionId: string;
  reason: RevocationReason;
  revokedAt: Date;
  current: boolean;
}

/**
 * Where the session domain reports, in process and after the change has committed, what
 * copies held in memory must forget. The listeners are attached by `wireRevocations`.
 */
export interface SessionEventSink {
  /** Awaited before the revoking call returns (see RevocationFanout.confirm). */
  sessionsRevoked(revocations: SessionRevocation[]): Promise<void>;
  /** A user's own data (their email) changed: copies of it held in memory must go. */
  userChanged(userId: string): void;
  /**
   * A session began and committed (after-commit, in process only: other instances hear of
   * it by its NOTIFY). For in-process consumers such as webhooks; sockets are told by the fan-out.
   */
  sessionCreated(created: SessionCreated): Promise<void>;
}

/** The sink the services are given; it does nothing until `wireRevocations` attaches listeners. */
export class SessionEvents implements SessionEventSink {
  private readonly revokedListeners: ((revocations: SessionRevocation[]) => void | Promise<void>)[] = [];
  private readonly userListeners: ((userId: string) => void)[] = [];
  private readonly createdListeners: ((created: SessionCreated) => void | Promise<void>)[] = [];

  onSessionsRevoked(listener: (revocations: SessionRevocation[]) => void | Promise<void>): void {
    this.revokedListeners.push(listener);
  }

  onUserChanged(listener: (userId: string) => void): void {
    this.userListeners.push(listener);
  }

  onSessionCreated(listener: (created: SessionCreated) => void | Promise<void>): void {
    this.createdListeners.push(listener);
  }

  /** Runs the listeners in the order they were attached, each awaited. */
  async sessionsRevoked(revocations: SessionRevocation[]): Promise<void> {
    if (revocations.length === 0) return;
    for (const listener of this.revokedListeners) await listener(revocations);
  }

  userChanged(userId: string): void {
    for (const listener of this.userListeners) listener(userId);
  }

  async sessionCreated(created: SessionCreated): Promise<void> {
    for (const listener of this.createdListeners) await listener(created);
  }
}

/** What a transport holding live sockets offers the revocation feed (live/ implements it). */
export interface RevocationConsumer {
  /** Ended sessions from any instance: tell their users' sockets, close the ended ones. */
  deliver(revocations: readonly SessionRevocation[]): void;
  /** A session that began on any instance: tell its user's other sockets. */
  deliverCreated(created: SessionCreated): void;
  /** The feed was deaf from `since` until now: re-read what may have been missed. */
  resync(since: Date): Promise<void>;
}

/**
 * Which live sessions one revoking statement ends: a closed set, rendered to SQL in one place
 * (SessionStore's `targetCondition`). Sessions already ended are never matched again.
 */
export type RevocationTarget =
  /** One session, only if it belongs to `userId` (the caller's ownership check). */
  | { kind: "owned-session"; sessionId: string; userId: string }
  /**
   * What a logout's credentials prove, either or both: `session` (named by a checked access
   * token) only if it belongs to `userId`; the live session whose refresh secret hashes to
   * `secretHash`, whether current or spent within `reuseGrace` seconds.
   */
  | {
      kind: "logout";
      session?: { sessionId: string; userId: string };
      refresh?: { sessionId: string; secretHash: Buffer; idleTtl: number; reuseGrace: number };
    }
  /** One session the caller holds locked (refresh-token reuse). */
  | { kind: "locked-session"; sessionId: string }
  /** One session, whoever's: only for an admin's action, whose guard stands in for ownership. */
  | { kind: "any-session"; sessionId: string }
  /**
   * The user's live sessions beyond the `keep` most recently active, `keepSessionId` (the
   * new one) always counted among those kept: the session limit's eviction.
   */
  | { kind: "over-limit"; userId: string; keepSessionId: string; keep: number; idleTtl: number }
  /** All of a user's live sessions, but `exceptSessionId`. */
  | { kind: "user-sessions"; userId: string; exceptSessionId?: string }
  /**
   * Up to `limit` sessions past their absolute or idle deadline, optionally only among
   * `sessionIds`; rows locked by a concurrent revocation are skipped, left to that one.
   */
  | { kind: "expired"; idleTtl: number; limit: number; sessionIds?: readonly string[] };
