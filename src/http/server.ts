import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { ApolloServer, HeaderMap, type HTTPGraphQLRequest } from "@apollo/server";
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from "@apollo/server/plugin/disabled";
import { ApolloServerPluginDrainHttpServer } from "@apollo/server/plugin/drainHttpServer";
import type { GraphQLSchema } from "graphql";
import type { Config } from "../config/environment";
import { type ErrorCode, transportError } from "../errors/error-codes";
import type { ContextBuilder, GraphQLContext } from "../graphql/context";
import { documentRules } from "../graphql/document-policy";
import { createErrorFormatter, withRequestIdExtension } from "../graphql/format-error";
import { ResponseHints } from "../graphql/response-hints";
import type { LogBudget } from "../lib/log-budget";
import type { Logger } from "../lib/logger";
import { isDevelopmentHost } from "../lib/loopback-host";
import { REQUEST_ID_HEADER, requestIdFrom, withRequestId } from "../lib/request-scope";
import type { PublicJwk } from "../lib/signing-keys";
import type { Metrics } from "../metrics/metrics";
import type { ClientAddresses } from "./client-address";
import { answerClientErrors } from "./client-errors";
import { capConnectionsPerIp, slowRequestOptions } from "./connection-limits";
import { type CorsPolicy, corsHeaders, isAllowedOrigin, preflightHeaders, refusedOriginLog } from "./cors";
import { refusedBeforeValidation, refusePersistedQueries } from "./document-guards";
import { answerHealth, HEALTH_PATHS, type ReadinessChecks } from "./health";
import { JWKS_PATH, jwksAnswer } from "./jwks";
import { httpMetrics, type OperationLabel } from "./operation-metrics";
import { createPlayground, wantsPlayground } from "./playground";
import { BodyTooLargeError, readBody } from "./read-body";
import {
  DEVICE_COOKIE,
  REFRESH_COOKIE,
  readCookie,
  readRefreshCookie,
  serializeDeviceCookie,
  serializeRefreshCookie,
  TRANSPORT_HEADER,
} from "./refresh-cookie";
import { requestActor } from "./request-actor";
import { APPLICATION_JSON, responseMediaType, responseOutcomePlugin, responseStatus } from "./response-status";
import { refuseUserFieldsToServiceKeys } from "./service-key-fields";
import { serviceUnavailableStatus } from "./service-unavailable";
import { refuseSubscriptionsOverHttp } from "./subscriptions-over-http";
import { type VerifierRoutesDeps, verifierRoutes } from "./verifier-stream";

export const GRAPHQL_PATH = "/graphql";
export const MAX_BODY_BYTES = 100 * 1024;

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join("; ") : value;
}

/** What the HTTP transport is given: nothing of the services it does not use. */
export interface HttpServerDeps {
  logger: Logger;
  config: Pick<Config, "isProduction" | "env" | "queryLimits" | "corsOrigins" | "httpLimits">;
  /** The shared context builder, bound to the services. */
  buildContext: ContextBuilder;
  /** The signing keys' public halves, served at /.well-known/jwks.json. */
  publicKeys: { keys: readonly PublicJwk[] };
  /** The session verifiers' stream and lookup (absent: those paths answer 404). */
  verifiers?: VerifierRoutesDeps;
  /** The global budget of warnings a client can cause (refused origins, connections past a cap). */
  warnings: LogBudget;
  /** Who the client is by address (TRUST_PROXY): the per-IP bounds and the recorded actor use it. */
  clients: ClientAddresses;
  metrics: Metrics;
}

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

/** An error of the catalog, answered by the transport itself (GraphQL never ran). */
function sendError(
  res: ServerResponse,
  code: ErrorCode,
  options: { message?: string; headers?: Record<string, string>; status?: number } = {},
) {
  const { status, body } = transportError(code, options.message);
  sendJson(res, options.status ?? status, body, options.headers);
}

const JSON_CONTENT_TYPE = /^application\/(graphql-response\+)?json\b/i;

/**
 * Apollo Server on plain node:http: no Express, no body-parser. The request is read here
 * (refused with 413 past 100 KB before any parsing), handed to Apollo, and Apollo's answer
 * written back. WebSocket upgrades on the same port go to graphql-ws (see live/).
 */
