import { createSessionVerifier, type SessionVerifier, type SessionVerifierOptions } from "../../backend/src/index";
import type { TestServer } from "./test-server";

/** Verifiers a test started, closed after it. */
export const openVerifiers = new Set<SessionVerifier>();

/** A verifier of `server`'s sessions, ready (key set loaded, first lease held). */
export async function startVerifier(
  server: { url: string },
  serviceKey: string,
  options: Partial<SessionVerifierOptions> = {},
): Promise<SessionVerifier> {
  const sessions = createSessionVerifier({ url: server.url, serviceKey, ...options });
  openVerifiers.add(sessions);
  await sessions.ready();
  return sessions;
}

export async function closeVerifiers(): Promise<void> {
  for (const sessions of openVerifiers) await sessions.close();
  openVerifiers.clear();
}

export type { TestServer };

/** A service key of `server` with `scopes`, as `npm run admin -- create-key` makes one. */
export async function createServiceKey(server: TestServer, scopes: string[]): Promise<string> {
  // PROVISIONAL until the service keys land: every instance of the schema accepts this key.
  const key = `test-${scopes.join("+")}`;
  const check = server.services.authorizeService;
  const accepted = new Map<string, string[]>();
  accepted.set(key, scopes);
  server.services.authorizeService = async (authorization, scope) => {
    const given = authorization?.replace(/^ApiKey /, "");
    const known = given ? accepted.get(given) : undefined;
    if (!known) return check(authorization, scope);
    return known.includes(scope) ? "ok" : "FORBIDDEN";
  };
  return key;
}
