import { createHash, randomBytes } from "node:crypto";
import { registerEnumType } from "type-graphql";

/**
 * A service key: `sak_<prefix>_<secret>`, where the prefix (12 hex digits) names the key and
 * may be shown, logged and typed (`npm run admin -- revoke-key <prefix>`), and the secret is
 * 256 random bits (43 base64url characters), of which only the SHA-256 is stored: a fast hash
 * suffices for a random secret of that size (nothing to guess), as for refresh tokens.
 */
const KEY = /^sak_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;
export const PREFIX = /^[0-9a-f]{12}$/;

/**
 * What a key may reach, granted when it is made (`--scopes`). Each field a key can call names
 * the scope it needs (src/service-keys/service-key.resolver.ts; docs/API.md#service-keys).
 */
export const ServiceScope = {
  SESSIONS_READ: "sessions:read",
  SESSIONS_REVOKE: "sessions:revoke",
  SESSIONS_STREAM: "sessions:stream",
  /** Reserved for the security-events feed; no field needs it yet. */
  EVENTS_READ: "events:read",
} as const;
export type ServiceScope = (typeof ServiceScope)[keyof typeof ServiceScope];

export const SERVICE_SCOPES: readonly ServiceScope[] = Object.values(ServiceScope);

export function isServiceScope(value: string): value is ServiceScope {
  return (SERVICE_SCOPES as readonly string[]).includes(value);
}

/** The GraphQL names of the scopes (an enum's values cannot hold a colon). */
export const ServiceScopeName = {
  SESSIONS_READ: "SESSIONS_READ",
  SESSIONS_REVOKE: "SESSIONS_REVOKE",
  SESSIONS_STREAM: "SESSIONS_STREAM",
  EVENTS_READ: "EVENTS_READ",
} as const;
export type ServiceScopeName = keyof typeof ServiceScope;

registerEnumType(ServiceScopeName, {
  name: "ServiceScope",
  description: "What a service key may reach.",
  valuesConfig: {
    SESSIONS_READ: { description: "sessions:read: read any user's sessions." },
    SESSIONS_REVOKE: { description: "sessions:revoke: end any user's sessions." },
    SESSIONS_STREAM: { description: "sessions:stream: open the revocation stream (verifiers)." },
    EVENTS_READ: { description: "events:read: read the session and account events feed (serviceEvents)." },
  },
});

export function scopeName(scope: ServiceScope): ServiceScopeName {
  return (Object.keys(ServiceScope) as ServiceScopeName[]).find((name) => ServiceScope[name] === scope)!;
}

export function hashSecret(secret: string): Buffer {
  return createHash("sha256").update(secret).digest();
}

/** A new key: the text handed out once, and what is stored of it. */
export function newServiceKey(): { key: string; prefix: string; secretHash: Buffer } {
  const prefix = randomBytes(6).toString("hex");
  const secret = randomBytes(32).toString("base64url");
  return { key: `sak_${prefix}_${secret}`, prefix, secretHash: hashSecret(secret) };
}

/** The prefix and secret of a key as sent, or null if it is not shaped like one. */
export function parseServiceKey(text: string): { prefix: string; secret: string } | null {
  const match = KEY.exec(text);
  return match ? { prefix: match[1], secret: match[2] } : null;
}
