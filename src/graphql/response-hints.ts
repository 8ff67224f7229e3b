/**
 * What resolvers want added to the HTTP response, without touching HTTP objects: made per
 * request by the transport, filled by resolvers, written by src/http/server.ts. Over a
 * WebSocket nobody writes it, which is right: a socket has no cookies to set.
 */
export class ResponseHints {
  /** The refresh token to store in the browser's cookie, or `null` to clear the cookie. */
  refreshCookie: { token: string; maxAgeSeconds: number } | null | undefined = undefined;

  setRefreshCookie(token: string, maxAgeSeconds: number): void {
    this.refreshCookie = { token, maxAgeSeconds: Math.max(0, Math.floor(maxAgeSeconds)) };
  }

  clearRefreshCookie(): void {
    this.refreshCookie = null;
  }
}
