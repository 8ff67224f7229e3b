/** How far a request got, which the HTTP status reports (see src/http/response-status.ts). */
export type Outcome = "malformed" | "refused" | "failed" | "executed";

/**
 * What resolvers want added to the HTTP response, without touching HTTP objects: made per
 * request by the transport, filled by resolvers, written by src/http/server.ts. Over a
 * WebSocket nobody writes it, which is right: a socket has no cookies to set.
 */
export class ResponseHints {
  /**
   * The refresh token to store in the browser's cookie, or `null` to clear the cookie;
   * `maxAgeSeconds: null` for a cookie that dies with the browser.
   */
  refreshCookie: { token: string; maxAgeSeconds: number | null } | null | undefined = undefined;

  /** The device id to (re)store in the browser's long-lived device cookie. */
  deviceCookie: string | undefined = undefined;

  /** Set by the transport's plugin once the response is known; unset if Apollo refused the request first. */
  outcome: Outcome | undefined = undefined;

  /** The operation's type once Apollo resolved it (for the request metrics). */
  operationType: "query" | "mutation" | "subscription" | undefined = undefined;

  /** For a `failed` outcome: the catalog status of its errors (the highest, when several). */
  failedStatus: number | undefined = undefined;

  setRefreshCookie(token: string, maxAgeSeconds: number | null): void {
    this.refreshCookie = { token, maxAgeSeconds: maxAgeSeconds === null ? null : Math.max(0, Math.floor(maxAgeSeconds)) };
  }

  setDeviceCookie(deviceId: string): void {
    this.deviceCookie = deviceId;
  }

  clearRefreshCookie(): void {
    this.refreshCookie = null;
  }
}
