import type { RevocationReason } from "./session.entity";

/** One ended session, as published to its user's live clients. */
export interface SessionRevocation {
  userId: string;
  sessionId: string;
  reason: RevocationReason;
  revokedAt: Date;
}

/**
 * Where the session service reports ended sessions, in process, after the change has
 * committed. Live clients do not depend on it: every revoking statement also NOTIFYs the
 * cross-instance fan-out inside its own transaction (live/revocation-channel.ts), and
 * `RevocationFanout.onRevoked` is where to listen for revocations made by any instance.
 */
export interface SessionEventSink {
  /** Awaited before the revoking call returns (see RevocationFanout.echo). */
  sessionsRevoked(revocations: SessionRevocation[]): void | Promise<void>;
  /** A user's own data (their email) changed: copies of it held in memory must go. */
  userChanged(userId: string): void;
}

export const noSessionEvents: SessionEventSink = { sessionsRevoked: () => undefined, userChanged: () => undefined };
