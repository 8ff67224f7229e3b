import { randomBytes } from "node:crypto";
import { Client } from "pg";
import { type RunningServer, startServer } from "../../src/app/server";
import { loadConfig } from "../../src/config/environment";
import { createLogger } from "../../src/lib/logger";

/** Settings every drill server starts with; a drill sets the database bounds it is about. */
export const DRILL_ENV = {
  NODE_ENV: "test",
  PORT: "0",
  HOST: "127.0.0.1",
  PASSWORD_HASH_COST: "10",
  REGISTER_MAX_PER_IP: "100000",
  LOG_LEVEL: "warn",
};

export interface DrillServer extends RunningServer {
  /** Every line the server logged (warn and above). */
  readonly logLines: string[];
  /** Lines that say something went wrong that nobody expected. */
  unexpected(): string[];
}

/** The real server, in this process, on `databaseUrl` (in `dbSchema`, if given). */
export async function startDrillServer(
  databaseUrl: string,
  env: Record<string, string> = {},
  shared: { dbSchema?: string; signingKeys?: string } = {},
): Promise<DrillServer> {
  const logLines: string[] = [];
  const config = loadConfig({ ...DRILL_ENV, ...(shared.signingKeys ? { JWT_PRIVATE_KEYS: shared.signingKeys } : {}), ...env });
  const logger = createLogger(config.logLevel, { write: (line: string) => void logLines.push(line) });
  const server = await startServer(config, { databaseUrl, dbSchema: shared.dbSchema, logger });
  return {
    ...server,
    logLines,
    unexpected: () => logLines.filter((line) => /"level":(50|60)/.test(line)),
  };
}

async function admin(databaseUrl: string, text: string): Promise<void> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/** A fresh schema on a shared database, for drills that do not own their cluster. */
export async function createDrillSchema(databaseUrl: string): Promise<{ name: string; drop(): Promise<void> }> {
  const name = `drill_${randomBytes(6).toString("hex")}`;
  await admin(databaseUrl, `CREATE SCHEMA "${name}"`);
  return { name, drop: () => admin(databaseUrl, `DROP SCHEMA "${name}" CASCADE`) };
}
