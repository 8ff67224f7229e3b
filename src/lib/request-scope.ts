import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";

/**
 * The id of the HTTP request or WebSocket connection this code runs for, so that every log
 * line written on its behalf (by the logger's mixin, lib/logger.ts) and the errors a user may
 * report (`extensions.requestId`) carry it without each function taking a logger argument.
 */
const scope = new AsyncLocalStorage<string>();

export const REQUEST_ID_HEADER = "x-request-id";

/**
 * A client's (or a proxy's) id is kept when it looks like one: up to 128 characters of
 * letters, digits and `-_.:+/=@` (UUIDs, W3C trace ids, ULIDs, base64). Anything else (spaces,
 * quotes, control characters a log viewer might render) is replaced by a new UUID.
 */
const VALID_ID = /^[A-Za-z0-9._:+/=@-]{1,128}$/;

export function requestIdFrom(header: string | string[] | undefined): string {
  const given = Array.isArray(header) ? header[0] : header;
  return given !== undefined && VALID_ID.test(given) ? given : randomUUID();
}

/** Runs `fn` (and everything it awaits or schedules) as the work of request `id`. */
export function withRequestId<T>(id: string, fn: () => T): T {
  return scope.run(id, fn);
}

/** The id of the request being served here, if any. */
export function currentRequestId(): string | undefined {
  return scope.getStore();
}
