import { randomBytes } from "node:crypto";
import { chmod, mkdir, readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Config } from "./environment";

export const DEV_JWT_SECRET_FILE = "jwt-secret";

/**
 * Development without JWT_SECRET: one secret, made on first start and kept in the data folder
 * (`<DATA_DIR>/jwt-secret`, mode 600), so access tokens survive a restart and work on a second
 * local instance. Start-up code calls this; the config loader stays pure. Production never does:
 * there JWT_SECRET is required (see environment.ts).
 */
export async function keepDevJwtSecret(dataDir: string): Promise<{ secret: string; file: string; created: boolean }> {
  const file = path.resolve(dataDir, DEV_JWT_SECRET_FILE);
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const secret = randomBytes(32).toString("base64url");
  try {
    // "wx": of two instances starting at once, one writes and the other reads what it wrote.
    await writeFile(file, `${secret}\n`, { mode: 0o600, flag: "wx" });
    return { secret, file, created: true };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
  const kept = (await readFile(file, "utf8")).trim();
  if (kept.length < 32) throw new Error(`${file} holds no usable secret (fewer than 32 characters): delete it to make a new one`);
  if (((await stat(file)).mode & 0o077) !== 0) await chmod(file, 0o600);
  return { secret: kept, file, created: false };
}

/** The same frozen config with another signing secret. */
export function withJwtSecret(config: Config, secret: string): Config {
  return Object.freeze({ ...config, jwt: Object.freeze({ ...config.jwt, secret, generated: false }) });
}
