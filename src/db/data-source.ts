import { DataSource } from "typeorm";
import { SessionEntity } from "../sessions/session.entity";
import { UserEntity } from "../users/user.entity";
import { MIGRATIONS } from "./migrations";

export const ENTITIES = [UserEntity, SessionEntity];

export interface DataSourceOptions {
  url: string;
  /** A PostgreSQL schema to work in (tests give each file its own); default `public`. */
  schema?: string;
  poolSize?: number;
}

/** The application's data source. Never `synchronize`: the schema changes only by migrations. */
export function createDataSource({ url, schema, poolSize = 10 }: DataSourceOptions): DataSource {
  return new DataSource({
    type: "postgres",
    url,
    schema,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: "migrations",
    migrationsTransactionMode: "each",
    synchronize: false,
    // Off: TypeORM logs failed queries with their parameters (hashes, emails). Errors reach
    // our own logger, whose serializer drops the parameters.
    logging: false,
    extra: {
      max: poolSize,
      // Unqualified names in migrations and raw SQL resolve inside the chosen schema.
      ...(schema ? { options: `-c search_path=${schema}` } : {}),
    },
  });
}
