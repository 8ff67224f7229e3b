import { createSessionVerifier, type SessionVerifier, type SessionVerifierOptions } from "../../backend/src/index";
import type { ServiceScope } from "../../src/service-keys/service-key";
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

/** A service key of `server` with `scopes`, made as `npm run admin -- create-key` makes one. */
export async function createServiceKey(server: TestServer, scopes: ServiceScope[]): Promise<string> {
  return (await server.services.serviceKeys.createKey(`test-${scopes.join("+")}`, scopes)).key;
}
