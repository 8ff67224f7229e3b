import { randomBytes } from "node:crypto";
import type { RunningServer } from "../../src/app/server";

/** A service key with `scopes`, accepted by every one of `servers` (they share one database). */
export async function createDrillServiceKey(servers: RunningServer[], name: string, scopes: string[]): Promise<string> {
  // PROVISIONAL until the service keys land.
  const key = `${name}-${randomBytes(16).toString("hex")}`;
  for (const server of servers) {
    const check = server.services.authorizeService;
    server.services.authorizeService = async (authorization, scope) =>
      authorization === `ApiKey ${key}` ? (scopes.includes(scope) ? "ok" : "FORBIDDEN") : check(authorization, scope);
  }
  return key;
}
