import path from "node:path";
import chromiumBinary from "@sparticuz/chromium";
import { startEmbeddedPostgres } from "../../src/dev/embedded-postgres";

/**
 * Tests use DATABASE_URL when set (CI points it at the machine's PostgreSQL); otherwise one
 * embedded PostgreSQL for the whole run, shared by the workers through the environment.
 * Either way each test file works in a schema of its own.
 *
 * Chromium is unpacked here, once, before any worker starts: on a fresh machine the browser
 * test files would otherwise unpack it to the same /tmp path side by side, and a worker that
 * launches the binary while another is still writing it fails with ETXTBSY.
 */
export default async function globalSetup(): Promise<void> {
  await chromiumBinary.executablePath();
  if (process.env.DATABASE_URL) return;
  const pg = await startEmbeddedPostgres({ dataDir: path.join(__dirname, "..", "..", ".data", "postgres-test") });
  process.env.DATABASE_URL = pg.url;
  (globalThis as { __embeddedPg?: { stop(): Promise<void> } }).__embeddedPg = pg;
}
