import { isIP } from "node:net";
import { z } from "zod";
import { KeyRingError, parseKeyRing, type SigningKey } from "../lib/signing-keys";

/**
 * The kinds of environment variable. Each is a zod schema from the raw string (undefined when
 * unset) to a typed value, and each failure says in words what is expected ("must be a whole
 * number of seconds"); loadConfig puts the variable's name before that and the value given
 * after it. No message is a parser's ("Expected number, received nan").
 */
export type Variable<T> = z.ZodType<T, string | undefined>;

const secretKinds = new WeakSet<z.ZodType>();

/** True for the kinds whose value must never appear in a message (only its length does). */
export function isSecret(kind: z.ZodType | undefined): boolean {
  return kind !== undefined && secretKinds.has(kind);
}

function variable<T>(fallback: T, parse: (raw: string) => { value: T } | { expected: string }): Variable<T> {
  return z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (raw === undefined) return fallback;
      const result = parse(raw);
      if ("expected" in result) {
        ctx.addIssue({ code: "custom", message: result.expected });
        return z.NEVER;
      }
      return result.value;
    });
}

function wholeNumber(raw: string): number | null {
  const text = raw.trim();
  return /^\d{1,15}$/.test(text) ? Number(text) : null;
}

const unit = (n: number, one: string) => `${n} ${one}${n === 1 ? "" : "s"}`;

/** A duration in whole seconds, at least `min` (default 1). Unset: `fallback`. */
export function seconds<F extends number | undefined>(fallback: F, { min = 1 } = {}): Variable<number | F> {
  return variable<number | F>(fallback, (raw) => {
    const n = wholeNumber(raw);
    if (n === null) return { expected: "must be a whole number of seconds" };
    if (n < min) return { expected: `must be at least ${unit(min, "second")}` };
    return { value: n };
  });
}

/** A whole number of things, at least `min` (default 1). Unset: `fallback`. */
export function count<F extends number | undefined>(fallback: F, { min = 1 } = {}): Variable<number | F> {
  return variable<number | F>(fallback, (raw) => {
    const n = wholeNumber(raw);
    if (n === null) return { expected: "must be a whole number" };
    if (n < min) return { expected: `must be at least ${min}` };
    return { value: n };
  });
}

/** A whole number from `min` to `max`. */
export function integer(fallback: number, min: number, max: number): Variable<number> {
  return variable<number>(fallback, (raw) => {
    const n = wholeNumber(raw);
    if (n === null || n < min || n > max) return { expected: `must be a whole number from ${min} to ${max}` };
    return { value: n };
  });
}

/** A TCP port, 0 for any free one. Unset: undefined (the feature it enables stays off). */
export function optionalPort(): Variable<number | undefined> {
  return variable<number | undefined>(undefined, (raw) => {
    const n = wholeNumber(raw);
    if (n === null || n > 65535) return { expected: "must be a port from 0 (any free one) to 65535" };
    return { value: n };
  });
}

/** `true` or `false` (also `1` or `0`, any case). */
export function flag(fallback: boolean): Variable<boolean> {
  return variable<boolean>(fallback, (raw) => {
    const text = raw.trim().toLowerCase();
    if (text === "true" || text === "1") return { value: true };
    if (text === "false" || text === "0") return { value: false };
    return { expected: "must be true or false" };
  });
}

/** One of a closed set of words, exactly as listed. */
export function oneOf<const V extends string>(values: readonly V[], fallback: V): Variable<V> {
  return variable<V>(fallback, (raw) =>
    (values as readonly string[]).includes(raw) ? { value: raw as V } : { expected: `must be one of ${values.join(", ")}` },
  );
}

/** Any text (an empty value counts as unset, see loadConfig). */
export function text<F extends string | undefined>(fallback: F): Variable<string | F> {
  return variable<string | F>(fallback, (raw) => ({ value: raw }));
}

