import { Client, type ClientConfig } from "pg";

/** How long the database may take, each in seconds (see the DB_* settings in config/environment.ts). */
export interface DatabaseTimeouts {
  /** To get a connection: connect a new one, or wait for a free one in the pool. */
  connect: number;
  /** A statement, as PostgreSQL's statement_timeout; the client waits one second more. */
  statement: number;
  /** A transaction left idle, as PostgreSQL's idle_in_transaction_session_timeout. */
  idleInTransaction: number;
}

/**
 * A pg client that gives up on a connection whose statement got no answer at all. pg's
 * `query_timeout` fails the statement but keeps the connection, still waiting for the answer:
 * every later statement on it (the ROLLBACK after the failure, the next request's queries)
 * would wait its own timeout behind the lost one. This one ends it instead (pg's `end()`
 * destroys a socket with a statement in flight), so the pool replaces it.
 */
export class BoundedClient extends Client {
  constructor(config?: string | BoundedClientConfig) {
    super(config);
    const query = this.query.bind(this) as (...args: unknown[]) => unknown;
    // The pool hands its own options to each client it makes: the metrics' timer rides along.
    const observe = typeof config === "object" ? config.observeQuery : undefined;
    const dropIfTimedOut = (error: unknown) => {
      if (error instanceof Error && error.message === "Query read timeout") void this.end().catch(() => undefined);
    };
    this.query = ((...args: unknown[]) => {
      const started = observe ? performance.now() : 0;
      const done = observe ? () => observe((performance.now() - started) / 1000) : undefined;
      const callback = args.at(-1);
      if (typeof callback === "function") {
        args[args.length - 1] = (error: unknown, result: unknown) => {
          done?.();
          dropIfTimedOut(error);
          callback(error, result);
        };
        return query(...args);
      }
      const result = query(...args);
      if (typeof (result as Promise<unknown> | undefined)?.then === "function") {
        if (done) (result as Promise<unknown>).then(done, done);
        (result as Promise<unknown>).catch(dropIfTimedOut);
      }
      return result;
    }) as Client["query"];
  }
}

export interface BoundedClientConfig extends ClientConfig {
  /** Told each statement's duration in seconds (the metrics' histogram). */
  observeQuery?: (seconds: number) => void;
}

/**
 * The node-postgres settings that bound every wait on the database, for the pool and for the
 * revocation listener's own client. PostgreSQL enforces the statement and idle-transaction
 * limits itself (sent at connect); the client enforces the connect limit and, one second past
 * the statement limit, gives up on a database that does not answer at all (a black hole).
 */
export function boundedClientConfig(timeouts: DatabaseTimeouts): ClientConfig {
  return {
    connectionTimeoutMillis: timeouts.connect * 1000,
    statement_timeout: timeouts.statement * 1000,
    query_timeout: (timeouts.statement + 1) * 1000,
    idle_in_transaction_session_timeout: timeouts.idleInTransaction * 1000,
    // Lets the OS notice a peer that vanished while a connection sat idle.
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
  };
}
