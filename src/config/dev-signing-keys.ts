import { chmod, mkdir, readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { DEFAULT_SIGNING_ALGORITHM, generateSigningKey, parseKeyRing, type SigningKey } from "../lib/signing-keys";
import type { Config } from "./environment";

export const DEV_SIGNING_KEYS_FILE = "jwt-keys.pem";

/** Where development keeps its key ring: `<DATA_DIR>/jwt-keys.pem`. */
export function devSigningKeysFile(dataDir: string): string {
  return path.resolve(dataDir, DEV_SIGNING_KEYS_FILE);
}

/**
 * Development without JWT_PRIVATE_KEYS: one key ring, made on first start and kept in the
 * data folder (`<DATA_DIR>/jwt-keys.pem`, mode 600, the format of JWT_PRIVATE_KEYS), so access
 * tokens survive a restart and work on a second local instance, and `npm run keys -- rotate`
 * has a ring to rotate. Start-up code calls this; the config loader stays pure. Production
 * never does: there JWT_PRIVATE_KEYS is required (see environment.ts).
 */
export async function keepDevSigningKeys(
  dataDir: string,
): Promise<{ keys: readonly SigningKey[]; file: string; created: boolean }> {
  const file = devSigningKeysFile(dataDir);
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  try {
    // "wx": of two instances starting at once, one writes and the other reads what it wrote.
    const text = generateSigningKey(DEFAULT_SIGNING_ALGORITHM);
    await writeFile(file, text, { mode: 0o600, flag: "wx" });
    return { keys: parseKeyRing(text), file, created: true };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
  if (((await stat(file)).mode & 0o077) !== 0) await chmod(file, 0o600);
  try {
    return { keys: parseKeyRing(await readFile(file, "utf8")), file, created: false };
  } catch (error) {
    throw new Error(`${file}: ${(error as Error).message} (delete it to make a new key)`);
  }
}

/** The same frozen config with another key ring. */
export function withSigningKeys(config: Config, keys: readonly SigningKey[]): Config {
  return Object.freeze({ ...config, jwt: Object.freeze({ ...config.jwt, keys: Object.freeze([...keys]), generated: false }) });
}
