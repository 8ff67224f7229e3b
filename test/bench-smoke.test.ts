import { spawn } from "node:child_process";
import path from "node:path";

/** Benchmarks are not tests: this only proves `npm run bench -- --quick` still runs end to end. */
it("runs the benchmark suite in quick mode and prints every table", async () => {
  const script = path.join(__dirname, "..", "dist", "bench", "run.js");
  const child = spawn(process.execPath, [script, "--quick"], { env: process.env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (c: Buffer) => (out += c));
  child.stderr.on("data", (c: Buffer) => (out += c));
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  expect({ code, out }).toEqual({ code: 0, out: expect.stringContaining("## Revocation check") });
  for (const heading of [
    "## HTTP layer",
    "## Writes",
    "## Bulk operations",
    "## Cross-instance bound",
    "the revoking call (`logout`): p50 ms",
    "## Signing keys",
    "ES256, ours (node:crypto)",
    "EdDSA, jose 6 (WebCrypto)",
    "the plainest stateless Apollo server",
    "against the plainest stateless Apollo server",
    "## The context builder alone",
    "## Hardening on the hot path",
    "## Live fan-out",
    "delivery latency",
    "stateless JWT",
    "JWT + PostgreSQL lookup",
    "ours: JWT + exact session cache",
  ]) {
    expect(out).toContain(heading);
  }
  expect(out).not.toMatch(/\(errors: \d+\)/);
}, 240_000);
