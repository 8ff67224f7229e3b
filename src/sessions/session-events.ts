import type { RevocationReason } from "./session.entity";

/** One ended session, as published to its user's live clients. */
export interface SessionRevocation {
  userId: string;
  sessionId: string;
  reason: RevocationReason;
  revokedAt: Date;
}

/**
 * Where the session service reports ended sessions, after the change has committed.
 * The live-revocation fan-out implements it; without one, nothing listens.
 */
export interface SessionEventSink {
  sessionsRevoked(revocations: SessionRevocation[]): void;
}

export const noSessionEvents: SessionEventSink = { sessionsRevoked: () => undefined };
