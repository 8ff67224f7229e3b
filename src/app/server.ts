import type { Server } from "node:http";
import type { Config } from "../config/environment";
import { createDataSource } from "../db/data-source";
import { OutboxWorker } from "../events/outbox-worker";
import { contextBuilder } from "../graphql/context";
import { createSchema } from "../graphql/schema";
import { GRAPHQL_PATH, MAX_BODY_BYTES, startHttpServer } from "../http/server";
import { descriptorLimit } from "../lib/descriptor-limit";
import { logBudget } from "../lib/log-budget";
import { createLogger, type Logger } from "../lib/logger";
import { startLiveServer } from "../live/websocket-server";
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
  /** Graceful, in the shutdown order below. */
  stop(): Promise<void>;
}

export interface StartOptions {
  databaseUrl: string;
  /** PostgreSQL schema to use (tests give each file its own). */
  dbSchema?: string;
  logger?: Logger;
  /**
   * A seam for the benchmark: lets it swap the session check for the strategies it compares
   * against (stateless JWT, a database read per request). The server itself never uses it.
   */
  configureServices?: (services: Services) => void;
}

/**
 * Connects, applies pending migrations, and serves HTTP (and WebSocket) on config.host:port.
 *
 * Start-up order: the pool, the migrations, the services (built, not started), the
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
 * 8. the pool closes.
 * main.ts then stops the embedded PostgreSQL, if it started one.
 */
export async function startServer(config: Config, options: StartOptions): Promise<RunningServer> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const timeouts = config.databaseTimeouts;
  const db = createDataSource({ url: options.databaseUrl, schema: options.dbSchema, timeouts });
  await db.initialize();
  const fanout = new RevocationFanout({
    databaseUrl: options.databaseUrl,
    dbSchema: options.dbSchema,
    logger,
    leaseMs: config.revocationLeaseMs,
  });
  let created: Services | undefined;
  try {
    await db.runMigrations({ transaction: "each" });
    const services = (created = createServices(config, db, logger, fanout));
    await fanout.start();
    options.configureServices?.(services);
    const schema = await createSchema();
    const buildContext = contextBuilder(services);
    // Warnings any client can cause share one budget, with a summary of what it held back.
    const warnings = logBudget(logger, { perWindow: WARNINGS_PER_MINUTE, windowMs: 60_000 });
    const http = await startHttpServer(
      { logger, config, buildContext, warnings, publicKeys: services.accessTokens.publicKeys() },
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
      databaseUrl: options.databaseUrl,
      dbSchema: options.dbSchema,
      logger,
      urls: config.outbox.webhookUrls,
      secret: config.outbox.webhookSecret,
      timeoutMs: config.outbox.webhookTimeoutMs,
      backoffMs: config.outbox.backoffMs,
      maxBackoffMs: config.outbox.maxBackoffMs,
      pollMs: config.outbox.pollMs,
      retentionSeconds: config.outbox.retentionSeconds,
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
      },
    };
  } catch (error) {
    await fanout.close();
    await created?.lastActive.close();
    await db.destroy();
    throw error;
  }
}
