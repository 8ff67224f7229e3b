import type { Server } from "node:http";
import { GraphQLError, type GraphQLSchema, specifiedRules, validate } from "graphql";
import { makeServer } from "graphql-ws";
import { WebSocketServer } from "ws";
import type { Config } from "../config/environment";
import { CloseCode, forbiddenCloseReason } from "../errors/close-codes";
import type { ContextBuilder, GraphQLContext } from "../graphql/context";
import { documentRules } from "../graphql/document-policy";
import { asApolloFormatted, createErrorFormatter, UNKNOWN_OPERATION } from "../graphql/format-error";
import { validateBeforeSpecifiedRules } from "../graphql/subscription-root";
import type { ClientAddresses } from "../http/client-address";
import { requestActor } from "../http/request-actor";
import type { LogBudget } from "../lib/log-budget";
import type { Logger } from "../lib/logger";
import { isDevelopmentHost } from "../lib/loopback-host";
import type { SessionEntity } from "../sessions/session.entity";
import { connectionParam } from "./connection-params";
import { type SocketExtra, serveGraphqlWs } from "./graphql-ws-transport";
import type { LiveConnection, LiveConnections } from "./live-connections";
import { subscribeSharingResults } from "./shared-subscribe";
import { type OpenSocketCaps, openSocketCaps } from "./socket-caps";
import { subscribePayloadProblems } from "./subscribe-payload";
import { routeUpgrades } from "./upgrade-refusals";

interface SocketState extends SocketExtra {
  connection?: LiveConnection;
  /** Contexts built by onSubscribe, taken by `context` for the same operation id. */
  contexts?: Map<string, GraphQLContext>;
}

/** What the socket server is given: nothing of the services it does not use. */
export interface LiveServerDeps {
  logger: Logger;
  config: Pick<Config, "queryLimits" | "wsConnectionInitTimeout" | "wsKeepAliveInterval" | "isProduction" | "env">;
  /** Caps checked as a socket opens; the per-session and per-user ones live in `sockets`. */
  caps: OpenSocketCaps;
  /** The global budget of warnings a client can cause. */
  warnings: LogBudget;
  /** Who the client is by address (TRUST_PROXY), for the per-IP cap and the actor. */
  clients: ClientAddresses;
  /** This instance's socket registry. */
  sockets: LiveConnections;
  /** The HTTP path's context builder. */
  buildContext: ContextBuilder;
  /** When a session ends at the latest: its sockets' expiry timer. */
  sessionExpiresAt(session: SessionEntity): Date;
}

export interface LiveServer {
  /** Closes every socket with 1001 ("Going away") and stops accepting upgrades. */
  dispose(): Promise<void>;
}

/**
 * graphql-ws on the HTTP server's own port and path. Authentication is the HTTP path's:
 * `buildContext` with `connectionParams.authorization` (the key in any letter case, as an
 * HTTP header), at connection_init and again, with a fresh database read, at every subscribe.
 * A refused socket is closed with 4403 and the context builder's reason (see
 * errors/close-codes.ts); an expired token is refused whatever the operation.
 */
