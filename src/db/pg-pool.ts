import type { Pool, QueryResultRow } from "pg";
import type { DataSource } from "typeorm";
import type { PostgresDriver } from "typeorm/driver/postgres/PostgresDriver";
import { invariant } from "../lib/invariant";
import { render, type Sql } from "./sql";

/**
 * The pg pool under TypeORM's data source: the one place that reaches into TypeORM's driver.
 * Sharing it (rather than a second pool) keeps one connection limit and, in the tests, each
 * file's `search_path`.
 */
export function pgPool(db: DataSource): Pool {
  const pool = (db.driver as PostgresDriver).master as Pool | undefined;
  invariant(pool, "the data source is not initialized");
  return pool;
}

/**
 * The pool, for a library that names its statements (rate-limiter-flexible does), with the
 * names dropped: behind a transaction pooler that keeps no prepared statements, a named
 * statement fails with "prepared statement ... already exists" or "does not exist" once the
 * pooler hands the client another server connection. (DATABASE_PREPARED_STATEMENTS=false.)
 */
export function withoutStatementNames(pool: Pool): Pool {
  const unnamed = Object.create(pool) as Pool;
  unnamed.query = ((config: unknown, ...rest: unknown[]) =>
    (pool.query as (...args: unknown[]) => unknown)(
      config !== null && typeof config === "object" && "name" in config ? { ...config, name: undefined } : config,
      ...rest,
    )) as Pool["query"];
  return unnamed;
}

/** Runs a statement and answers its rows. */
export interface SqlRunner {
  /** `name` prepares the statement once per connection (pool only): for the hot paths. */
  rows<T extends QueryResultRow>(query: Sql, name?: string): Promise<T[]>;
}

/**
 * Statements on the pool, each its own transaction. `prepared: false` drops the names (each
 * statement is parsed every time): behind a transaction pooler that cannot keep prepared
 * statements, the next statement may land on a connection that never saw the PREPARE.
 */
export function poolRunner(pool: Pool, { prepared = true }: { prepared?: boolean } = {}): SqlRunner {
  return {
    async rows<T extends QueryResultRow>(query: Sql, name?: string) {
      const { text, values } = render(query);
      return (await pool.query<T>({ name: prepared ? name : undefined, text, values })).rows;
    },
  };
}
