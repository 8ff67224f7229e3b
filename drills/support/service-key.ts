import type { RunningServer } from "../../src/app/server";
import type { ServiceScope } from "../../src/service-keys/service-key";

/** A service key with `scopes`, made as `npm run admin -- create-key` makes one (any instance of the database accepts it). */
export async function createDrillServiceKey(server: RunningServer, name: string, scopes: ServiceScope[]): Promise<string> {
  return (await server.services.serviceKeys.createKey(name, scopes)).key;
}
