import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createGatewayRuntime, type GatewayPlugin, getGraphQLWSOptions } from "@graphql-hive/gateway-runtime";
import type { GraphQLError } from "graphql";
import { type Extra, useServer as serveGraphqlWs } from "graphql-ws/use/ws";
import { WebSocketServer } from "ws";

export interface Gateway {
  url: string;
  wsUrl: string;
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
 * GraphQL Hive Gateway (its runtime, embedded) in front of the subgraphs: HTTP on /graphql,
 * and graphql-ws on the same path, carried to the subgraphs over graphql-ws. The client's
 * credential goes on to every subgraph: the Authorization header over HTTP, and
 * `connectionParams.authorization` over WebSocket (one upstream socket per credential, so a
 * session's upstream socket is the one the session API closes when it ends).
 */
export async function startGateway(options: { supergraph: string; port: number; host?: string }): Promise<Gateway> {
  const gateway = createGatewayRuntime({
    supergraph: options.supergraph,
    logging: "error",
    propagateHeaders: {
      fromClientToSubgraphs: ({ request }) => ({ authorization: request.headers.get("authorization") }),
    },
    transportEntries: {
      "*.http": {
        options: {
          subscriptions: {
            kind: "ws",
            location: "/graphql",
            options: { connectionParams: { authorization: "{context.connectionParams.authorization}" } },
          },
        },
      },
    },
    plugins: () => [catalogStatus],
  });
  const server = createServer(gateway);
  const wss = new WebSocketServer({ server, path: gateway.graphqlEndpoint });
  const ws = serveGraphqlWs(
    getGraphQLWSOptions<Record<string, unknown>, Extra>(gateway, (ctx) => ({ req: ctx.extra.request, socket: ctx.extra.socket })),
    wss,
  );
  await new Promise<void>((resolve) => server.listen(options.port, options.host ?? "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://${options.host ?? "127.0.0.1"}:${port}${gateway.graphqlEndpoint}`;
  return {
    url,
    wsUrl: url.replace(/^http/, "ws"),
    async stop() {
      await ws.dispose();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await gateway.dispose();
    },
  };
}