export function startLiveServer(
  httpServer: Server,
  deps: LiveServerDeps,
  schema: GraphQLSchema,
  options: { path: string; maxPayloadBytes: number },
): LiveServer {
  const { config, logger, sockets: live, buildContext } = deps;
  const rules = [...specifiedRules, ...documentRules(config)];
  const formatError = createErrorFormatter(logger, schema, config);
  // Oversized frames are refused by ws itself (close 1009), before any parsing.
  const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxPayloadBytes });
  // Upgrades come through here, so that a refused one is answered with JSON from the catalog.
  const stopUpgrades = routeUpgrades(
    httpServer,
    wss,
    options.path,
    config.env === "development" ? isDevelopmentHost : undefined,
    openSocketCaps(deps.caps, deps.warnings, deps.clients),
  );

  const server = makeServer<Record<string, unknown>, SocketState>({
    schema,
    // One execution per event and operation, not per socket (see shared-subscribe.ts).
    subscribe: subscribeSharingResults,
    connectionInitWaitTimeout: config.wsConnectionInitTimeout * 1000,
    // The HTTP path's rules (graphql/document-policy.ts): depth, aliases, one credential
    // mutation per operation, no introspection in production. Codes as Apollo gives them over
    // HTTP; the wording is the formatter's, in onError.
    validate: (schema, document) => {
      // First the rules graphql-js's own rules rely on (they throw on what these refuse).
      const refused = validateBeforeSpecifiedRules(schema, document);
      if (refused.length) return refused;
      return validate(schema, document, rules).map(
        (e) =>
          new GraphQLError(e.message, { nodes: e.nodes, extensions: { ...e.extensions, code: "GRAPHQL_VALIDATION_FAILED" } }),
      );
    },
    // Every refusal (parse, validation, the session check at subscribe) through the one formatter.
    onError: (_ctx, _id, _payload, errors) => errors.map(formatRefusal),
    onConnect: async (ctx) => {
      const context = await authenticate(connectionParam(ctx.connectionParams, "authorization"), ctx.extra);
      if (!context?.viewer) return false;
      const { userId, sessionId, session } = context.viewer;
      // No await between the check and open: the last place goes to one socket only.
      const overCap = live.admit(userId, sessionId);
      if (overCap) {
        deps.warnings.warn({ userId, sessionId, reason: overCap }, "refused a WebSocket past its cap");
        ctx.extra.socket.close(CloseCode.TooManyConnections, overCap);
        return false;
      }
      ctx.extra.connection = live.open(userId, sessionId, deps.sessionExpiresAt(session), ctx.extra.socket);
      return true;
    },
    onSubscribe: async (ctx, id, payload) => {
      const connection = ctx.extra.connection;
      // The connection-time check is not enough: the session may have ended since.
      const context = await authenticate(connectionParam(ctx.connectionParams, "authorization"), ctx.extra);
      if (!connection || !context?.viewer || context.viewer.sessionId !== connection.sessionId) {
        return [new GraphQLError("Not authenticated.", { extensions: { code: "UNAUTHENTICATED" } })];
      }
      const problems = subscribePayloadProblems(payload, config.queryLimits.maxTokens);
      if (problems) return problems;
      (ctx.extra.contexts ??= new Map()).set(id, {
        ...context,
        connection: {
          sessionRevoked: () => live.subscribe(connection),
          sessionCreated: () => live.subscribeCreated(connection),
        },
      });
      return undefined;
    },
    context: (ctx, id) => {
      const context = ctx.extra.contexts?.get(id);
      ctx.extra.contexts?.delete(id);
      return context;
    },
    // Results go out as over HTTP: every error through the one formatter (codes from the
    // catalog, an unreachable database as SERVICE_UNAVAILABLE, no value echoed).
    onNext: (_ctx, _id, _payload, _args, result) =>
      result.errors ? { ...result, errors: result.errors.map((e) => formatError(asApolloFormatted(e), e)) } : undefined,
    onClose: (ctx) => {
      if (ctx.extra.connection) live.closed(ctx.extra.connection);
    },
  });
  const transport = serveGraphqlWs(wss, server, {
    logger,
    warnings: deps.warnings,
    isProduction: config.isProduction,
    keepAliveMs: config.wsKeepAliveInterval * 1000,
  });

  /** graphql-ws's own "Unable to identify operation" is Apollo's OPERATION_RESOLUTION_FAILURE over HTTP. */
  function formatRefusal(error: GraphQLError) {
    const unidentified = error.extensions.code === undefined && error.message === "Unable to identify operation";
    const coded = unidentified
      ? new GraphQLError(UNKNOWN_OPERATION, { extensions: { code: "OPERATION_RESOLUTION_FAILURE" } })
      : error;
    return formatError(asApolloFormatted(coded), coded);
  }

  /** The shared context builder; on refusal the socket is closed here with the reason. */
  async function authenticate(authorization: unknown, extra: SocketExtra) {
    try {
      const context = await buildContext({
        authorization,
        actor: requestActor(extra.request, deps.clients),
        authoritative: true,
      });
      if (!context.viewer) extra.socket.close(CloseCode.Forbidden, "TOKEN_MISSING");
      return context;
    } catch (error) {
      if (error instanceof GraphQLError && error.extensions.code === "UNAUTHENTICATED") {
        extra.socket.close(CloseCode.Forbidden, forbiddenCloseReason(error.extensions.reason));
      } else {
        logger.warn({ err: error }, "could not check a WebSocket's session");
        extra.socket.close(CloseCode.TryAgainLater, "Service unavailable");
      }
      return null;
    }
  }

  return {
    dispose: () => {
      stopUpgrades();
      return transport.dispose();
    },
  };
}
