import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { ApolloServer, HeaderMap, type HTTPGraphQLRequest } from "@apollo/server";
import { ApolloServerPluginDrainHttpServer } from "@apollo/server/plugin/drainHttpServer";
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginLandingPageDisabled,
} from "@apollo/server/plugin/disabled";
import { ApolloServerPluginLandingPageLocalDefault } from "@apollo/server/plugin/landingPage/default";
import type { GraphQLSchema } from "graphql";
import type { Services } from "../app";
import { buildContext, type GraphQLContext } from "../graphql/context";
import { createErrorFormatter } from "../graphql/format-error";
import { clientInfo } from "./client-info";
import { BodyTooLargeError, readBody } from "./read-body";

export const GRAPHQL_PATH = "/graphql";
export const MAX_BODY_BYTES = 100 * 1024;

export interface HttpServer {
  server: Server;
  apollo: ApolloServer<GraphQLContext>;
  url: string;
  stop(): Promise<void>;
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers });
  res.end(JSON.stringify(body));
}

/**
 * Apollo Server on plain node:http: no Express, no body-parser. The request is read here
 * (refused with 413 past 100 KB before any parsing), handed to Apollo, and Apollo's answer
 * written back. WebSocket upgrades on the same port go to graphql-ws (see live/).
 */
export async function startHttpServer(
  services: Services,
  schema: GraphQLSchema,
  listen: { host: string; port: number },
): Promise<HttpServer> {
  const { config, logger } = services;
  const server = createServer();
  const apollo = new ApolloServer<GraphQLContext>({
    schema,
    formatError: createErrorFormatter(logger),
    includeStacktraceInErrorResponses: false,
    introspection: !config.isProduction,
    hideSchemaDetailsFromClientErrors: config.isProduction,
    // Refuses simple (form, text/plain) requests that browsers send cross-site without a preflight.
    csrfPrevention: true,
    allowBatchedHttpRequests: false,
    // main.ts owns shutdown: it also closes sockets, flushes activity and stops the database.
    stopOnTerminationSignals: false,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer: server }),
      // Nothing here is HTTP-cacheable (it is all per-user), and the default cache-control
      // plugin costs a hook call on every field resolved.
      ApolloServerPluginCacheControlDisabled(),
      config.isProduction ? ApolloServerPluginLandingPageDisabled() : ApolloServerPluginLandingPageLocalDefault(),
    ],
  });
  await apollo.start();

  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((error: unknown) => {
      logger.error({ err: error }, "request failed");
      if (!res.headersSent) sendJson(res, 500, { errors: [{ message: "Internal server error.", extensions: { code: "INTERNAL_SERVER_ERROR" } }] });
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (url.pathname !== GRAPHQL_PATH) {
      sendJson(res, 404, { errors: [{ message: "Not found.", extensions: { code: "NOT_FOUND" } }] });
      return;
    }
    let body: unknown;
    if (req.method === "POST") {
      let text: string;
      try {
        text = await readBody(req, MAX_BODY_BYTES);
      } catch (error) {
        if (!(error instanceof BodyTooLargeError)) throw error;
        sendJson(res, 413, { errors: [{ message: "Request body is larger than 100 KB.", extensions: { code: "PAYLOAD_TOO_LARGE" } }] }, { connection: "close" });
        return;
      }
      const contentType = req.headers["content-type"] ?? "";
      if (/^application\/(graphql-response\+)?json\b/i.test(contentType)) {
        try {
          body = text === "" ? undefined : JSON.parse(text);
        } catch {
          sendJson(res, 400, { errors: [{ message: "Request body is not valid JSON.", extensions: { code: "BAD_REQUEST" } }] });
          return;
        }
      } else {
        body = text;
      }
    }
    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(", ") : value);
    }
    const httpGraphQLRequest: HTTPGraphQLRequest = {
      method: (req.method ?? "GET").toUpperCase(),
      headers,
      search: url.search,
      body,
    };
    const response = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest,
      context: () => buildContext(services, { authorization: req.headers.authorization, client: clientInfo(req) }),
    });
    for (const [key, value] of response.headers) res.setHeader(key, value);
    res.statusCode = response.status ?? 200;
    if (response.body.kind === "complete") {
      res.end(response.body.string);
      return;
    }
    for await (const chunk of response.body.asyncIterator) res.write(chunk);
    res.end();
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(listen.port, listen.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    server,
    apollo,
    url: `http://${host}:${address.port}${GRAPHQL_PATH}`,
    // Apollo's drain plugin stops accepting, lets in-flight requests finish, then closes.
    stop: () => apollo.stop(),
  };
}
