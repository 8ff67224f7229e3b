import type { Pool } from "pg";
import { poolRunner, type SqlRunner } from "../db/pg-pool";
import { sql } from "../db/sql";

/** A key as stored: never its secret, only the secret's hash. */
export interface ServiceKeyRow {
  id: string;
  prefix: string;
  name: string;
  secretHash: Buffer;
  scopes: string[];
  createdAt: Date;
  revokedAt: Date | null;
}

interface Row {
  id: string;
  prefix: string;
  name: string;
  secret_hash: Buffer;
  scopes: string[];
  created_at: Date;
  revoked_at: Date | null;
}

const fromRow = (r: Row): ServiceKeyRow => ({
  id: r.id,
  prefix: r.prefix,
  name: r.name,
  secretHash: r.secret_hash,
  scopes: r.scopes,
  createdAt: r.created_at,
  revokedAt: r.revoked_at,
});

/** Every SQL statement on `service_keys`, each on the pool, each its own transaction. */
export class ServiceKeyStore {
  private readonly run: SqlRunner;

  constructor(pool: Pool) {
    this.run = poolRunner(pool);
  }

  async insert(key: { prefix: string; name: string; secretHash: Buffer; scopes: readonly string[] }): Promise<ServiceKeyRow> {
    const [row] = await this.run.rows<Row>(sql`
      INSERT INTO service_keys (prefix, name, secret_hash, scopes)
      VALUES (${key.prefix}, ${key.name}, ${key.secretHash}, ${[...key.scopes]})
      RETURNING *`);
    return fromRow(row);
  }

  /** The key with this prefix, revoked or not: one unique-index read, on every request that carries a key. */
  async byPrefix(prefix: string): Promise<ServiceKeyRow | null> {
    const [row] = await this.run.rows<Row>(sql`SELECT * FROM service_keys WHERE prefix = ${prefix}`, "service-key-by-prefix");
    return row ? fromRow(row) : null;
  }

  /** Marks the key revoked; false if there is no live key with this prefix. */
  async revoke(prefix: string): Promise<boolean> {
    const rows = await this.run.rows(
      sql`UPDATE service_keys SET revoked_at = now() WHERE prefix = ${prefix} AND revoked_at IS NULL RETURNING id`,
    );
    return rows.length > 0;
  }

  async list(): Promise<ServiceKeyRow[]> {
    return (await this.run.rows<Row>(sql`SELECT * FROM service_keys ORDER BY created_at, prefix`)).map(fromRow);
  }
}
