import type { IncomingMessage, ServerResponse } from "node:http";
import { ErrorCode, SERVICE_UNAVAILABLE_RETRY_AFTER, transportError } from "../errors/error-codes";
import type { Logger } from "../lib/logger";
import { isUuid } from "../lib/uuid";
import { ServiceScope } from "../service-keys/service-key";
import type { ServiceKeyService } from "../service-keys/service-key.service";
import type { StreamEvent, VerifierLeases } from "../sessions/revocation/verifier-leases";
import type { SessionLookup } from "../sessions/session.service";
import { BodyTooLargeError, readBody } from "./read-body";

/**
 * The session verifiers' routes (`@session-api/backend`), for service keys only:
 *
 * - `GET /sessions/stream`: the revocation stream, as server-sent events (`hello`, `revoked`,
 *   `renewed`, `reset`; see verifier-leases.ts). Scope `sessions:stream`.
 * - `POST /sessions/stream/<id>` `{ "ack"?: seq, "renew"?: n, "leave"?: true }`: the verifier's
 *   acknowledgements, lease renewals and goodbye. 404 when the stream is not held by this
 *   instance: the verifier reconnects (its url must reach the instance that holds its stream,
 *   one instance's address or a sticky route).
 * - `POST /sessions/lookup` `{ "sessionIds": [...] }` (at most 500): sessions a verifier has not
 *   seen, in one read. Scope `sessions:stream`.
 *
 * Why server-sent events rather than a graphql-ws subscription: the stream is one way, server
 * to server; SSE is plain HTTP that any proxy and load balancer passes, needs no GraphQL
 * machinery on the verifier (the package's only dependency is jose), and its text frames are
 * trivially ordered with the acknowledgements that follow them. The verifier's few messages
 * back (one renewal per quarter lease, acknowledgements) are small POSTs.
 */

export const VERIFIER_PATHS = { stream: "/sessions/stream", lookup: "/sessions/lookup" } as const;
export const STREAM_SCOPE = ServiceScope.SESSIONS_STREAM;
const MAX_LOOKUP = 500;
const MAX_BODY = 64 * 1024;

export interface VerifierRoutesDeps {
  leases: VerifierLeases;
  lookup(ids: readonly string[]): Promise<SessionLookup[]>;
  serviceKeys: Pick<ServiceKeyService, "authenticate">;
  logger: Logger;
}

/** A refusal with its catalog code and extensions, in the shape of a GraphQL error response. */
function refuseWith(
  res: ServerResponse,
  code: "UNAUTHENTICATED" | "FORBIDDEN" | "RATE_LIMITED" | "SERVICE_UNAVAILABLE",
  extensions: Record<string, unknown> = {},
  headers: Record<string, string> = {},
  message: string = ErrorCode[code].message,
) {
  res.writeHead(ErrorCode[code].status, { "content-type": "application/json; charset=utf-8", ...headers });
  res.end(JSON.stringify({ errors: [{ message, extensions: { code, ...extensions } }] }));
}

function send(res: ServerResponse, status: number, body?: unknown) {
  if (body === undefined) {
    res.writeHead(status);
    res.end();
    return;
  }
  res.writeHead(status, { "content-type": "application/json; charset=utf-8" });
  res.end(JSON.stringify(body));
}

function refuse(res: ServerResponse, code: ErrorCode, message?: string) {
  const { status, body } = transportError(code, message);
  send(res, status, body);
}

