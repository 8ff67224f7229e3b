import type { SessionEntity } from "./session.entity";

/**
 * A session's lifetime rules, as pure functions of the session and the clock. A session is
 * alive while it has not ended (`revokedAt` null), `now < expiresAt` (the absolute cap, never
 * extended) and `now < lastActiveAt + idleTtl`. All durations are in seconds.
 */
export type SessionInvalidReason = "SESSION_NOT_FOUND" | "SESSION_REVOKED" | "SESSION_EXPIRED";

/** The earlier of the absolute cap and the idle deadline. */
export function sessionExpiresAt(session: SessionEntity, idleTtl: number): Date {
  return new Date(expiresAtMs(session, idleTtl));
}

function expiresAtMs(session: SessionEntity, idleTtl: number): number {
  return Math.min(session.expiresAt.getTime(), session.lastActiveAt.getTime() + idleTtl * 1000);
}

/** Why a session may not be used at `now`, or null when it is alive. */
export function invalidReason(session: SessionEntity | null, idleTtl: number, now = Date.now()): SessionInvalidReason | null {
  if (!session) return "SESSION_NOT_FOUND";
  // The sweeper marks expired sessions revoked (EXPIRED); they still answer as expired.
  if (session.revokedAt) return session.revokedReason === "EXPIRED" ? "SESSION_EXPIRED" : "SESSION_REVOKED";
  if (now >= expiresAtMs(session, idleTtl)) return "SESSION_EXPIRED";
  return null;
}

/** Whether the session proved the password (login, register, reauthenticate) within `freshTtl`. */
export function isFresh(session: SessionEntity, freshTtl: number, now = Date.now()): boolean {
  return now - session.authenticatedAt.getTime() < freshTtl * 1000;
}
