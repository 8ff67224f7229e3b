import "reflect-metadata";
import { Client } from "pg";
import { createNotesApi } from "../examples/notes/src/notes-api";
import { startSupergraph } from "../examples/supergraph/src/supergraph";

/**
 * The integration modes under load, in a process of their own (the load generator keeps its
 * core): the notes app in library mode, and the supergraph (session API, notes subgraph,
 * gateway, all three in this one process). Each in its own PostgreSQL schema. Prints
 * `ready {"library":url,"gateway":url,"direct":url}` when all listen; SIGTERM, or the
 * benchmark's death, stops them.
 */
async function main() {
  const databaseUrl = process.env.DATABASE_URL!;
  const suffix = process.argv.find((a) => a.startsWith("--schema="))!.slice("--schema=".length);
  const schemas = [`${suffix}_library`, `${suffix}_federation`];
  const admin = new Client({ connectionString: databaseUrl });
  await admin.connect();
  for (const s of schemas) await admin.query(`CREATE SCHEMA ${s}`);
  const env = { NODE_ENV: "production", PORT: "0", LOG_LEVEL: "warn" };
  const library = await createNotesApi({ env, databaseUrl, dbSchema: schemas[0] });
  await library.listen();
  const supergraph = await startSupergraph({ api: { env, databaseUrl, dbSchema: schemas[1] } });
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await supergraph.stop();
    await library.close();
    for (const s of schemas) await admin.query(`DROP SCHEMA ${s} CASCADE`);
    await admin.end();
    process.exit(0);
  };
  process.once("SIGTERM", () => void stop());
  // If the benchmark dies without a word (killed), we stop too: we are handed to another parent.
  const parent = process.ppid;
  setInterval(() => process.ppid !== parent && void stop(), 1000).unref();
  console.log(`ready ${JSON.stringify({ library: library.url, gateway: supergraph.gateway.url, direct: supergraph.api.url })}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
