import type { Server } from "node:http";
import type { GraphQLSchema } from "graphql";
import type { DataSource, MigrationInterface } from "typeorm";
import type { Config } from "../config/environment";
import { createDataSource } from "../db/data-source";
import { migrateUnderLock, pendingMigrations, SchemaNotCurrentError } from "../db/migrate";
import { pgPool, poolRunner, type SqlRunner } from "../db/pg-pool";
import { isTransactionPooler, PoolerWithoutListenUrlError } from "../db/pooler-probe";
import { Transactions } from "../db/transaction";
import { OutboxWorker } from "../events/outbox-worker";
import { contextBuilder, type LoaderFactory } from "../graphql/context";
import { createApiSchema } from "../graphql/schema";
import { ClientAddresses } from "../http/client-address";
import { GRAPHQL_PATH, MAX_BODY_BYTES, startHttpServer } from "../http/server";
import { descriptorLimit } from "../lib/descriptor-limit";
import { logBudget } from "../lib/log-budget";
import { createLogger, type Logger } from "../lib/logger";
import { startLiveServer } from "../live/websocket-server";
import { queryDurationObserver } from "../metrics/core-metrics";
import { Metrics } from "../metrics/metrics";
import { type MetricsServer, startMetricsServer } from "../metrics/metrics-server";
import type { ExpirySweeper } from "../sessions/expiry-sweeper";
import { RevocationFanout } from "../sessions/revocation/revocation-fanout";
import type { SessionPurge } from "../sessions/session-purge";
import { createServices, type Services } from "./services";

/** Client-caused warnings (refused origins, connections past a cap) written per minute, all kinds together. */
const WARNINGS_PER_MINUTE = 20;

/**
 * WS_MAX_CONNECTIONS unset: half the descriptor limit, so that HTTP connections, the database
 * pool and files keep the other half; 1000 where the limit cannot be read.
 */
function defaultSocketCeiling(): number {
  const limit = descriptorLimit();
  return limit === null ? 1000 : Math.max(1, Math.floor(limit / 2));
}

export interface RunningServer {
  url: string;
  /** The node:http server behind `url` (the benchmark times requests on it). */
  httpServer: Server;
  /** The same server's WebSocket (graphql-ws) address. */
  wsUrl: string;
  services: Services;
  /** The periodic purge of ended sessions (tests run a pass on demand). */
  purge: SessionPurge;
  /** Revocations from every instance: `fanout.onRevoked(listener)`. */
  fanout: RevocationFanout;
  sweeper: ExpirySweeper;
  /** GET /metrics's address when METRICS_PORT is set. */
  metricsUrl: string | undefined;
  /** Graceful, in the shutdown order below. */
  stop(): Promise<void>;
}

export interface StartOptions {
  databaseUrl: string;
  /**
   * A direct connection for LISTEN, the leases and the migration lock when `databaseUrl` is a
   * transaction pooler; default DATABASE_LISTEN_URL, else `databaseUrl`, which must then be direct.
   */
  listenUrl?: string;
  /** PostgreSQL schema to use (tests give each file its own). */
  dbSchema?: string;
  logger?: Logger;
  /**
   * A seam for the benchmark: lets it swap the session check for the strategies it compares
   * against (stateless JWT, a database read per request). The server itself never uses it.
   */
  configureServices?: (services: Services) => void;
  /** The schema to serve, when the caller built it (createSessionApi); else ours, per config.federation. */
  schema?: GraphQLSchema;
  /** Library mode: what an app adds (see app/session-api.ts). Nothing of it changes the session check. */
  app?: AppParts;
}

/** An app's own parts in library mode. */
export interface AppParts {
  /** TypeORM migrations for the app's tables, run after ours in one list (ordered by timestamp). */
  migrations?: readonly (new () => MigrationInterface)[];
  /** TypeORM entities, if the app's services use repositories. */
  // biome-ignore lint/complexity/noBannedTypes: TypeORM's own type for entity classes.
  entities?: readonly Function[];
  /** Made once, when the server starts: what resolvers reach as `ctx.app`. */
  services?: (deps: AppServiceDeps) => unknown;
  /** Per-request DataLoaders, made on first use as `ctx.loaders.<name>`. */
  loaders?: Readonly<Record<string, LoaderFactory>>;
}

/** What an app's services are built from. */
export interface AppServiceDeps {
  /**
   * Transactions on the server's pool, with the after-commit queue (db/transaction.ts): what
   * a change announces (an event, a webhook) goes out only once it has committed.
   */
  transactions: Transactions;
  /** Statements of their own on the same pool, in the same `sql` dialect. */
  sql: SqlRunner;
  /** The server's TypeORM data source (its pool, in the server's PostgreSQL schema), for TypeORM users. */
  db: DataSource;
  logger: Logger;
  config: Config;
}

function appServiceDeps(db: DataSource, logger: Logger, config: Config): AppServiceDeps {
  const pool = pgPool(db);
  return { transactions: new Transactions(pool), sql: poolRunner(pool), db, logger, config };
}

