import type { UnauthenticatedReason } from "./error-codes";

/**
 * The one catalog of WebSocket close codes this server sends, beside the error codes: every
 * code a client can see, whether we close the socket or graphql-ws or ws does it for us. The
 * 44xx names are graphql-ws's own (`CloseCode` in graphql-ws), so a client can compare with
 * either. What a client should do on each is in docs/API.md ("Close codes").
 */
export const CloseCode = {
  /** The server is shutting down or restarting (sent by us). Reconnect, with a current token. */
  GoingAway: 1001,
  /** A malformed WebSocket frame: bad opcode, reserved bits, an unmasked client frame (sent by ws). */
  ProtocolError: 1002,
  /** A text frame that is not valid UTF-8 (sent by ws). */
  InvalidFramePayloadData: 1007,
  /** A frame larger than the server accepts (sent by ws); the library does not retry it. */
  MessageTooBig: 1009,
  /** The session could not be checked (the database is unreachable; sent by us). Reconnect later. */
  TryAgainLater: 1013,
  /**
   * A new socket past a cap (sent by us), the reason one of `TooManyConnectionsReason`. The
   * sockets already open are kept: none is evicted to make room. Retry later, with backoff.
   */
  TooManyConnections: 4029,
  /** A message that is not valid graphql-transport-ws (sent by graphql-ws). */
  BadRequest: 4400,
  /** `subscribe` before the connection was acknowledged (sent by graphql-ws). */
  Unauthorized: 4401,
  /**
   * The credential was refused or the session ended (sent by us); the reason is one of
   * `ForbiddenCloseReason`. Do not reconnect with the same token.
   */
  Forbidden: 4403,
  /** The client did not ask for the `graphql-transport-ws` subprotocol (sent by graphql-ws). */
  SubprotocolNotAcceptable: 4406,
  /** No `connection_init` within WS_CONNECTION_INIT_TIMEOUT (sent by graphql-ws). */
  ConnectionInitialisationTimeout: 4408,
  /** A `subscribe` reused the id of a running subscription (sent by graphql-ws). */
  SubscriberAlreadyExists: 4409,
  /** A second `connection_init` on one socket (sent by graphql-ws). */
  TooManyInitialisationRequests: 4429,
  /** An unexpected server error; the reason says more only outside production. */
  InternalServerError: 4500,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/**
 * The reason sent with 4029: which cap the new socket would have passed. `IP_LIMIT` and
 * `SERVER_LIMIT` are checked when the socket opens, the others at `connection_init`, once the
 * session is known.
 */
export type TooManyConnectionsReason = "SESSION_LIMIT" | "USER_LIMIT" | "IP_LIMIT" | "SERVER_LIMIT";

/**
 * The reason sent with 4403, one per situation, the same whether the socket is refused at
 * `connection_init` or `subscribe` or closed after its session ended while it was open (then
 * after the `sessionRevoked` event with `current: true`). These are the context builder's
 * UNAUTHENTICATED reasons for an access token, so HTTP and WebSocket say the same thing.
 */
export type ForbiddenCloseReason = Extract<
  UnauthenticatedReason,
  "TOKEN_MISSING" | "TOKEN_INVALID" | "TOKEN_EXPIRED" | "SESSION_NOT_FOUND" | "SESSION_REVOKED" | "SESSION_EXPIRED"
>;

const FORBIDDEN_CLOSE_REASONS: ReadonlySet<string> = new Set<ForbiddenCloseReason>([
  "TOKEN_MISSING",
  "TOKEN_INVALID",
  "TOKEN_EXPIRED",
  "SESSION_NOT_FOUND",
  "SESSION_REVOKED",
  "SESSION_EXPIRED",
]);

/** The 4403 reason for a refusal's UNAUTHENTICATED reason; anything unexpected reads as TOKEN_INVALID. */
export function forbiddenCloseReason(reason: unknown): ForbiddenCloseReason {
  return typeof reason === "string" && FORBIDDEN_CLOSE_REASONS.has(reason) ? (reason as ForbiddenCloseReason) : "TOKEN_INVALID";
}
