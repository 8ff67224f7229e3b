import { createNotesApi } from "./notes-api";

/**
 * npm run example:notes: the notes app on the session API, in development mode, on the
 * embedded PostgreSQL unless DATABASE_URL is set. Prints its URL on a line of its own.
 */
async function main() {
  const api = await createNotesApi({ env: { NODE_ENV: "development", LOG_LEVEL: "warn" } });
  const { url } = await api.listen();
  const stop = () => void api.close().then(() => process.exit(0));
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  console.log(url);
}

main().catch((error: unknown) => {
  console.error("the notes example failed to start:", error instanceof Error ? error.message : error);
  process.exit(1);
});
