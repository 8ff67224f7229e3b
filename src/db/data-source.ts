import path from "node:path";
import { DataSource } from "typeorm";
import { SessionEntity } from "../sessions/session.entity";
import { UserEntity } from "../users/user.entity";

export const ENTITIES = [UserEntity, SessionEntity];

// Compiled migrations live beside the compiled sources (dist/migrations); the TypeORM CLI
// runs on compiled output too, so both see the same files.
const MIGRATIONS = [path.join(__dirname, "..", "..", "migrations", "*.js")];

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
    logging: ["error"],
    extra: {
      max: poolSize,
      // Unqualified names in migrations and raw SQL resolve inside the chosen schema.
      ...(schema ? { options: `-c search_path=${schema}` } : {}),
    },
  });
}
