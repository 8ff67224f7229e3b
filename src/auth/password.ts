import { randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from "node:crypto";
import type { PasswordQueue } from "./password-queue";

/**
 * Password hashing with scrypt, OWASP's second choice after argon2id and the one Node ships:
 * no native add-on to build. OWASP's cost is N=2^17, r=8, p=1 (128 MiB per hash). The tests
 * lower N through PASSWORD_HASH_COST; production refuses anything below 17 (see config).
 *
 * Stored as `$scrypt$ln=17,r=8,p=1$<salt>$<hash>` (base64), so the cost can be raised later
 * and old hashes still verify.
 *
 * Every hash and verification waits its turn in the bounded `queue` (password-queue.ts).
 */
const KEY_LENGTH = 32;

function derive(password: string, salt: Buffer, ln: number, r: number, p: number): Promise<Buffer> {
  const N = 2 ** ln;
  const options: ScryptOptions = { N, r, p, maxmem: 256 * N * r };
  return new Promise((resolve, reject) =>
    scrypt(password.normalize("NFKC"), salt, KEY_LENGTH, options, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

export class PasswordHasher {
  constructor(
    private readonly cost: number,
    private readonly queue: PasswordQueue,
  ) {}

  async hash(password: string): Promise<string> {
    const salt = randomBytes(16);
    const key = await this.queue.run(() => derive(password, salt, this.cost, 8, 1));
    return `$scrypt$ln=${this.cost},r=8,p=1$${salt.toString("base64")}$${key.toString("base64")}`;
  }

  async verify(stored: string, password: string): Promise<boolean> {
    const match = /^\$scrypt\$ln=(\d+),r=(\d+),p=(\d+)\$([^$]+)\$([^$]+)$/.exec(stored);
    if (!match) return false;
    const [, ln, r, p, salt, hash] = match;
    const expected = Buffer.from(hash, "base64");
    const actual = await this.queue.run(() => derive(password, Buffer.from(salt, "base64"), Number(ln), Number(r), Number(p)));
    return actual.length === expected.length && timingSafeEqual(actual, expected);
  }
}
