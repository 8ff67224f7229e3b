import { existsSync } from "node:fs";
import { readFile, rename, writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { devSigningKeysFile } from "../config/dev-signing-keys";
import {
  DEFAULT_SIGNING_ALGORITHM,
  formatKeyRing,
  generateSigningKey,
  JWKS_MAX_AGE,
  KeyRingError,
  parseKeyRing,
  type SigningKey,
  signerAt,
} from "../lib/signing-keys";
import { type CommandContext, CommandError, type CommandGroup } from "./command";

/** Clocks of several instances and the verifiers differ a little; a retired key waits this much longer. */
const CLOCK_MARGIN_SECONDS = 60;
/** A rotated-in key is published this long before it signs: a JWKS cached just before holds it. */
const DEFAULT_LEAD_SECONDS = JWKS_MAX_AGE + CLOCK_MARGIN_SECONDS;

/** When `key` stopped signing: the time the next key took over (undefined: it still signs, or may). */
function stoppedSigningAt(keys: readonly SigningKey[], key: SigningKey, now: number): number | undefined {
  const signer = signerAt(keys, now);
  if (key === signer) return undefined;
  const later = keys.filter((k) => k.privateKey && k.signsFrom > key.signsFrom && k.signsFrom <= now).map((k) => k.signsFrom);
  if (later.length > 0) return Math.min(...later);
  // Listed after a key with the same time (or none): it never signed, since that key came first.
  return signer && signer.signsFrom === key.signsFrom ? signer.signsFrom : undefined;
}

const iso = (ms: number) => (Number.isFinite(ms) ? new Date(ms).toISOString() : "always");

/** The ring file: `--file`, else development's `<DATA_DIR>/jwt-keys.pem`. */
function ringFile(ctx: CommandContext, file: string | undefined): string {
  if (file) return file;
  if (ctx.config.isProduction) {
    throw new CommandError(
      'in production the ring lives where you keep JWT_PRIVATE_KEYS: pass --file <path> (then load it with JWT_PRIVATE_KEYS="$(cat <path>)")',
    );
  }
  return devSigningKeysFile(ctx.config.dataDir);
}

async function readRing(file: string): Promise<SigningKey[]> {
  try {
    return parseKeyRing(await readFile(file, "utf8"));
  } catch (error) {
    if (error instanceof KeyRingError) throw new CommandError(`${file}: ${error.message}`);
    throw error;
  }
}

/** Written whole or not at all (a temporary file renamed over it), readable by its owner only. */
async function writeRing(file: string, blocks: readonly string[]): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, formatKeyRing(blocks), { mode: 0o600 });
  await rename(temporary, file);
}

function describeRing(keys: readonly SigningKey[], now: number, ttl: number, print: (line: string) => void) {
  const signer = signerAt(keys, now);
  for (const key of keys) {
    const stopped = stoppedSigningAt(keys, key, now);
    const role =
      key === signer
        ? "signs now"
        : key.signsFrom > now
          ? `published; signs from ${iso(key.signsFrom)}`
          : stopped !== undefined
            ? `verifies only; its last tokens expire by ${iso(stopped + ttl * 1000)}`
            : "verifies only";
    print(`${key.kid}  ${key.alg}  ${key.privateKey ? "private" : "public only"}  ${role}`);
  }
}

export const signingKeyCommands: CommandGroup = {
  rotate: {
    usage: "rotate [--file <ring.pem>] [--lead <seconds>] [--alg ES256|EdDSA]",
    summary: `add a new signing key, published now and signing after --lead (default ${DEFAULT_LEAD_SECONDS} s); drop keys whose last token has expired`,
    async run(args, ctx) {
      const { values } = parseArgs({
        args,
        options: { file: { type: "string" }, lead: { type: "string" }, alg: { type: "string" } },
      });
      const lead = values.lead === undefined ? DEFAULT_LEAD_SECONDS : Number(values.lead);
      if (!Number.isInteger(lead) || lead < 0) throw new CommandError("--lead must be a whole number of seconds");
      const alg = values.alg ?? DEFAULT_SIGNING_ALGORITHM;
      if (alg !== "ES256" && alg !== "EdDSA") throw new CommandError("--alg must be ES256 or EdDSA");
      const file = ringFile(ctx, values.file);
      const ttl = ctx.config.accessTokenTtl;
      const now = Date.now();
      const keys = existsSync(file) ? await readRing(file) : [];
      const pending = keys.find((k) => k.privateKey && k.signsFrom > now);
      if (pending) {
        throw new CommandError(
          `a rotation is under way: ${pending.kid} signs from ${iso(pending.signsFrom)}; rotate again after that`,
        );
      }
      // A key may go once the last token it signed has expired (and the clocks' margin passed).
      const kept = keys.filter((key) => {
        const stopped = stoppedSigningAt(keys, key, now);
        return stopped === undefined || stopped + (ttl + CLOCK_MARGIN_SECONDS) * 1000 > now;
      });
      for (const key of keys) if (!kept.includes(key)) ctx.print(`dropped ${key.kid}: the last token it signed has expired`);
      // The first key of a new ring signs at once: nothing can have cached a ring that did not exist.
      const signsFrom = keys.length === 0 ? now : now + lead * 1000;
      const pem = `signs-from: ${new Date(signsFrom).toISOString()}\n${generateSigningKey(alg)}`;
      await writeRing(file, [...kept.map((k) => k.pem), pem]);
      const ring = await readRing(file);
      ctx.print(`wrote ${file}:`);
      describeRing(ring, now, ttl, ctx.print);
      if (keys.length > 0) {
        ctx.print(
          `restart or redeploy every instance with this ring before ${iso(signsFrom)}; the key it replaces keeps verifying until its tokens have expired`,
        );
      }
      return 0;
    },
  },
  list: {
    usage: "list [--file <ring.pem>]",
    summary: "show each key of the ring: its kid, algorithm and role",
    async run(args, ctx) {
      const { values } = parseArgs({ args, options: { file: { type: "string" } } });
      const file = ringFile(ctx, values.file);
      if (!existsSync(file)) throw new CommandError(`${file} does not exist (the server makes it on its first start)`);
      describeRing(await readRing(file), Date.now(), ctx.config.accessTokenTtl, ctx.print);
      return 0;
    },
  },
};
