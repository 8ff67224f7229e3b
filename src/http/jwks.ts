import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { JWKS_MAX_AGE, type PublicJwk } from "../lib/signing-keys";

export const JWKS_PATH = "/.well-known/jwks.json";

/**
 * `GET /.well-known/jwks.json`: the public keys of the ring (RFC 7517), the one answer of this
 * server that may be cached, by anyone (they are public). An ETag lets a verifier revalidate
 * for a 304. HEAD answers the headers alone; other methods get 405.
 */
export function jwksAnswer(publicKeys: { keys: readonly PublicJwk[] }) {
  const body = JSON.stringify(publicKeys);
  const etag = `"${createHash("sha256").update(body).digest("base64url").slice(0, 22)}"`;
  const headers = {
    "content-type": "application/jwk-set+json; charset=utf-8",
    "cache-control": `public, max-age=${JWKS_MAX_AGE}, stale-while-revalidate=60`,
    "access-control-allow-origin": "*",
    etag,
  };
  return (req: IncomingMessage, res: ServerResponse): void => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store", allow: "GET, HEAD" });
      res.end(JSON.stringify({ status: "method not allowed" }));
      return;
    }
    if (req.headers["if-none-match"] === etag) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    res.writeHead(200, headers);
    res.end(req.method === "HEAD" ? undefined : body);
  };
}
