import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { isUuid } from "../lib/uuid";

/**
 * Refresh tokens are `<sessionId>.<secret>`: the id finds the row without a scan, the secret
 * (256 random bits, base64url) proves possession. Only SHA-256 of the secret is stored.
 */
export function generateSecret(): { secret: string; hash: Buffer } {
  const secret = randomBytes(32).toString("base64url");
  return { secret, hash: hashSecret(secret) };
}

export function hashSecret(secret: string): Buffer {
  return createHash("sha256").update(secret).digest();
}

export function formatRefreshToken(sessionId: string, secret: string): string {
  return `${sessionId}.${secret}`;
}

export function parseRefreshToken(token: string): { sessionId: string; secret: string } | null {
  const dot = token.indexOf(".");
  if (dot < 0) return null;
  const sessionId = token.slice(0, dot);
  const secret = token.slice(dot + 1);
  if (!isUuid(sessionId) || !/^[A-Za-z0-9_-]{43}$/.test(secret)) return null;
  return { sessionId, secret };
}

/** Whether `token` has the shape of a refresh token (whatever it proves). */
export function isRefreshToken(token: string): boolean {
  return parseRefreshToken(token) !== null;
}

export function secretMatches(secret: string, hash: Buffer | null): boolean {
  if (!hash) return false;
  const candidate = hashSecret(secret);
  return candidate.length === hash.length && timingSafeEqual(candidate, hash);
}