function frame(event: StreamEvent): string {
  switch (event.type) {
    case "hello":
      return `event: hello\ndata: ${JSON.stringify({ stream: event.stream, leaseMs: event.leaseMs, seq: event.seq })}\n\n`;
    case "revoked":
      return `event: revoked\ndata: ${JSON.stringify(event.data)}\n\n`;
    case "renewed":
      return `event: renewed\ndata: ${JSON.stringify({ renewal: event.renewal })}\n\n`;
    case "reset":
      return "event: reset\ndata: {}\n\n";
  }
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown> | null> {
  try {
    const parsed: unknown = JSON.parse(await readBody(req, MAX_BODY));
    return parsed && typeof parsed === "object" && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : null;
  } catch (error) {
    if (error instanceof BodyTooLargeError) throw error;
    return null;
  }
}

export function verifierRoutes(deps: VerifierRoutesDeps) {
  const open = new Set<ServerResponse>();

  /** Answers the request if its path is one of these routes; false otherwise. */
  async function handle(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<boolean> {
    const isStream = pathname === VERIFIER_PATHS.stream;
    const streamPost = pathname.startsWith(`${VERIFIER_PATHS.stream}/`);
    if (!isStream && !streamPost && pathname !== VERIFIER_PATHS.lookup) return false;
    // The stream's own messages (acknowledgements, renewals) are its protocol, a few a second
    // at most, bounded by the verifier: they are checked (a revoked key is refused at once) but
    // not throttled, so a busy backend's lookups cannot cost it its lease.
    const prefix = await authorize(req, res, { throttle: !streamPost });
    if (prefix === null) return true;
    if (!streamPost)
      deps.logger.info({ serviceKey: prefix, path: pathname, ip: req.socket.remoteAddress }, "service key request");
    if (isStream) {
      if (req.method !== "GET") refuse(res, "BAD_REQUEST", "Open the stream with GET.");
      else openStream(req, res);
      return true;
    }
    if (req.method !== "POST") {
      req.resume();
      refuse(res, "BAD_REQUEST", "Use POST.");
      return true;
    }
    let body: Record<string, unknown> | null;
    try {
      body = await readJson(req);
    } catch {
      refuse(res, "PAYLOAD_TOO_LARGE");
      return true;
    }
    if (!body) {
      refuse(res, "BAD_REQUEST", "Request body is not a JSON object.");
      return true;
    }
    if (streamPost) streamMessage(res, pathname.slice(VERIFIER_PATHS.stream.length + 1), body);
    else await lookup(res, body);
    return true;
  }

  /** The key's prefix if the request carries a live service key with the stream scope; otherwise answered, and null. */
  async function authorize(req: IncomingMessage, res: ServerResponse, options: { throttle: boolean }): Promise<string | null> {
    const header = req.headers.authorization;
    const key = header && header.length <= 512 ? /^ApiKey ([^\s]+)$/i.exec(header)?.[1] : undefined;
    const refused = (...args: Parameters<typeof refuseWith> extends [unknown, ...infer R] ? R : never) => {
      req.resume();
      refuseWith(res, ...args);
      return null;
    };
    if (!key) return refused("UNAUTHENTICATED", { reason: "SERVICE_KEY_INVALID" });
    let check: Awaited<ReturnType<ServiceKeyService["authenticate"]>>;
    try {
      check = await deps.serviceKeys.authenticate(key, options);
    } catch {
      return refused("SERVICE_UNAVAILABLE", {}, { "retry-after": String(SERVICE_UNAVAILABLE_RETRY_AFTER) });
    }
    if (!check.ok) {
      deps.logger.info({ reason: check.reason, ip: req.socket.remoteAddress }, "refused service key");
      if (check.reason === "RATE_LIMITED") {
        const retryAfter = Math.max(1, Math.ceil(check.retryAfterSeconds));
        return refused("RATE_LIMITED", { retryAfter }, { "retry-after": String(retryAfter) });
      }
      return refused("UNAUTHENTICATED", { reason: check.reason });
    }
    if (!check.service.scopes.has(STREAM_SCOPE)) {
      return refused(
        "FORBIDDEN",
        { reason: "SCOPE_MISSING", scope: STREAM_SCOPE },
        {},
        "This service key lacks the scope this needs.",
      );
    }
    return check.service.prefix;
  }

  function openStream(req: IncomingMessage, res: ServerResponse) {
    // A stream lives as long as its verifier: no idle timeout cuts it.
    req.socket.setTimeout(0);
    req.socket.setNoDelay(true);
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      "x-accel-buffering": "no",
    });
    open.add(res);
    const id = deps.leases.open((event) => res.write(frame(event)));
    res.on("close", () => {
      open.delete(res);
      deps.leases.closed(id);
    });
  }

  function streamMessage(res: ServerResponse, id: string, body: Record<string, unknown>) {
    const { ack, renew, leave } = body;
    if (!isUuid(id)) return refuse(res, "NOT_FOUND");
    if (leave === true) {
      deps.leases.left(id);
      return send(res, 204);
    }
    let known = true;
    if (typeof ack === "number" && Number.isSafeInteger(ack)) known = deps.leases.acknowledged(id, ack);
    if (known && typeof renew === "number" && Number.isSafeInteger(renew)) known = deps.leases.renew(id, renew);
    if (!known) return refuse(res, "NOT_FOUND", "No such stream on this instance.");
    send(res, 204);
  }

  async function lookup(res: ServerResponse, body: Record<string, unknown>) {
    const ids = body.sessionIds;
    if (
      !Array.isArray(ids) ||
      ids.length === 0 ||
      ids.length > MAX_LOOKUP ||
      !ids.every((id) => typeof id === "string" && isUuid(id))
    ) {
      return refuse(res, "BAD_REQUEST", `sessionIds must be 1 to ${MAX_LOOKUP} session ids.`);
    }
    send(res, 200, { sessions: await deps.lookup(ids as string[]) });
  }

  /** Ends every stream (shutdown): the verifiers reconnect, to this or another instance. */
  function closeAll() {
    for (const res of open) res.end();
  }

  return { handle, closeAll };
}
