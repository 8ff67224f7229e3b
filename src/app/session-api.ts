import type { GraphQLSchema } from "graphql";
import { keepDevSigningKeys, withSigningKeys } from "../config/dev-signing-keys";
import { type Config, loadConfigWith } from "../config/environment";
import { type Database, resolveDatabase } from "../db/database-url";
import { createApiSchema, type ResolverClass } from "../graphql/schema";
import { createLogger, type Logger, wantsPrettyLogs } from "../lib/logger";
import { type AppParts, type RunningServer, startServer } from "./server";

/**
 * Library mode: the session API with an app's own TypeGraphQL resolvers beside ours, in one
 * server (options shaped as graphql-yoga's and Apollo Server's: one object, then listen).
 * Every request still passes our session check before any resolver runs, the app's included.
 */
export interface SessionApiOptions extends AppParts {
  /** The app's TypeGraphQL resolver classes, added to ours. */
  resolvers?: readonly ResolverClass[];
  /**
   * Any setting of the configuration by its variable name (see .env.example and the README's
   * Configuration table), over the process environment: `{ PORT: "0", CORS_ORIGINS: "..." }`.
   */
  env?: Readonly<Record<string, string | undefined>>;
  /** Shorthands for `env.PORT`, `env.HOST`, `env.DATABASE_URL`, `env.FEDERATION`. */
  port?: number;
  host?: string;
  databaseUrl?: string;
  federation?: boolean;
  /** A PostgreSQL schema to keep the tables in (default `public`; tests give each run its own). */
  dbSchema?: string;
  /** Where log lines go (default: pino at LOG_LEVEL on stdout). */
  logger?: Logger;
}

export interface SessionApi {
  /** The executable schema: ours plus the app's (a subgraph schema in federation mode). */
  readonly schema: GraphQLSchema;
  /** The parsed configuration this API runs with. */
  readonly config: Config;
  /**
   * Connects (DATABASE_URL, else the embedded PostgreSQL), applies pending migrations, ours
   * and the app's, and serves HTTP and WebSocket on `/graphql`. Resolves to the URL.
   */
  listen(): Promise<{ url: string }>;
  /** Graceful: sockets close with 1001, in-flight requests finish, then the database goes. */
  close(): Promise<void>;
  /** Set once listening: `http://host:port/graphql`, its WebSocket twin, and the bound port. */
  readonly url: string;
  readonly wsUrl: string;
  readonly port: number;
  /** The running server's parts (services, fan-out), once listening: for tests and operators. */
  readonly server: RunningServer;
  /**
   * The PostgreSQL it connected to, once listening (the embedded one's when DATABASE_URL is
   * unset): for an app's other services that share the database, such as the supergraph example's subgraph.
   */
  readonly databaseUrl: string;
}

function overrides(options: SessionApiOptions): Record<string, string | undefined> {
  const given: Record<string, string | number | boolean | undefined> = {
    PORT: options.port,
    HOST: options.host,
    DATABASE_URL: options.databaseUrl,
    FEDERATION: options.federation,
  };
  const shorthands = Object.fromEntries(
    Object.entries(given)
      .filter(([, value]) => value !== undefined)
      .map(([name, value]) => [name, String(value)]),
  );
  return { ...options.env, ...shorthands };
}

/**
 * Builds the API (the configuration is parsed and the schema built now, so a bad setting or a
 * clashing type fails here) without connecting to anything: `listen()` does.
 *
 * ```ts
 * const api = await createSessionApi({ resolvers: [NoteResolver], migrations: [CreateNotes1765000000000] });
 * const { url } = await api.listen();
 * ```
 */
export async function createSessionApi(options: SessionApiOptions = {}): Promise<SessionApi> {
  let config = loadConfigWith(overrides(options));
  const logger =
    options.logger ?? createLogger(config.logLevel, undefined, { pretty: wantsPrettyLogs(config.env, process.stdout.isTTY) });
  const schema = await createApiSchema({ resolvers: options.resolvers, federation: config.federation });
  let running: { server: RunningServer; database: Database } | undefined;
  const listening = (): RunningServer => {
    if (!running) throw new Error("the session API is not listening: call listen() first");
    return running.server;
  };

  return {
    schema,
    get config() {
      return config;
    },
    async listen() {
      if (running) return { url: running.server.url };
      // As `npm start` in development: the signing keys kept in the data folder.
      if (config.env === "development" && config.jwt.generated) {
        config = withSigningKeys(config, (await keepDevSigningKeys(config.dataDir)).keys);
      }
      const database = await resolveDatabase(config, (msg) => logger.debug(msg));
      try {
        const server = await startServer(config, {
          databaseUrl: database.url,
          dbSchema: options.dbSchema,
          logger,
          schema,
          app: {
            migrations: options.migrations,
            entities: options.entities,
            services: options.services,
            loaders: options.loaders,
          },
        });
        running = { server, database };
        return { url: server.url };
      } catch (error) {
        await database.stop();
        throw error;
      }
    },
    async close() {
      if (!running) return;
      const { server, database } = running;
      running = undefined;
      await server.stop();
      await database.stop();
    },
    get url() {
      return listening().url;
    },
    get wsUrl() {
      return listening().wsUrl;
    },
    get port() {
      return Number(new URL(listening().url).port);
    },
    get server() {
      return listening();
    },
    get databaseUrl() {
      listening();
      return running!.database.url;
    },
  };
}
