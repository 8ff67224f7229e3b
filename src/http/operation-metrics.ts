import type { ApolloServerPlugin, GraphQLRequestListener } from "@apollo/server";
import { Kind } from "graphql";
import type { GraphQLContext } from "../graphql/context";
import type { Metrics } from "../metrics/metrics";

/** The operation types an HTTP request is counted under; `none` for what never reached GraphQL. */
export type OperationLabel = "query" | "mutation" | "subscription" | "none";

/**
 * The HTTP API's metrics: every request by operation type and status, with its duration, and
 * the outcomes of the credential mutations (logins, failed logins by reason, registrations,
 * refreshes, refresh-token reuse), read from the response so the services stay untouched.
 */
export function httpMetrics(metrics: Metrics) {
  const requests = metrics.histogram<"operation" | "status">({
    name: "http_request_duration_seconds",
    help: "HTTP requests by GraphQL operation type (none: refused before GraphQL, health checks) and status, from arrival to the answer's end.",
    labelNames: ["operation", "status"],
  });
  const logins = metrics.counter({ name: "logins_total", help: "Successful logins (a new session)." });
  const loginFailures = metrics.counter<"reason">({
    name: "login_failures_total",
    help: "Refused logins, by reason (INVALID_CREDENTIALS, RATE_LIMITED, BAD_USER_INPUT, SERVICE_UNAVAILABLE, ...).",
    labelNames: ["reason"],
  });
  const registrations = metrics.counter({ name: "registrations_total", help: "Accounts created." });
  const refreshes = metrics.counter({
    name: "session_refreshes_total",
    help: "Successful refreshSession calls (a rotated refresh token).",
  });
  const refreshFailures = metrics.counter<"reason">({
    name: "session_refresh_failures_total",
    help: "Refused refreshSession calls, by reason (REFRESH_TOKEN_ROTATED, REFRESH_TOKEN_INVALID, SESSION_EXPIRED, ...).",
    labelNames: ["reason"],
  });
  const reuse = metrics.counter({
    name: "refresh_token_reuse_total",
    help: "Spent refresh tokens replayed after the grace period: each ended its session as stolen.",
  });

  const outcomes: Record<string, (ok: boolean, reason: string) => void> = {
    login: (ok, reason) => (ok ? logins.inc() : loginFailures.inc({ reason })),
    register: (ok) => ok && registrations.inc(),
    refreshSession: (ok, reason) => {
      if (ok) return refreshes.inc();
      refreshFailures.inc({ reason });
      if (reason === "REFRESH_TOKEN_REUSE") reuse.inc();
    },
  };

  const listener: GraphQLRequestListener<GraphQLContext> = {
    async willSendResponse({ operation, response, contextValue }) {
      if (!operation) return;
      contextValue.response.operationType = operation.operation;
      if (operation.operation !== "mutation" || response.body.kind !== "single") return;
      const { data, errors } = response.body.singleResult;
      for (const selection of operation.selectionSet.selections) {
        if (selection.kind !== Kind.FIELD) continue;
        const count = outcomes[selection.name.value];
        if (!count) continue;
        const key = selection.alias?.value ?? selection.name.value;
        if (data?.[key] != null) {
          count(true, "");
          continue;
        }
        const error = errors?.find((e) => e.path?.[0] === key) ?? errors?.[0];
        const extensions = error?.extensions ?? {};
        count(false, String(extensions.reason ?? extensions.code ?? "UNKNOWN"));
      }
    },
  };
  const plugin: ApolloServerPlugin<GraphQLContext> = {
    async requestDidStart() {
      return listener;
    },
  };
  return {
    plugin,
    observe(operation: OperationLabel, status: number, seconds: number) {
      requests.observe({ operation, status: String(status) }, seconds);
    },
  };
}
