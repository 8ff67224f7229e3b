import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { databaseUrl } from "./support/test-server";

const script = path.join(__dirname, "..", "dist", "bench", "live-revocation.js");

describe("npm run bench:live --quick", () => {
  it("runs against the real database, exits 0 and prints the latency and memory figures", async () => {
    // `npm test` builds before jest runs; a bare `npx jest` needs `npm run build` first.
    expect(existsSync(script)).toBe(true);
    const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [script, "--quick"], { env: { ...process.env, DATABASE_URL: databaseUrl() }, timeout: 60_000 }, (error, out, err) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout: out, stderr: err }),
      );
    });
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    expect(stdout).toMatch(/model: 12 sockets for one user, 3 per session \(tabs\) -> 4 sessions/);
    expect(stdout).toMatch(/ended 3 sessions/);
    expect(stdout).toMatch(/delivery latency \(mutation sent -> event received\): p50 [\d.]+ ms, p99 [\d.]+ ms/);
    expect(stdout).toMatch(/all 9 revoked sockets closed \(4403\)/);
    expect(stdout).toMatch(/memory per open socket: heap -?[\d.]+ KB, RSS -?[\d.]+ KB/);
  }, 90_000);
});
