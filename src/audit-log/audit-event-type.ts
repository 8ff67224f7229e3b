import { registerEnumType } from "type-graphql";

/**
 * What an audit-log entry records: the `type` column holds exactly these words, and clients
 * see them as the GraphQL enum `SecurityEventType` (registered below, beside its values).
 */
export const AuditEventType = {
  REGISTER: "REGISTER",
  LOGIN: "LOGIN",
  LOGIN_FAILED: "LOGIN_FAILED",
  LOGOUT: "LOGOUT",
  SESSION_REVOKED: "SESSION_REVOKED",
  REFRESH_TOKEN_REUSE: "REFRESH_TOKEN_REUSE",
  REAUTHENTICATED: "REAUTHENTICATED",
  PASSWORD_CHANGED: "PASSWORD_CHANGED",
  EMAIL_CHANGED: "EMAIL_CHANGED",
  ACCOUNT_LOCKED: "ACCOUNT_LOCKED",
  ACCOUNT_UNLOCKED: "ACCOUNT_UNLOCKED",
  ROLE_CHANGED: "ROLE_CHANGED",
} as const;
export type AuditEventType = (typeof AuditEventType)[keyof typeof AuditEventType];

registerEnumType(AuditEventType, {
  name: "SecurityEventType",
  description: "What a security event records.",
  valuesConfig: {
    REGISTER: { description: "The account was created." },
    LOGIN: {
      description:
        'A session began: a sign-in, or the session that register opens. `details.newDevice` is true for a device this account had not signed in on; `details.persistent` is false without "keep me signed in"; `details.deviceName` as given.',
    },
    LOGIN_FAILED: {
      description:
        "A password check was refused (login, reauthenticate, changePassword or changeEmail); `details.reason` is INVALID_CREDENTIALS, RATE_LIMITED or ACCOUNT_LOCKED (the right password for a locked account: the client was told INVALID_CREDENTIALS).",
    },
    LOGOUT: { description: "A session was ended by logout on its own device." },
    SESSION_REVOKED: {
      description:
        "Sessions were ended for another reason, given in `details.reason` (a RevocationReason: LOGOUT_ALL, REVOKED, PASSWORD_CHANGED, EMAIL_CHANGED, EXPIRED, ADMIN_REVOKED, ACCOUNT_LOCKED, SECURITY_CONCERN or SESSION_LIMIT). When support staff or a service key ended them, `details.by` names it: `{ kind, id }`.",
    },
    REFRESH_TOKEN_REUSE: { description: "A spent refresh token was replayed, so its session was ended as stolen." },
    REAUTHENTICATED: { description: "The password was proved again (reauthenticate): the session is fresh." },
    PASSWORD_CHANGED: { description: "The password was changed; the other sessions were ended." },
    EMAIL_CHANGED: {
      description: "The sign-in email was changed (`details.previousEmail`, `details.newEmail`); the other sessions were ended.",
    },
    ACCOUNT_LOCKED: {
      description:
        "Support staff locked the account (`details.reason` as they gave it, `details.by`): sign-in is refused until it is unlocked.",
    },
    ACCOUNT_UNLOCKED: { description: "Support staff unlocked the account (`details.by`)." },
    ROLE_CHANGED: { description: "The account's role changed (`details.role`, `details.previousRole`, `details.by`)." },
  },
});
