import { registerEnumType } from "type-graphql";

/**
 * Why a session ended: stored in `sessions.revoked_reason`, carried by every NOTIFY and shown
 * to clients as the GraphQL enum `RevocationReason` (registered below, beside its values).
 */
export const RevocationReason = {
  LOGOUT: "LOGOUT",
  LOGOUT_ALL: "LOGOUT_ALL",
  REVOKED: "REVOKED",
  PASSWORD_CHANGED: "PASSWORD_CHANGED",
  EMAIL_CHANGED: "EMAIL_CHANGED",
  REFRESH_TOKEN_REUSE: "REFRESH_TOKEN_REUSE",
  EXPIRED: "EXPIRED",
  ADMIN_REVOKED: "ADMIN_REVOKED",
  ACCOUNT_LOCKED: "ACCOUNT_LOCKED",
  SECURITY_CONCERN: "SECURITY_CONCERN",
  SESSION_LIMIT: "SESSION_LIMIT",
} as const;
export type RevocationReason = (typeof RevocationReason)[keyof typeof RevocationReason];

const REASONS: ReadonlySet<string> = new Set(Object.values(RevocationReason));

export function isRevocationReason(value: unknown): value is RevocationReason {
  return typeof value === "string" && REASONS.has(value);
}

registerEnumType(RevocationReason, {
  name: "RevocationReason",
  description: "Why a session ended.",
  valuesConfig: {
    LOGOUT: { description: "logout on that device." },
    LOGOUT_ALL: { description: "logoutAllDevices." },
    REVOKED: { description: "revokeSession from another device." },
    PASSWORD_CHANGED: { description: "changePassword ended the other sessions." },
    EMAIL_CHANGED: { description: "changeEmail ended the other sessions." },
    REFRESH_TOKEN_REUSE: { description: "A spent refresh token was replayed: the session is treated as stolen." },
    EXPIRED: { description: "Past its absolute lifetime or idle for too long." },
    ADMIN_REVOKED: { description: "Support staff ended it (adminRevokeSession or adminRevokeUserSessions)." },
    ACCOUNT_LOCKED: { description: "Support staff locked the account (adminLockUser): every session ended." },
    SECURITY_CONCERN: { description: 'secureAccount ("this wasn\'t me") ended the sessions.' },
    SESSION_LIMIT: {
      description: "A new sign-in passed MAX_SESSIONS_PER_USER: this session, the least recently active, made room.",
    },
  },
});
