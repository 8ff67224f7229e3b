import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";

/** The project folder, from the sources (jest) or from dist/ (npm run drills). */
const ROOT = path.resolve(
  __dirname,
  "..",
  "..",
  ...(path.basename(path.resolve(__dirname, "..", "..")) === "dist" ? [".."] : []),
);
/** The built server, as `npm start` runs it (`npm run build` first). */
export const MAIN = path.join(ROOT, "dist", "src", "main.js");

export interface ChildServer {
  url: string;
  child: ChildProcess;
  /** Everything it wrote, stdout and stderr. */
  output(): string;
  /** Resolves when the process has exited. */
  exited: Promise<void>;
}

/**
 * `node dist/src/main.js` with exactly `env` (and PATH). The server chooses its database
 * schema from DATABASE_URL (`?options=-c search_path=...`), as any PostgreSQL client does.
 */
export function startChildServer(env: Record<string, string>): Promise<ChildServer> {
  const child = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH ?? "", PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`the server was not ready in 30 s:\n${out}`));
    }, 30_000);
    child.stdout!.on("data", (chunk: Buffer) => {
      out += chunk;
      const ready = /"url":"([^"]+)","msg":"session API ready"/.exec(out);
      if (ready) {
        clearTimeout(timer);
        resolve({ url: ready[1], child, output: () => out, exited });
      }
    });
    child.stderr!.on("data", (chunk: Buffer) => (out += chunk));
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`the server exited before it was ready:\n${out}`));
    });
  });
}

/** A DATABASE_URL whose connections work in `schema`. */
export function urlInSchema(databaseUrl: string, schema: string): string {
  const url = new URL(databaseUrl);
  url.searchParams.set("options", `-c search_path=${schema}`);
  return url.toString();
}
