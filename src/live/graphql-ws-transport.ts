import type { IncomingMessage } from "node:http";
import { handleProtocols, MessageType, parseMessage, type Server } from "graphql-ws";
import type { WebSocket, WebSocketServer } from "ws";
import { CloseCode } from "../errors/close-codes";
import type { LogBudget } from "../lib/log-budget";
import type { Logger } from "../lib/logger";
import { REQUEST_ID_HEADER, requestIdFrom, withRequestId } from "../lib/request-scope";

/** What graphql-ws's callbacks get as `ctx.extra`. */
export interface SocketExtra {
  readonly socket: WebSocket;
  readonly request: IncomingMessage;
}

export interface TransportOptions {
  logger: Logger;
  /** The global budget of client-caused warnings: any client can send a bad frame at will. */
  warnings: LogBudget;
  isProduction: boolean;
  /** A ping this often; a socket that has not answered the last one by the next is dropped. */
  keepAliveMs: number;
}

/**
 * Above this many bytes waiting to be written to a socket, a send waits for its write to
 * finish, and so does that subscription's next event (graphql-ws awaits `send`): backpressure
 * for a client that stops reading.
 */
const HIGH_WATER_BYTES = 64 * 1024;

/**
 * graphql-ws's protocol server (`makeServer`) bound to `ws`, as graphql-ws's own `useServer`
 * binds it, with two differences.
 *
 * Writes are batched. `useServer` waits for every message's write to finish before the next,
 * so a burst went out as one write (a syscall and a TCP segment) per message: when
 * logoutAllDevices ended 99 sessions, a tab that stayed signed in took 99 writes, and each
 * ended tab two (its event, then the close frame). Here `send` returns at once unless the
 * socket is backed up, and the socket is corked until the queued microtasks have run, so each
 * socket's share of a burst leaves in one write (see `npm run bench:live` for the effect).
 *
 * Errors are logged through the service's logger rather than `console.error`.
 */
export function serveGraphqlWs<E extends SocketExtra>(
  wss: WebSocketServer,
  server: Server<E>,
  options: TransportOptions,
): { dispose(): Promise<void> } {
  const { logger, isProduction } = options;
  // A close reason may hold at most 123 bytes (RFC 6455); the message, in development only.
  const closeReason = (error: unknown) => {
    const message = String(error instanceof Error ? error.message : error);
    return isProduction || Buffer.byteLength(message) > 123 ? "Internal server error" : message;
  };
  wss.options.handleProtocols = handleProtocols;
  wss.on("error", (error) => logger.error({ err: error }, "WebSocket server error"));
  // A connection's id, as an HTTP request's: the upgrade's valid x-request-id or a new one,
  // sent back in the 101 answer and carried by every log line about the socket.
  const ids = new WeakMap<IncomingMessage, string>();
  const idOf = (request: IncomingMessage) => {
    let id = ids.get(request);
    if (id === undefined) ids.set(request, (id = requestIdFrom(request.headers[REQUEST_ID_HEADER])));
    return id;
  };
  wss.on("headers", (headers, request) => headers.push(`${REQUEST_ID_HEADER}: ${idOf(request)}`));

  wss.on("connection", (socket: WebSocket, request: IncomingMessage) =>
    withRequestId(idOf(request), () => connected(socket, request)),
  );

  function connected(socket: WebSocket, request: IncomingMessage) {
    const requestId = idOf(request);
    // ws writes to the very socket the upgrade came on.
    const raw = request.socket;
    let corked = false;
    const uncork = () => {
      corked = false;
      raw.uncork();
    };

    socket.on("error", (error) => {
      // ws reports a frame over maxPayload this way (and closes with 1009 itself).
      withRequestId(requestId, () => options.warnings.warn({ err: error }, "WebSocket error"));
      if (socket.readyState === socket.OPEN) socket.close(CloseCode.InternalServerError, closeReason(error));
    });

    let awaitingPong = false;
    const keepAlive = setInterval(() => {
      if (socket.readyState !== socket.OPEN) return;
      if (awaitingPong) return socket.terminate();
      awaitingPong = true;
      socket.ping();
    }, options.keepAliveMs);
    socket.on("pong", () => (awaitingPong = false));

    const closed = server.opened(
      {
        protocol: socket.protocol,
        send(data) {
          if (socket.readyState !== socket.OPEN) return;
          if (!corked) {
            corked = true;
            raw.cork();
            // After the microtasks now queued: every event of this burst, and a close frame.
            process.nextTick(uncork);
          }
          if (socket.bufferedAmount < HIGH_WATER_BYTES) return void socket.send(data);
          return new Promise<void>((resolve, reject) => socket.send(data, (error) => (error ? reject(error) : resolve())));
        },
        close: (code, reason) => socket.close(code, reason),
        onMessage: (handle) =>
          // Socket events run outside the connection's scope: each message re-enters it.
          socket.on("message", (data) =>
            withRequestId(requestId, async () => {
              const text = String(data);
              if (isServerMessage(text)) return socket.close(CloseCode.BadRequest, "Invalid message received");
              try {
                await handle(text);
              } catch (error) {
                logger.error({ err: error }, "graphql-ws message handling failed");
                socket.close(CloseCode.InternalServerError, closeReason(error));
              }
            }),
          ),
      },
      // E only adds what graphql-ws's callbacks store on it later.
      { socket, request } as E,
    );

    socket.once("close", (code, reason) => {
      clearInterval(keepAlive);
      void withRequestId(requestId, () => closed(code, String(reason)));
    });
  }

  return {
    async dispose() {
      for (const client of wss.clients) client.close(CloseCode.GoingAway, "Going away");
      wss.removeAllListeners();
      await new Promise<void>((resolve, reject) => wss.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

/**
 * A well-formed message only a server sends (`connection_ack`, `next`, `error`): graphql-ws's
 * server throws on it, which would close the socket 4500; it is a protocol violation, 4400, as
 * graphql-ws closes any other message it cannot accept. (Messages are parsed twice; a client
 * sends a handful per connection.)
 */
function isServerMessage(text: string): boolean {
  let type: string;
  try {
    type = parseMessage(text).type;
  } catch {
    return false; // graphql-ws answers a malformed message with 4400 itself
  }
  return type === MessageType.ConnectionAck || type === MessageType.Next || type === MessageType.Error;
}
