import type { IncomingMessage, ServerResponse } from "node:http";

/** What /readyz asks of the running server. */
export interface ReadinessChecks {
  /** Resolves once the database has answered a query; rejects (or hangs) when it cannot. */
  database(): Promise<unknown>;
  /** Whether the revocation listener is connected and caught up (see RevocationFanout.connected). */
  revocationListener(): boolean;
  /** The outbox's size and its oldest event not yet delivered to every webhook (detail only: it never makes the instance unready). */
  outbox?(): Promise<{ events: number; oldestUndeliveredSeconds: number | null }>;
}

export const HEALTH_PATHS: ReadonlySet<string> = new Set(["/healthz", "/readyz"]);

/** A database that has not answered in this long counts as down: a probe must not hang. */
export const READY_TIMEOUT_MS = 2000;

async function answers(check: () => Promise<unknown>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), READY_TIMEOUT_MS).unref();
  });
  try {
    return await Promise.race([check().then(() => true), timeout]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/** What `read` answers within READY_TIMEOUT_MS, or undefined. */
async function within<T>(read: Promise<T>): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), READY_TIMEOUT_MS).unref();
  });
  try {
    return await Promise.race([read, timeout]);
  } catch {
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The probes for load balancers and orchestrators, JSON and never cached:
 * - `GET /healthz`: 200 while the process answers (liveness: restart it if this fails);
 * - `GET /readyz`: 200 when the database answers within READY_TIMEOUT_MS and the revocation
 *   listener is connected, else 503 naming what is not (readiness: send it no traffic, since
 *   without either it refuses signed-in requests rather than risk serving a revoked session).
 * HEAD answers the same status without a body; other methods get 405.
 */
export async function answerHealth(
  path: string,
  req: IncomingMessage,
  res: ServerResponse,
  checks: ReadinessChecks,
): Promise<void> {
  const headers = { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" };
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.writeHead(405, { ...headers, allow: "GET, HEAD" });
    res.end(JSON.stringify({ status: "method not allowed" }));
    return;
  }
  let status = 200;
  let body: unknown = { status: "ok" };
  if (path === "/readyz") {
    const database = await answers(checks.database);
    const revocationListener = checks.revocationListener();
    status = database && revocationListener ? 200 : 503;
    const outbox = database && checks.outbox ? await within(checks.outbox()) : undefined;
    body = {
      status: status === 200 ? "ready" : "unavailable",
      checks: { database: database ? "ok" : "unreachable", revocationListener: revocationListener ? "ok" : "disconnected" },
      ...(outbox ? { detail: { outbox } } : {}),
    };
  }
  res.writeHead(status, headers);
  res.end(req.method === "HEAD" ? undefined : JSON.stringify(body));
}
