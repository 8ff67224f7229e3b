import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";

/** The built example app (`npm run build:web` writes it; `npm test` runs that first). Found as a workspace package, so compiled copies of this file (the benchmark's) find it too. */
export const EXAMPLE_DIST = path.join(path.dirname(require.resolve("@session-api/example-web/package.json")), "dist");

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json",
  ".svg": "image/svg+xml",
};

/** A page on the app's origin that is not the app: somewhere to navigate away to and come back from. */
export const ELSEWHERE_PATH = "/__elsewhere";

export interface ExampleApp {
  /** The page origin, e.g. http://127.0.0.1:41234 (the API must allow it for CORS). */
  origin: string;
  /** Where the app's pages send their GraphQL requests; set once the API runs. */
  apiUrl: string;
  /** Every request path the server answered, in order. */
  requests: string[];
  close(): Promise<void>;
}

/**
 * Serves the built example app as a static host would: files from dist/, and index.html for
 * any other path (the app routes on the client). index.html gets a
 * `<meta name="session-api-url">` naming `apiUrl`, which the app reads at start-up, so one
 * build works against an API on any port.
 */
export async function serveExampleApp(): Promise<ExampleApp> {
  if (!existsSync(path.join(EXAMPLE_DIST, "index.html"))) {
    throw new Error(`The example app is not built (${EXAMPLE_DIST}): run \`npm run build:web\` first.`);
  }
  const indexHtml = await readFile(path.join(EXAMPLE_DIST, "index.html"), "utf8");
  const app: ExampleApp = { origin: "", apiUrl: "", requests: [], close: async () => undefined };

  const server: Server = createServer((req, res) => {
    const pathname = new URL(req.url ?? "/", "http://x").pathname;
    app.requests.push(pathname);
    void (async () => {
      if (pathname === ELSEWHERE_PATH) {
        res.writeHead(200, { "content-type": TYPES[".html"] });
        res.end("<!doctype html><title>Elsewhere</title><h1>Another page</h1>");
        return;
      }
      const ext = path.extname(pathname);
      if (ext && ext !== ".html") {
        const file = path.join(EXAMPLE_DIST, path.normalize(pathname));
        if (!file.startsWith(EXAMPLE_DIST + path.sep) || !existsSync(file)) {
          res.writeHead(404).end();
          return;
        }
        res.writeHead(200, {
          "content-type": TYPES[ext] ?? "application/octet-stream",
          "cache-control": "public, max-age=31536000, immutable",
        });
        res.end(await readFile(file));
        return;
      }
      const meta = `<meta name="session-api-url" content="${app.apiUrl}" />`;
      res.writeHead(200, { "content-type": TYPES[".html"], "cache-control": "no-cache" });
      res.end(indexHtml.replace("</head>", `    ${meta}\n  </head>`));
    })().catch(() => res.writeHead(500).end());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  app.origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  app.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return app;
}
