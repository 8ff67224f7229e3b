import { Client } from "pg";

/**
 * Whether `url` leads to a transaction pooler (PgBouncer in transaction mode, RDS Proxy, the
 * poolers of Supabase and Neon), found by behaviour rather than by product name: on a direct
 * connection a client keeps one backend (one `pg_backend_pid()`) for its whole life; behind a
 * transaction pooler, a client that goes idle while another client's transaction ends may be
 * handed that other client's backend for its next statement.
 *
 * Client A holds a transaction (so its backend is pinned to it) while B reads its pid, then A
 * commits and B reads it again: behind a pooler the two reads (or B's first, before A began)
 * come from different backends.
 * PgBouncer hands out the most recently used server connection (server_round_robin = 0, its
 * default), so it is caught at the first try; a few rounds cover poolers that choose otherwise.
 */
export async function isTransactionPooler(url: string): Promise<boolean> {
  const connect = async () => {
    const client = new Client({ connectionString: url, connectionTimeoutMillis: 5000 });
    await client.connect();
    return client;
  };
  const a = await connect();
  try {
    const b = await connect();
    try {
      const pid = async (client: Client) => (await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0].pid;
      const seen = new Set([await pid(b)]);
      for (let round = 0; round < 3 && seen.size === 1; round++) {
        await a.query("BEGIN");
        await pid(a);
        seen.add(await pid(b));
        await a.query("COMMIT");
        seen.add(await pid(b));
      }
      return seen.size > 1;
    } finally {
      await b.end().catch(() => undefined);
    }
  } finally {
    await a.end().catch(() => undefined);
  }
}

export class PoolerWithoutListenUrlError extends Error {
  constructor() {
    super(
      "DATABASE_URL leads to a transaction pooler (a client's statements ran on different PostgreSQL backends): " +
        "LISTEN, the instance leases and the migration lock need a direct connection. Set DATABASE_LISTEN_URL to " +
        "a direct URL of the same database (and DATABASE_PREPARED_STATEMENTS=false unless the pooler keeps " +
        "prepared statements, as PgBouncer 1.21+ with max_prepared_statements does).",
    );
    this.name = "PoolerWithoutListenUrlError";
  }
}
