import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createGatewayRuntime, type GatewayPlugin, getGraphQLWSOptions } from "@graphql-hive/gateway-runtime";
import type { SessionVerifier } from "@session-api/backend";
import type { GraphQLError } from "graphql";
import { useServer as serveGraphqlWs } from "graphql-ws/use/ws";
import { WebSocketServer } from "ws";
import { SESSION_SUBGRAPH } from "./compose";
import { type GatewaySocketExtra, sessionSocketRules } from "./gateway-sockets";

export interface Gateway {
  url: string;
  wsUrl: string;
  /** The node:http server clients reach (HTTP and WebSocket upgrades). */
  httpServer: Server;
  stop(): Promise<void>;
}

/**
 * The subgraphs' catalog status on the gateway's answer: a refused session is 401 through the
 * gateway as it is on the session API (graphql-yoga, which the gateway runs on, reads the
 * status from `extensions.http`, and does not send that key on).
 */
const STATUS: Record<string, number> = { UNAUTHENTICATED: 401, FORBIDDEN: 403, SERVICE_UNAVAILABLE: 503 };
const catalogStatus: GatewayPlugin = {
  onExecutionResult({ result, setResult }) {
    if (!result || Symbol.asyncIterator in result || !result.errors?.length) return;
    const errors = result.errors.map((error: GraphQLError) => {
      const status = STATUS[String(error.extensions?.code)];
      return status ? Object.assign(error, { extensions: { ...error.extensions, http: { status } } }) : error;
    });
    setResult({ ...result, errors });
  },
};

/**
 * X-Forwarded-For as a proxy passes it on: what arrived, then the peer this gateway saw. The
 * session API reads it only when TRUST_PROXY names the gateway, and then walks it from the
 * right, so entries a client wrote itself are never taken for its address.
 */
function forwardedFor(req: IncomingMessage | undefined): string | undefined {
  const peer = req?.socket.remoteAddress;
  if (!req || !peer) return undefined;
  const arrived = req.headers["x-forwarded-for"];
  return arrived ? `${Array.isArray(arrived) ? arrived.join(", ") : arrived}, ${peer}` : peer;
}

/**
 * GraphQL Hive Gateway (its runtime, embedded) in front of the subgraphs: HTTP on /graphql,
 * and graphql-ws on the same path, carried to the subgraphs over graphql-ws. The client's
 * credential goes on to every subgraph: the Authorization header over HTTP, and
 * `connectionParams.authorization` over WebSocket (one upstream socket per credential, so a
 * session's upstream socket is the one the session API closes when it ends).
 *
 * Browsers (`corsOrigins`): only those origins get CORS headers, with credentials; with none,
 * no browser page may read an answer. Cookie mode passes through to the session API alone:
 * the request's Cookie, `x-auth-transport` and Origin go to it (it checks the origin against
 * its own CORS_ORIGINS, as it does when called directly), and its Set-Cookie,
 * Clear-Site-Data and Retry-After come back. No other subgraph ever sees the refresh cookie.
 * Every subgraph request and upstream socket carries X-Forwarded-For, for a session API whose
 * TRUST_PROXY names the gateway.
 */
export async function startGateway(options: {
  supergraph: string;
  port: number;
  host?: string;
  corsOrigins?: readonly string[];
  /** The session API's sessions, for the gateway's own sockets (gateway-sockets.ts). */
  sessions: SessionVerifier;
}): Promise<Gateway> {
  const corsOrigins = [...(options.corsOrigins ?? [])];
  const gateway = createGatewayRuntime({
    supergraph: options.supergraph,
    logging: "error",
    // graphql-yoga's default would answer every origin, with credentials.
    cors:
      corsOrigins.length > 0
        ? {
            origin: corsOrigins,
            credentials: true,
            methods: ["GET", "POST", "OPTIONS"],
            allowedHeaders: ["content-type", "authorization", "x-auth-transport"],
            exposedHeaders: ["retry-after"],
            maxAge: 600,
          }
        : false,
    propagateHeaders: {
      fromClientToSubgraphs: ({ request, context, subgraphName }) => {
        const header = (name: string) => request.headers.get(name);
        const everyone = {
          authorization: header("authorization"),
          "user-agent": header("user-agent"),
          "x-forwarded-for": forwardedFor((context as { req?: IncomingMessage }).req),
        };
        if (subgraphName !== SESSION_SUBGRAPH) return everyone;
        return {
          ...everyone,
          cookie: header("cookie"),
          "x-auth-transport": header("x-auth-transport"),
          origin: header("origin"),
        };
      },
      fromSubgraphsToClient: ({ response, subgraphName }) => {
        if (subgraphName !== SESSION_SUBGRAPH) return;
        return {
          "set-cookie": response.headers.getSetCookie(),
          "clear-site-data": response.headers.get("clear-site-data"),
          "retry-after": response.headers.get("retry-after"),
        };
      },
    },
    transportEntries: {
      "*.http": {
        options: {
          subscriptions: {
            kind: "ws",
            location: "/graphql",
            // On the upgrade: the session API counts and records the client behind the gateway.
            headers: [["x-forwarded-for", "{context.forwardedFor}"]],
            options: { connectionParams: { authorization: "{context.connectionParams.authorization}" } },
          },
        },
      },
    },
    plugins: () => [catalogStatus],
  });
  // The supergraph is loaded now, not on the first HTTP request: graphql-ws reaches the runtime
  // another way, and a subscribe that came first would find no schema.
  await gateway.getSchema();
  const server = createServer(gateway);
  const wss = new WebSocketServer({ server, path: gateway.graphqlEndpoint });
  const socketRules = sessionSocketRules(options.sessions);
  const ws = serveGraphqlWs(
    {
      ...getGraphQLWSOptions<Record<string, unknown>, GatewaySocketExtra>(gateway, (ctx) => ({
        req: ctx.extra.request,
        socket: ctx.extra.socket,
        forwardedFor: forwardedFor(ctx.extra.request),
      })),
      onConnect: socketRules.onConnect,
      onNext: socketRules.onNext,
      onClose: socketRules.onClose,
    },
    wss,
  );
  await new Promise<void>((resolve) => server.listen(options.port, options.host ?? "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://${options.host ?? "127.0.0.1"}:${port}${gateway.graphqlEndpoint}`;
  return {
    url,
    wsUrl: url.replace(/^http/, "ws"),
    httpServer: server,
    async stop() {
      socketRules.dispose();
      await ws.dispose();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await gateway.dispose();
    },
  };
}
