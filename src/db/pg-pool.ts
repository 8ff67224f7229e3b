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

/** Runs a statement and answers its rows. */
export interface SqlRunner {
  /** `name` prepares the statement once per connection (pool only): for the hot paths. */
  rows<T extends QueryResultRow>(query: Sql, name?: string): Promise<T[]>;
}

/** Statements on the pool, each its own transaction. */
export function poolRunner(pool: Pool): SqlRunner {
  return {
    async rows<T extends QueryResultRow>(query: Sql, name?: string) {
      const { text, values } = render(query);
      return (await pool.query<T>({ name, text, values })).rows;
    },
  };
}
