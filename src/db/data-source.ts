import { DataSource, type MigrationInterface } from "typeorm";
import { SessionEntity } from "../sessions/session.entity";
import { UserEntity } from "../users/user.entity";
import { MIGRATIONS } from "./migrations";
import { BoundedClient, boundedClientConfig, type DatabaseTimeouts } from "./pg-timeouts";

export const ENTITIES = [UserEntity, SessionEntity];

export interface DataSourceOptions {
  url: string;
  /** A PostgreSQL schema to work in (tests give each file its own); default `public`. */
  schema?: string;
  poolSize?: number;
  /**
   * Bounds on every wait for the database (the server passes DB_*; see pg-timeouts.ts).
   * Without them (the migration CLI) a statement may take as long as it needs.
   */
  timeouts?: DatabaseTimeouts;
  /** Library mode: an app's migrations, run with ours (TypeORM orders them by timestamp). */
  migrations?: readonly (new () => MigrationInterface)[];
  /** Library mode: an app's entities. */
  // biome-ignore lint/complexity/noBannedTypes: TypeORM's own type for entity classes.
  entities?: readonly Function[];
  /** Told each pool statement's duration in seconds (with `timeouts` only: the server's pool). */
  observeQuery?: (seconds: number) => void;
}

/** The application's data source. Never `synchronize`: the schema changes only by migrations. */
export function createDataSource({
  url,
  schema,
  poolSize = 10,
  timeouts,
  migrations = [],
  entities = [],
  observeQuery,
}: DataSourceOptions): DataSource {
  return new DataSource({
    type: "postgres",
    url,
    schema,
    entities: [...ENTITIES, ...entities],
    migrations: [...MIGRATIONS, ...migrations],
    migrationsTableName: "migrations",
    migrationsTransactionMode: "each",
    synchronize: false,
    // Off: TypeORM logs failed queries with their parameters (hashes, emails). Errors reach
    // our own logger, whose serializer drops the parameters.
    logging: false,
    extra: {
      max: poolSize,
      ...(timeouts ? { ...boundedClientConfig(timeouts), Client: BoundedClient, observeQuery } : {}),
      // Unqualified names in migrations and raw SQL resolve inside the chosen schema.
      ...(schema ? { options: `-c search_path=${schema}` } : {}),
    },
  });
}
