/** An access token as this client holds it: in memory only, with local deadlines. */
export interface AccessToken {
  readonly value: string;
  readonly sessionId: string;
  /** Local time (ms) after which the server may refuse it. */
  readonly expiresAt: number;
  /** Local time (ms) from which getAccessToken() refreshes it first. */
  readonly refreshAt: number;
}

function jwtLifetimeMs(token: string): number | undefined {
  try {
    const part = token.split(".")[1];
    if (!part) return undefined;
    const json = atob(part.replace(/-/g, "+").replace(/_/g, "/"));
    const claims = JSON.parse(json) as { iat?: unknown; exp?: unknown };
    if (typeof claims.iat === "number" && typeof claims.exp === "number" && claims.exp > claims.iat) {
      return (claims.exp - claims.iat) * 1000;
    }
  } catch {
    // Not a JWT we can read: fall back to the server's expiry time.
  }
  return undefined;
}

/**
 * Deadlines are measured from when the token arrived, using its lifetime (`exp - iat`), so a
 * device clock that is minutes off changes nothing. `iat` is whole seconds, so the token may
 * be up to a second older than it says: a second is taken off. Refreshing starts a fifth of
 * the lifetime (at most a minute) before that.
 */
export function accessToken(value: string, sessionId: string, serverExpiresAt: string, receivedAt = Date.now()): AccessToken {
  const lifetime = jwtLifetimeMs(value) ?? Math.max(0, Date.parse(serverExpiresAt) - receivedAt);
  const expiresAt = receivedAt + Math.max(0, lifetime - 1000);
  const refreshAt = expiresAt - Math.min(60_000, lifetime / 5);
  return { value, sessionId, expiresAt, refreshAt };
}

export function needsRefresh(token: AccessToken, now = Date.now()): boolean {
  return now >= token.refreshAt;
}

export function isExpired(token: AccessToken, now = Date.now()): boolean {
  return now >= token.expiresAt;
}