/** A PostgreSQL connection URL. Unset: undefined (the caller decides what that means). */
export function postgresUrl(): Variable<string | undefined> {
  return variable<string | undefined>(undefined, (raw) => {
    let valid = /^postgres(ql)?:\/\//.test(raw);
    try {
      new URL(raw);
    } catch {
      valid = false;
    }
    return valid
      ? { value: raw }
      : { expected: "must be a postgres:// or postgresql:// URL, such as postgres://user@localhost:5432/db" };
  });
}

const ORIGIN = /^https?:\/\/[^/\s*]+$/;

/** Comma-separated browser origins (scheme, host, optional port; a trailing slash is dropped). Unset: none. */
export function origins(): Variable<string[]> {
  return variable<string[]>([], (raw) => {
    const list = raw
      .split(",")
      .map((o) => o.trim().replace(/\/$/, ""))
      .filter(Boolean);
    const bad = list.find((o) => !ORIGIN.test(o));
    if (bad !== undefined) {
      return {
        expected: `must be comma-separated origins such as https://app.example.com (no path, no "*"; "${bad}" is not one)`,
      };
    }
    return { value: list };
  });
}

/**
 * A signing key ring: PEM keys, Ed25519 or P-256 (see lib/signing-keys.ts). Unset: undefined.
 * Messages name the block at fault by position, never its content.
 */
export function signingKeys(): Variable<readonly SigningKey[] | undefined> {
  const kind = variable<readonly SigningKey[] | undefined>(undefined, (raw) => {
    try {
      return { value: Object.freeze(parseKeyRing(raw)) };
    } catch (error) {
      if (!(error instanceof KeyRingError)) throw error;
      return { expected: `must be PKCS#8 PEM keys, Ed25519 or P-256, at least one private (${error.message})` };
    }
  });
  secretKinds.add(kind);
  return kind;
}

/** Comma-separated http(s) URLs (webhook endpoints). Unset: none. */
export function urls(): Variable<string[]> {
  return variable<string[]>([], (raw) => {
    const list = raw
      .split(",")
      .map((u) => u.trim())
      .filter(Boolean);
    const bad = list.findIndex((u) => !URL.canParse(u) || !/^https?:$/.test(new URL(u).protocol));
    if (bad >= 0) return { expected: `must be comma-separated http:// or https:// URLs (entry ${bad + 1} is not one)` };
    return { value: list };
  });
}

/** An address range: one IP (`10.0.0.7`, `::1`) or a CIDR block (`10.0.0.0/8`, `fd00::/8`). */
export interface AddressRange {
  readonly address: string;
  readonly prefix: number;
  readonly family: "ipv4" | "ipv6";
}

/** Comma-separated IPs or CIDR blocks, IPv4 or IPv6. Unset: none. */
export function addressRanges(): Variable<readonly AddressRange[]> {
  return variable<readonly AddressRange[]>([], (raw) => {
    const list = raw
      .split(",")
      .map((entry) => entry.trim())
      .filter(Boolean);
    const ranges: AddressRange[] = [];
    for (const [index, entry] of list.entries()) {
      const [address, prefixText, extra] = entry.split("/");
      const version = isIP(address);
      const max = version === 4 ? 32 : 128;
      const prefix = prefixText === undefined ? max : wholeNumber(prefixText);
      if (version === 0 || extra !== undefined || prefix === null || prefix > max) {
        return {
          expected: `must be comma-separated IP addresses or CIDR blocks such as 10.0.0.0/8 (entry ${index + 1} is not one)`,
        };
      }
      ranges.push(Object.freeze({ address, prefix, family: version === 4 ? "ipv4" : "ipv6" }));
    }
    return { value: Object.freeze(ranges) };
  });
}

/** A Standard Webhooks secret: "whsec_" and base64 of at least 24 bytes. Unset: undefined. */
export function webhookSecret(): Variable<string | undefined> {
  const kind = variable<string | undefined>(undefined, (raw) => {
    const key = raw.trim();
    const ok = /^whsec_[A-Za-z0-9+/]+={0,2}$/.test(key) && Buffer.from(key.slice(6), "base64").length >= 24;
    return ok ? { value: key } : { expected: 'must be "whsec_" followed by base64 of at least 24 random bytes' };
  });
  secretKinds.add(kind);
  return kind;
}
