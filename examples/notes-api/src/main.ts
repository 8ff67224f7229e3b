import type { AddressInfo } from "node:net";
import { createSessionVerifier } from "@session-api/backend";
import pg from "pg";
import { createNotesApp, createNotesTable } from "./notes-app.js";

/**
 * `node dist/main.js`, configured by the environment:
 * SESSION_API_URL (the session API, e.g. http://127.0.0.1:4000), SESSION_SERVICE_KEY (a key with
 * the scope sessions:stream), DATABASE_URL (this app's own database), NOTES_DB_SCHEMA (optional:
 * a schema for its table), PORT (default 4100; 0 picks one), HOST (default 127.0.0.1).
 * Prints `notes-api listening on <url>` once it serves.
 */
function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    console.error(`notes-api: ${name} is not set`);
    process.exit(1);
  }
  return value;
}

const schema = process.env.NOTES_DB_SCHEMA;
const db = new pg.Pool({
  connectionString: required("DATABASE_URL"),
  max: 5,
  ...(schema ? { options: `-c search_path=${schema}` } : {}),
});
const sessions = createSessionVerifier({
  url: required("SESSION_API_URL"),
  serviceKey: required("SESSION_SERVICE_KEY"),
  onError: (error) => console.error("notes-api: session verifier:", error instanceof Error ? error.message : error),
});
// A backend's own caches and sockets for a session go when it ends.
sessions.onRevoked((event) => {
  if (process.env.NOTES_LOG_REVOCATIONS) console.log(`notes-api: session ${event.sessionId} ended (${event.reason})`);
});

await createNotesTable(db);
await sessions.ready();
const server = createNotesApp(sessions, db).listen(Number(process.env.PORT ?? 4100), process.env.HOST ?? "127.0.0.1", () => {
  const { address, port } = server.address() as AddressInfo;
  console.log(`notes-api listening on http://${address}:${port}`);
});

async function stop() {
  server.close();
  await sessions.close();
  await db.end();
  process.exit(0);
}
process.once("SIGTERM", () => void stop());
process.once("SIGINT", () => void stop());