/**
 * Connects, applies pending migrations, and serves HTTP (and WebSocket) on config.host:port.
 *
 * Start-up order: without a listen URL, a check that DATABASE_URL is not a transaction pooler;
 * the pool; the migrations under an advisory lock (MIGRATIONS=skip: a check that none is
 * pending); the services (built, not started), the
 * revocation listener (start-up fails if it cannot LISTEN), HTTP, WebSocket, then the
 * periodic sweep and purge.
 *
 * Shutdown order, a contract (each step relies on the later ones still running):
 * 1. the sweeper stops, so it starts no revocation while clients are leaving;
 * 2. sockets close with 1001 ("going away": reconnect to another instance) and upgrades stop;
 * 3. HTTP stops accepting and lets in-flight requests finish: they may still revoke
 *    sessions, read the cache and queue activity, so everything below is still there;
 * 4. the purge stops;
 * 5. the socket registry's timers stop (no socket is left to close);
 * 6. the revocation listener disconnects (nobody here is left to tell);
 * 7. queued activity is written, on the pool;
 * 8. the pool closes;
 * 9. the metrics port closes (a scrape meanwhile still sees the shutdown).
 * main.ts then stops the embedded PostgreSQL, if it started one.
 */
export async function startServer(config: Config, options: StartOptions): Promise<RunningServer> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const timeouts = config.databaseTimeouts;
  const app = options.app ?? {};
  const direct = options.listenUrl ?? config.databaseListenUrl;
  const listenUrl = direct ?? options.databaseUrl;
  if (!direct && (await isTransactionPooler(options.databaseUrl))) throw new PoolerWithoutListenUrlError();
  const metrics = new Metrics();
  const db = createDataSource({
    url: options.databaseUrl,
    schema: options.dbSchema,
    timeouts,
    migrations: app.migrations,
    entities: app.entities,
    observeQuery: queryDurationObserver(metrics),
  });
  await db.initialize();
  const fanout = new RevocationFanout({
    databaseUrl: listenUrl,
    dbSchema: options.dbSchema,
    logger,
    leaseMs: config.revocationLeaseMs,
  });
  let created: Services | undefined;
  let metricsServer: MetricsServer | undefined;
  try {
    if (config.migrations === "skip") {
      const pending = await pendingMigrations(db);
      if (pending.length > 0) throw new SchemaNotCurrentError(pending);
    } else {
      const applied = await migrateUnderLock(db, { lockUrl: listenUrl, schema: options.dbSchema });
      if (applied.length > 0) logger.info({ migrations: applied }, "applied pending migrations");
    }
    const services = (created = createServices(config, db, logger, fanout, metrics));
    // Before the API's port: a metrics port that is taken fails start-up before anything is served.
    if (config.metrics) {
      metrics.collectProcessMetrics();
      metricsServer = await startMetricsServer(metrics, config.metrics);
    }
    await fanout.start();
    options.configureServices?.(services);
    const schema = options.schema ?? (await createApiSchema({ federation: config.federation }));
    const buildContext = contextBuilder(
      options.app
        ? { ...services, app: { services: app.services?.(appServiceDeps(db, logger, config)), loaders: app.loaders ?? {} } }
        : services,
    );
    // Warnings any client can cause share one budget, with a summary of what it held back.
    const warnings = logBudget(logger, { perWindow: WARNINGS_PER_MINUTE, windowMs: 60_000 });
    // One reading of TRUST_PROXY for both transports: a socket and a request count alike.
    const clients = new ClientAddresses(config.trustedProxies);
    const http = await startHttpServer(
      {
        logger,
        config,
        buildContext,
        warnings,
        clients,
        metrics,
        publicKeys: services.accessTokens.publicKeys(),
        verifiers: services.verifiers
          ? {
              leases: services.verifiers,
              lookup: (ids) => services.sessions.lookupSessions(ids),
              serviceKeys: services.serviceKeys,
              logger,
            }
          : undefined,
      },
      schema,
      { host: config.host, port: config.port },
      {
        database: () => db.query("SELECT 1"),
        revocationListener: () => fanout.connected,
        outbox: () => services.outbox.stats(),
      },
    );
    const live = startLiveServer(
      http.server,
      {
        logger,
        config,
        sockets: services.live,
        caps: { perIp: config.socketCaps.perIp, total: config.socketCaps.total ?? defaultSocketCeiling() },
        warnings,
        clients,
        buildContext,
        sessionExpiresAt: (session) => services.sessions.expiresAt(session),
      },
      schema,
      { path: GRAPHQL_PATH, maxPayloadBytes: MAX_BODY_BYTES },
    );
    const { sweeper, purge, live: sockets, lastActive } = services;
    sweeper.start();
    purge.start();
    const outboxWorker = new OutboxWorker(services.outbox, {
      databaseUrl: listenUrl, // direct, never a transaction pooler: the endpoint locks are session advisory locks
      dbSchema: options.dbSchema,
      logger,
      urls: config.outbox.webhookUrls,
      secret: config.outbox.webhookSecret,
      timeoutMs: config.outbox.webhookTimeoutMs,
      backoffMs: config.outbox.backoffMs,
      maxBackoffMs: config.outbox.maxBackoffMs,
      pollMs: config.outbox.pollMs,
      retentionSeconds: config.outbox.retentionSeconds,
      metrics: services.metrics,
    });
    outboxWorker.start();
    return {
      url: http.url,
      httpServer: http.server,
      wsUrl: http.url.replace(/^http/, "ws"),
      services,
      purge,
      fanout,
      sweeper,
      metricsUrl: metricsServer?.url,
      async stop() {
        await sweeper.stop();
        await outboxWorker.stop();
        await live.dispose();
        await http.stop();
        await purge.stop();
        sockets.stop();
        await fanout.close();
        await lastActive.close();
        await db.destroy();
        warnings.flush();
        await metricsServer?.stop();
      },
    };
  } catch (error) {
    await metricsServer?.stop();
    await fanout.close();
    await created?.lastActive.close();
    await db.destroy();
    throw error;
  }
}