export async function startHttpServer(
  deps: HttpServerDeps,
  schema: GraphQLSchema,
  listen: { host: string; port: number },
  readiness: ReadinessChecks,
): Promise<HttpServer> {
  const { config, logger, buildContext, warnings } = deps;
  const server = createServer(slowRequestOptions(config.httpLimits));
  const requestMetrics = httpMetrics(deps.metrics);
  answerClientErrors(server);
  capConnectionsPerIp(server, config.httpLimits.maxConnectionsPerIp, warnings, deps.clients);
  const formatError = createErrorFormatter(logger, schema, config);
  const apollo = new ApolloServer<GraphQLContext>({
    schema,
    formatError,
    // Apollo's own log lines (a failed request it could not answer) go to our log, not the console.
    logger,
    persistedQueries: false,
    includeStacktraceInErrorResponses: false,
    // Introspection and "Did you mean" are refused and masked by the rules and the formatter
    // that graphql-ws uses too (graphql/document-policy.ts), not by Apollo's own switches,
    // which only this transport would have.
    introspection: true,
    hideSchemaDetailsFromClientErrors: false,
    // Refuses simple (form, text/plain) requests that browsers send cross-site without a preflight.
    // POST bodies must also be JSON (checked below), so only GET relies on this alone.
    csrfPrevention: true,
    allowBatchedHttpRequests: false,
    // Limits checked before execution: tokens by the parser, depth, aliases and credential
    // batches by validation rules.
    parseOptions: { maxTokens: config.queryLimits.maxTokens },
    validationRules: documentRules(config),
    // main.ts owns shutdown: it also closes sockets, flushes activity and stops the database.
    stopOnTerminationSignals: false,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer: server }),
      // Nothing here is HTTP-cacheable (it is all per-user), and the default cache-control
      // plugin costs a hook call on every field resolved.
      ApolloServerPluginCacheControlDisabled(),
      refuseSubscriptionsOverHttp(),
      refuseUserFieldsToServiceKeys(),
      // Before the outcome plugin: these change the response it reads.
      refusePersistedQueries(),
      serviceUnavailableStatus(),
      responseOutcomePlugin,
      requestMetrics.plugin,
      // Apollo's landing pages load from a CDN; our own playground (below) needs no network.
      ApolloServerPluginLandingPageDisabled(),
    ],
  });
  await apollo.start();
  const corsPolicy: CorsPolicy = { allowList: config.corsOrigins, allowLoopback: config.env === "development" };
  const logRefusedOrigin = refusedOriginLog(warnings);
  const checkHost = config.env === "development";
  const playground = config.isProduction ? undefined : createPlayground();
  const answerJwks = jwksAnswer(deps.publicKeys);
  const verifiers = deps.verifiers ? verifierRoutes(deps.verifiers) : undefined;

  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    // The client's (or proxy's) id when valid, else a new one: in the answer, in every log line
    // about this request, and in the errors a user would report (lib/request-scope.ts).
    const requestId = requestIdFrom(req.headers[REQUEST_ID_HEADER]);
    res.setHeader(REQUEST_ID_HEADER, requestId);
    const started = performance.now();
    const operation: { type: OperationLabel } = { type: "none" };
    res.once("close", () => requestMetrics.observe(operation.type, res.statusCode, (performance.now() - started) / 1000));
    withRequestId(requestId, () =>
      handle(req, res, operation).catch((error: unknown) => {
        // A client that hung up mid-request is its own business: one debug line, no stack.
        if (req.destroyed && (error as NodeJS.ErrnoException).code === "ECONNRESET") {
          logger.debug({ method: req.method, path: req.url?.slice(0, 200) }, "client aborted the request");
          return;
        }
        logger.error({ err: error }, "request failed");
        if (!res.headersSent)
          sendJson(res, 500, { errors: [withRequestIdExtension(transportError("INTERNAL_SERVER_ERROR").body.errors[0])] });
        else res.destroy();
      }),
    );
  });

  async function handle(req: IncomingMessage, res: ServerResponse, operation: { type: OperationLabel }) {
    const url = new URL(req.url ?? "/", "http://localhost");
    // Nothing this API answers may be cached: tokens, sessions, the activity log.
    res.setHeader("cache-control", "no-store");
    // No answer is ever to be sniffed into HTML or script, whatever its status.
    res.setHeader("x-content-type-options", "nosniff");
    if (checkHost && !isDevelopmentHost(req.headers.host)) {
      req.resume();
      sendError(res, "FORBIDDEN_HOST");
      return;
    }
    if (HEALTH_PATHS.has(url.pathname)) return answerHealth(url.pathname, req, res, readiness);
    if (url.pathname === JWKS_PATH) return answerJwks(req, res);
    // Server to server, with a service key: no CORS, no cookies.
    if (verifiers && (await verifiers.handle(req, res, url.pathname))) return;
    res.setHeader("vary", "Origin");
    const origin = req.headers.origin;
    const trustedOrigin = isAllowedOrigin(corsPolicy, origin);
    // CORS headers go only to allowed origins, never echoing anyone else's.
    if (trustedOrigin) for (const [key, value] of Object.entries(corsHeaders(trustedOrigin))) res.setHeader(key, value);
    else if (origin !== undefined) logRefusedOrigin(origin, url.pathname);

    if (playground && (await playground.sendAsset(req, res, url.pathname))) return;
    if (playground && url.pathname === GRAPHQL_PATH && wantsPlayground(req, url)) {
      await playground.sendPage(req, res);
      return;
    }
    if (url.pathname !== GRAPHQL_PATH) {
      sendError(res, "NOT_FOUND");
      return;
    }
    if (req.method === "OPTIONS") {
      if (!trustedOrigin) sendError(res, "FORBIDDEN_ORIGIN");
      else {
        res.writeHead(204, preflightHeaders());
        res.end();
      }
      return;
    }

    // Cookie mode is opted into by a custom header, which a cross-site page cannot send without
    // a CORS preflight; and a request from an origin off the list may not use the cookie at all.
    const transport = headerValue(req.headers[TRANSPORT_HEADER]) === "cookie" ? "cookie" : "body";
    const cookieHeader = headerValue(req.headers.cookie);
    const carriesCookie = cookieHeader?.includes(REFRESH_COOKIE) ?? false;
    if ((transport === "cookie" || carriesCookie) && origin !== undefined && !trustedOrigin) {
      sendError(res, "FORBIDDEN_ORIGIN", { message: "This origin may not use the refresh cookie." });
      return;
    }

    let body: unknown;
    if (req.method === "POST") {
      // Only JSON: form and text/plain bodies are what a cross-site page can send without a preflight.
      const contentType = req.headers["content-type"] ?? "";
      if (!JSON_CONTENT_TYPE.test(contentType)) {
        req.resume();
        sendError(res, "UNSUPPORTED_MEDIA_TYPE");
        return;
      }
      let text: string;
      try {
        text = await readBody(req, MAX_BODY_BYTES);
      } catch (error) {
        if (!(error instanceof BodyTooLargeError)) throw error;
        sendError(res, "PAYLOAD_TOO_LARGE", { headers: { connection: "close" } });
        return;
      }
      try {
        body = text === "" ? undefined : JSON.parse(text);
      } catch {
        sendError(res, "BAD_REQUEST", { message: "Request body is not valid JSON." });
        return;
      }
    }
    // Refused before anything runs: Apollo would check Accept only after executing the
    // operation, so a mutation would take effect and then answer 406.
    if (responseMediaType(req.headers.accept) === null) {
      sendError(res, "BAD_REQUEST", {
        status: 406,
        message: "Accept must allow application/graphql-response+json or application/json.",
      });
      return;
    }
    const refused = refusedBeforeValidation(
      req.method === "GET" ? url.searchParams.get("query") : (body as { query?: unknown } | undefined)?.query,
      schema,
      config.queryLimits.maxTokens,
    );
    if (refused) {
      // A document that never ran: the status and media type any validation error gets.
      const mediaType = responseMediaType(req.headers.accept) ?? APPLICATION_JSON;
      const errors = refused.map((e) => formatError(e.toJSON(), e));
      sendJson(res, responseStatus(mediaType, "refused", 400), { errors }, { "content-type": mediaType });
      return;
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
    const hints = new ResponseHints();
    const response = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest,
      context: () =>
        buildContext({
          authorization: req.headers.authorization,
          actor: requestActor(req, deps.clients),
          transport,
          refreshCookie: readRefreshCookie(cookieHeader),
          deviceCookie: readCookie(cookieHeader, DEVICE_COOKIE),
          response: hints,
          operation: body,
        }).catch((error: unknown) => {
          hints.outcome = "refused";
          throw error;
        }),
    });
    operation.type = hints.operationType ?? "none";
    for (const [key, value] of response.headers) {
      res.setHeader(key, key === "vary" ? `Origin, ${value}` : value);
    }
    const cookies: string[] = [];
    if (hints.refreshCookie !== undefined) cookies.push(serializeRefreshCookie(hints.refreshCookie));
    if (hints.deviceCookie !== undefined) cookies.push(serializeDeviceCookie(hints.deviceCookie));
    if (cookies.length > 0) res.setHeader("set-cookie", cookies);
    // The cookie is cleared when the session is over in this browser (a logout, or a refresh
    // with a cookie that can never work again): the browser drops the site's cached responses
    // and storage too, so nothing the signed-out user saw survives in it.
    if (hints.refreshCookie === null) res.setHeader("clear-site-data", '"cache", "storage"');
    res.statusCode = response.status ?? 200;
    // A GraphQL response (not the landing page): the spec's status and media type.
    const mediaType = responseMediaType(req.headers.accept);
    if (
      mediaType &&
      response.body.kind === "complete" &&
      /^application\/(graphql-response\+)?json/.test(response.headers.get("content-type") ?? "")
    ) {
      res.setHeader("content-type", mediaType);
      res.setHeader("vary", `${res.getHeader("vary")}, Accept`);
      res.statusCode = responseStatus(mediaType, hints.outcome ?? "malformed", hints.failedStatus ?? res.statusCode);
    }
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
    // Open verifier streams end first: they would hold the drain for its whole grace period.
    stop: () => {
      verifiers?.closeAll();
      return apollo.stop();
    },
  };
}
