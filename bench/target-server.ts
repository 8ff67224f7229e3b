import "reflect-metadata";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { ApolloServer } from "@apollo/server";
import { startStandaloneServer } from "@apollo/server/standalone";
import { expressMiddleware } from "@as-integrations/express5";
import express from "express";
import jwt from "jsonwebtoken";
import { type RunningServer, startServer } from "../src/app/server";
import { createServices, type Services } from "../src/app/services";
import { loadConfig } from "../src/config/environment";
import { createDataSource } from "../src/db/data-source";
import { buildContext, type GraphQLContext } from "../src/graphql/context";
import { createSchema } from "../src/graphql/schema";
import { ClientAddresses } from "../src/http/client-address";
import { requestActor } from "../src/http/request-actor";
import { createLogger } from "../src/lib/logger";
import type { SessionEntity } from "../src/sessions/session.entity";

/** No proxy in front: the client is the socket's peer. */
const DIRECT_CLIENTS = new ClientAddresses([]);

/**
 * One server under load, in its own process so the load generator does not share its core.
 * Prints `ready <url>` when it listens. Strategies:
 *   ours       the real server: verified-token cache + exact session cache
 *   database   the real server with the session cache bypassed: a PK lookup per request
 *   stateless  signature check only, no revocation check: what peers' JWTs do (bench only)
 *   express    the real context builder on Express 5 + expressMiddleware, for the HTTP-layer comparison
 *   plain      the plainest stateless Apollo server: startStandaloneServer, `me` from an HS256
 *              JWT verified with jsonwebtoken on every request, no database, no revocation check
 */
const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, "").split("=") as [string, string]));
const strategy = args.get("strategy") ?? "ours";
const dbSchema = args.get("schema");
const databaseUrl = process.env.DATABASE_URL!;
const config = loadConfig({ ...process.env, NODE_ENV: "production", PORT: "0", LOG_LEVEL: "warn" });

function configure(services: Services) {
  // Memory never answers: every request reads the session from the database.
  if (strategy === "database") services.sessionCache.peek = () => undefined;
  if (strategy === "stateless") {
    // What a stateless JWT gives: a validly signed token is accepted until it expires. Each
    // session is read once and then believed forever, revoked or not.
    const believed = new Map<string, SessionEntity>();
    const load = services.sessionCache.load.bind(services.sessionCache);
    services.sessionCache.peek = (id) => believed.get(id);
    services.sessionCache.load = async (id) => {
      const session = await load(id);
      if (session)
        believed.set(id, { ...session, revokedAt: null, expiresAt: new Date(8.64e15), lastActiveAt: new Date(8.64e15) });
      return believed.get(id) ?? null;
    };
    services.lastActive.seen = () => undefined;
  }
}

async function startExpress() {
  const db = createDataSource({ url: databaseUrl, schema: dbSchema });
  await db.initialize();
  const services = createServices(config, db, createLogger("warn"));
  const apollo = new ApolloServer<GraphQLContext>({ schema: await createSchema(), stopOnTerminationSignals: false });
  await apollo.start();
  const app = express();
  app.use(
    "/graphql",
    express.json({ limit: "100kb" }),
    expressMiddleware(apollo, {
      context: async ({ req }) =>
        buildContext(services, { authorization: req.headers.authorization, actor: requestActor(req, DIRECT_CLIENTS) }),
    }),
  );
  const server = createServer(app);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
}

/** What a tutorial's stateless server is: the token's claims are the user, believed until `exp`. */
async function startPlain() {
  const secret = process.env.PLAIN_JWT_SECRET!;
  const apollo = new ApolloServer<{ user: { id: string; email: string } | null }>({
    typeDefs: "type User { id: ID! email: String! } type Query { me: User }",
    resolvers: { Query: { me: (_root: unknown, _args: unknown, ctx: { user: unknown }) => ctx.user } },
  });
  const { url } = await startStandaloneServer(apollo, {
    listen: { port: 0, host: "127.0.0.1" },
    context: async ({ req }) => {
      const token = req.headers.authorization?.replace(/^Bearer /, "");
      if (!token) return { user: null };
      const claims = jwt.verify(token, secret, { algorithms: ["HS256"] }) as { sub: string; email: string };
      return { user: { id: claims.sub, email: claims.email } };
    },
  });
  return url;
}

let running: RunningServer | undefined;

async function main() {
  let url: string;
  if (strategy === "express") {
    url = await startExpress();
  } else if (strategy === "plain") {
    url = await startPlain();
  } else {
    const server = await startServer(config, { databaseUrl, dbSchema, configureServices: configure });
    running = server;
    url = server.url;
    // Server time, for the requests the bench names with `x-bench-timing: <label>`: from the
    // parsed request to the last byte handed to the socket, printed as `timing <label> <ms>`.
    server.httpServer.on("request", (req: IncomingMessage, res: ServerResponse) => {
      const label = req.headers["x-bench-timing"];
      if (typeof label !== "string") return;
      const start = performance.now();
      res.once("finish", () => console.log(`timing ${label} ${(performance.now() - start).toFixed(2)}`));
    });
  }
  console.log(`ready ${url}`);
}

// SIGTERM stops the real server gracefully (it leaves its lease, so nobody waits for it).
let stopping = false;
process.on("SIGTERM", () => {
  if (stopping) return;
  stopping = true;
  void (running?.stop() ?? Promise.resolve()).finally(() => process.exit(0));
});

void main();
