import type { Server } from "node:http";
import { STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import { type ErrorCode, transportError } from "../errors/error-codes";

/**
 * Requests Node's HTTP parser refuses before any handler sees them (malformed, headers too
 * large, too slow) are answered with JSON from the catalog, not Node's bare `400 Bad Request`
 * with no code.
 */
export function answerClientErrors(server: Server): void {
  server.on("clientError", (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (error.code === "ECONNRESET" || !socket.writable) return void socket.destroy();
    const code: ErrorCode =
      error.code === "HPE_HEADER_OVERFLOW"
        ? "REQUEST_HEADERS_TOO_LARGE"
        : error.code === "ERR_HTTP_REQUEST_TIMEOUT"
          ? "REQUEST_TIMEOUT"
          : "BAD_REQUEST";
    const answer = transportError(code, code === "BAD_REQUEST" ? "Malformed HTTP request." : undefined);
    const { status } = answer;
    const body = JSON.stringify(answer.body);
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nconnection: close\r\ncontent-type: application/json; charset=utf-8\r\n` +
        `cache-control: no-store\r\nx-content-type-options: nosniff\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  });
}
