import { readFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import path from "node:path";

/**
 * The development playground: GraphiQL, served whole by this server from installed packages
 * (graphiql's UMD bundle over React 18's UMD builds), so it works offline and the page never
 * contacts another host; its Content-Security-Policy forbids every other host too. Queries and
 * mutations go over HTTP, subscriptions over graphql-ws on the same URL, both carrying what the
 * user types in the Headers editor (`authorization` reaches the socket as a connection param).
 * Production serves no playground (see http/server.ts).
 *
 * graphiql, react and react-dom are devDependencies: a development checkout has them; an install
 * without them answers the page with a 404 that says so.
 */
export const PLAYGROUND_ASSET_PATH = "/playground/";

const JS = "text/javascript; charset=utf-8";
const CSS = "text/css; charset=utf-8";

/** The only files served, by name: no path from the request ever reaches the file system. */
const PACKAGE_FILES: Record<string, { pkg: string; file: string; type: string }> = {
  "react.js": { pkg: "react", file: "umd/react.production.min.js", type: JS },
  "react-dom.js": { pkg: "react-dom", file: "umd/react-dom.production.min.js", type: JS },
  "graphiql.js": { pkg: "graphiql", file: "graphiql.min.js", type: JS },
  "graphiql.css": { pkg: "graphiql", file: "graphiql.min.css", type: CSS },
};

const WELCOME = `# The session API's playground (development only, served by this server: it works offline).
#
# 1. Sign up or sign in; copy accessToken from the result:
#      mutation { register(input: { email: "me@example.test", password: "correct horse" }) { accessToken } }
#      mutation { login(input: { email: "me@example.test", password: "correct horse" }) { accessToken } }
# 2. Open Headers (below) and paste:  { "authorization": "Bearer <accessToken>" }
# 3. Ask who you are, list your sessions, or watch them end live (graphql-ws):
#      subscription { sessionRevoked { sessionId reason current } }

{
  me {
    id
    email
  }
}
`;

// Runs in the browser. A file of its own (not inline) so the CSP can forbid inline scripts.
const BOOT_SCRIPT = `"use strict";
(function () {
  var url = location.origin + location.pathname;
  var base = GraphiQL.createFetcher({ url: url, subscriptionUrl: url.replace(/^http/, "ws") });
  // The socket reads connectionParams.authorization; HTTP header names are case-blind anyway.
  function lowerCaseKeys(headers) {
    var out = {};
    Object.keys(headers || {}).forEach(function (key) { out[key.toLowerCase()] = headers[key]; });
    return out;
  }
  function fetcher(params, options) {
    return base(params, Object.assign({}, options, { headers: lowerCaseKeys(options && options.headers) }));
  }
  ReactDOM.createRoot(document.getElementById("graphiql")).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: ${JSON.stringify(WELCOME)},
      defaultHeaders: '{\\n  "authorization": ""\\n}',
      isHeadersEditorEnabled: true,
      defaultEditorToolsVisibility: "headers",
      // Headers hold a bearer token: keep them out of localStorage.
      shouldPersistHeaders: false,
    }),
  );
})();
`;

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Session API playground</title>
<link rel="stylesheet" href="${PLAYGROUND_ASSET_PATH}graphiql.css">
<link rel="stylesheet" href="${PLAYGROUND_ASSET_PATH}page.css">
</head>
<body>
<div id="graphiql">Loading the playground…</div>
<script src="${PLAYGROUND_ASSET_PATH}react.js"></script>
<script src="${PLAYGROUND_ASSET_PATH}react-dom.js"></script>
<script src="${PLAYGROUND_ASSET_PATH}graphiql.js"></script>
<script src="${PLAYGROUND_ASSET_PATH}boot.js"></script>
</body>
</html>
`;

const OWN_FILES: Record<string, { body: string; type: string }> = {
  "boot.js": { body: BOOT_SCRIPT, type: JS },
  "page.css": { body: "html, body { margin: 0; height: 100%; } #graphiql { height: 100vh; }\n", type: CSS },
};

/**
 * Only this server: 'self' covers the same-origin WebSocket in CSP 3; the explicit ws:// source
 * is for browsers that read it the older way. Styles may be inline (GraphiQL's editors set
 * them); scripts may not.
 */
function contentSecurityPolicy(host: string | undefined): string {
  const ws = host && /^[a-z0-9.\-[\]:]+$/i.test(host) ? ` ws://${host}` : "";
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    `connect-src 'self'${ws}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/** A browser navigating to the endpoint (not a GraphQL client): it asks for HTML first. */
export function wantsPlayground(req: IncomingMessage, url: URL): boolean {
  return req.method === "GET" && url.search === "" && /^text\/html\b/i.test(req.headers.accept ?? "");
}

export interface Playground {
  /** Answers the page itself. */
  sendPage(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** Answers a request under PLAYGROUND_ASSET_PATH; false when the path is not one of ours. */
  sendAsset(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<boolean>;
}

export function createPlayground(): Playground {
  const cache = new Map<string, Promise<Buffer>>();
  const read = (name: string, spec: { pkg: string; file: string }) => {
    let file = cache.get(name);
    if (!file) {
      file = (async () => {
        const root = path.dirname(require.resolve(`${spec.pkg}/package.json`));
        return readFile(path.join(root, spec.file));
      })();
      file.catch(() => cache.delete(name));
      cache.set(name, file);
    }
    return file;
  };
  const installed = async () =>
    Promise.all(Object.entries(PACKAGE_FILES).map(([name, spec]) => read(name, spec))).then(
      () => true,
      () => false,
    );

  function send(res: ServerResponse, status: number, type: string, body: string | Buffer, extra: Record<string, string> = {}) {
    res.writeHead(status, { "content-type": type, "x-content-type-options": "nosniff", ...extra });
    res.end(body);
  }

  return {
    async sendPage(req, res) {
      if (!(await installed())) {
        send(
          res,
          404,
          "text/plain; charset=utf-8",
          "The playground needs the devDependencies graphiql, react and react-dom: run npm ci.\n",
        );
        return;
      }
      send(res, 200, "text/html; charset=utf-8", PAGE, {
        "content-security-policy": contentSecurityPolicy(req.headers.host),
        "referrer-policy": "no-referrer",
      });
    },
    async sendAsset(req, res, pathname) {
      if (!pathname.startsWith(PLAYGROUND_ASSET_PATH) || req.method !== "GET") return false;
      const name = pathname.slice(PLAYGROUND_ASSET_PATH.length);
      const own = Object.hasOwn(OWN_FILES, name) ? OWN_FILES[name] : undefined;
      if (own) {
        send(res, 200, own.type, own.body);
        return true;
      }
      const spec = Object.hasOwn(PACKAGE_FILES, name) ? PACKAGE_FILES[name] : undefined;
      if (!spec) return false;
      try {
        send(res, 200, spec.type, await read(name, spec));
      } catch {
        send(res, 404, "text/plain; charset=utf-8", `${spec.pkg} is not installed: run npm ci.\n`);
      }
      return true;
    },
  };
}
