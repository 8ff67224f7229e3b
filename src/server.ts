import type { Server } from "node:http";
import type { DataSource } from "typeorm";
import { createServices, type Services } from "./app";
import type { Config } from "./config/environment";
import { createDataSource } from "./db/data-source";
import { createSchema } from "./graphql/schema";
import { GRAPHQL_PATH, MAX_BODY_BYTES, startHttpServer } from "./http/server";
import { createLogger, type Logger } from "./lib/logger";
import { RevocationFanout } from "./live/revocation-fanout";
import { startLiveServer } from "./live/websocket-server";
import { ExpirySweeper } from "./sessions/expiry-sweeper";
import { SessionPurge } from "./sessions/session-purge";

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
  /** Graceful: sockets closed with 1001, in-flight requests finished, then everything released. */
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

/** Connects, applies pending migrations, and serves HTTP (and WebSocket) on config.host:port. */
export async function startServer(config: Config, options: StartOptions): Promise<RunningServer> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const db: DataSource = createDataSource({ url: options.databaseUrl, schema: options.dbSchema });
  await db.initialize();
  const fanout = new RevocationFanout({ databaseUrl: options.databaseUrl, dbSchema: options.dbSchema, logger });
  try {
    await db.runMigrations({ transaction: "each" });
    const services = createServices(config, db, logger, {
      sessionsRevoked: (revocations) => fanout.echo(revocations),
      userChanged: () => undefined,
    });
    // Other instances' revocations: out of the cache first, then to this instance's sockets.
    // The cache answers from memory only while this listener is connected.
    fanout.onRevoked((revocations) => {
      services.sessionCache.invalidate(revocations.map((r) => r.sessionId));
      services.live.deliver(revocations);
    });
    fanout.onResync((since) => services.live.resync(since));
    fanout.onConnectionChange((connected) => services.sessionCache.setTrusted(connected));
    await fanout.start();
    options.configureServices?.(services);
    const schema = await createSchema();
    const http = await startHttpServer(services, schema, { host: config.host, port: config.port }, {
      database: () => db.query("SELECT 1"),
      revocationListener: () => fanout.connected,
    });
    const live = startLiveServer(http.server, services, schema, { path: GRAPHQL_PATH, maxPayloadBytes: MAX_BODY_BYTES });
    const sweeper = new ExpirySweeper(services.sessions, logger, config.sessionSweepInterval * 1000);
    sweeper.start();
    const purge = new SessionPurge(
      db,
      { retention: config.sessionRetention, idleTtl: config.sessionIdleTtl, intervalMs: config.sessionPurgeInterval * 1000 },
      logger,
    );
    purge.start();
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
        // Sockets first (1001 tells clients to reconnect elsewhere), then HTTP drains its
        // in-flight requests, then the listeners and the pool go.
        await live.dispose();
        await http.stop();
        await purge.stop();
        services.live.stop();
        await fanout.close();
        await services.lastActive.close();
        await db.destroy();
      },
    };
  } catch (error) {
    await fanout.close();
    await db.destroy();
    throw error;
  }
}
