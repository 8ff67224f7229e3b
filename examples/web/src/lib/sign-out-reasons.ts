/**
 * What the signed-out screen says for each reason the SDK reports. The reasons are the
 * server's RevocationReason values plus the SDK's SIGNED_OUT_IN_ANOTHER_TAB.
 */
export const SIGN_OUT_REASONS: Record<string, { title: string; detail: string }> = {
  REVOKED: {
    title: "This device was signed out from another device",
    detail: "Someone signed in to your account ended this session from the Devices & security page.",
  },
  LOGOUT_ALL: {
    title: "All your devices were signed out",
    detail: "\u201cSign out all devices\u201d was used from one of your devices.",
  },
  PASSWORD_CHANGED: {
    title: "Your password was changed",
    detail: "Changing the password signs out every other device. Sign in with the new password.",
  },
  EMAIL_CHANGED: {
    title: "Your sign-in email was changed",
    detail: "Changing the email signs out every other device. Sign in with the new email.",
  },
  REFRESH_TOKEN_REUSE: {
    title: "This session was ended to protect your account",
    detail: "A sign-in token of this device was used twice, which is what a stolen token looks like.",
  },
  EXPIRED: {
    title: "Your session expired",
    detail: "It was idle for too long or reached its maximum lifetime.",
  },
  SECURITY_CONCERN: {
    title: "Your account was secured",
    detail: "\u201cThis wasn\u2019t me\u201d was used on one of your devices: every other session was signed out.",
  },
  SESSION_LIMIT: {
    title: "Too many devices were signed in",
    detail: "A new sign-in went past the limit of sessions per account, so this least recently used one made room.",
  },
  ADMIN_REVOKED: {
    title: "Support signed this device out",
    detail: "Our support team ended this session. Sign in again to continue.",
  },
  ACCOUNT_LOCKED: {
    title: "Your account is locked",
    detail: "Our support team locked this account and signed out every device. Contact support to unlock it.",
  },
  LOGOUT: {
    title: "You signed out",
    detail: "This device's session has ended.",
  },
  SIGNED_OUT_IN_ANOTHER_TAB: {
    title: "You signed out in another tab",
    detail: "Signing out ends the session for every tab of this browser.",
  },
};

export const UNKNOWN_REASON = { title: "You were signed out", detail: "This device's session has ended." };
