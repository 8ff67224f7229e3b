import type { RefusalReason, SessionVerifier } from "@session-api/backend";
import type { ConnectionInitMessage, Context, ServerOptions } from "graphql-ws";
import type { Extra } from "graphql-ws/use/ws";
import type { WebSocket } from "ws";

/**
 * The session API closes a socket whose session ended, or whose access token expired, and
 * refuses one whose credential is no good, each with 4403 and the reason. Behind the gateway
 * it can do that only to the gateway's upstream socket; the client's socket is the gateway's.
 * So the gateway keeps the same rules on its own sockets, with `@session-api/backend`:
 *
 * - at `connection_init` the credential is checked (4403 with the API's reason, or 1013 when
 *   it could not be checked), so a revoked device is refused here, not left with a silent
 *   subscription;
 * - the `sessionRevoked` event with `current: true` is passed on, then the socket closes
 *   (4403 SESSION_REVOKED), as the API does after sending it;
 * - a session ended by any other path (the revocation stream, which a revoking call waits for)
 *   closes its sockets a moment later, leaving the event time to pass through first;
 * - the socket closes 4403 TOKEN_EXPIRED when its access token expires, so the client
 *   reconnects with a fresh one, as it would with us.
 */
const FORBIDDEN = 4403;
const TRY_AGAIN_LATER = 1013;
/** How long an ended session's socket stays open for the event, which travels the upstream socket. */
const EVENT_GRACE_MS = 1000;

export interface GatewaySocketExtra extends Extra {
  session?: { sessionId: string; expiry: NodeJS.Timeout };
}

export function sessionSocketRules(sessions: SessionVerifier): Pick<
  ServerOptions<ConnectionInitMessage["payload"], GatewaySocketExtra>,
  "onConnect" | "onNext" | "onClose"
> & {
  dispose(): void;
} {
  const bySession = new Map<string, Set<WebSocket>>();
  const stopListening = sessions.onRevoked(({ sessionId }) => {
    const sockets = bySession.get(sessionId);
    if (!sockets) return;
    setTimeout(() => {
      for (const socket of sockets) socket.close(FORBIDDEN, "SESSION_REVOKED");
    }, EVENT_GRACE_MS).unref();
  });

  const forget = (ctx: Context<ConnectionInitMessage["payload"], GatewaySocketExtra>) => {
    const session = ctx.extra.session;
    if (!session) return;
    clearTimeout(session.expiry);
    const sockets = bySession.get(session.sessionId);
    sockets?.delete(ctx.extra.socket);
    if (sockets?.size === 0) bySession.delete(session.sessionId);
  };

  return {
    async onConnect(ctx) {
      const authorization = ctx.connectionParams?.authorization;
      const check = await sessions.verifyAuthorization(typeof authorization === "string" ? authorization : undefined);
      const { socket } = ctx.extra;
      if (!check.ok) {
        closeRefused(socket, check.reason);
        return false;
      }
      const expiry = setTimeout(() => socket.close(FORBIDDEN, "TOKEN_EXPIRED"), tokenLifeLeft(authorization as string));
      expiry.unref();
      ctx.extra.session = { sessionId: check.sessionId, expiry };
      const sockets = bySession.get(check.sessionId) ?? new Set();
      bySession.set(check.sessionId, sockets.add(socket));
      return true;
    },
    onNext(ctx, _id, _payload, _args, result) {
      const event = (result as { data?: { sessionRevoked?: { current?: boolean } | null } }).data?.sessionRevoked;
      // After this message is sent (the send follows onNext), as the API closes after its event.
      if (event?.current) setTimeout(() => ctx.extra.socket.close(FORBIDDEN, "SESSION_REVOKED"), 0);
    },
    onClose: forget,
    dispose: stopListening,
  };
}

function closeRefused(socket: WebSocket, reason: RefusalReason) {
  if (reason === "SERVICE_UNAVAILABLE") socket.close(TRY_AGAIN_LATER, "Service unavailable");
  else socket.close(FORBIDDEN, reason);
}

/**
 * Milliseconds until the (already verified) token's `exp`. Read from the payload without a
 * second signature check: the verifier has just checked it.
 */
function tokenLifeLeft(authorization: string): number {
  const payload = authorization.replace(/^Bearer\s+/i, "").split(".")[1] ?? "";
  const { exp } = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as { exp: number };
  return Math.min(Math.max(0, exp * 1000 - Date.now()), 2 ** 31 - 1); // a timer's longest wait
}
