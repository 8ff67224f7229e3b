import { CreateUsersAndSessions1763779200000 } from "../../migrations/1763779200000-CreateUsersAndSessions";
import { SecurityEventsAndThrottle1763870000000 } from "../../migrations/1763870000000-SecurityEventsAndThrottle";
import { StatementLevelSessionEvents1763880000000 } from "../../migrations/1763880000000-StatementLevelSessionEvents";
import { SessionEventsHashJoin1763890000000 } from "../../migrations/1763890000000-SessionEventsHashJoin";
import { SessionsHotRevocation1764460000000 } from "../../migrations/1764460000000-SessionsHotRevocation";
import { OneSecurityEventPerRevocation1764470000000 } from "../../migrations/1764470000000-OneSecurityEventPerRevocation";
import { RevocationsLoggedByTheirStatement1764480000000 } from "../../migrations/1764480000000-RevocationsLoggedByTheirStatement";
import { InstanceLeases1764490000000 } from "../../migrations/1764490000000-InstanceLeases";
import { ServiceKeys1764500000000 } from "../../migrations/1764500000000-ServiceKeys";
import { SpentRefreshSecrets1764500170000 } from "../../migrations/1764500170000-SpentRefreshSecrets";
import { UserRolesAndLocks1764510000000 } from "../../migrations/1764510000000-UserRolesAndLocks";
import { DevicesAndSessionLimit1764600000000 } from "../../migrations/1764600000000-DevicesAndSessionLimit";
import { EventOutbox1764700000000 } from "../../migrations/1764700000000-EventOutbox";

/**
 * Every migration, imported by name rather than found by a glob over the build output: tsc
 * never deletes what it emitted, so a glob over dist/ would still run a migration whose
 * source was deleted. A deleted source now fails the build here, and a file left in dist/
 * is never loaded. A new migration must be added to this list (test/migrations.test.ts
 * fails until the list and the migrations/ folder agree).
 */
export const MIGRATIONS = [
  CreateUsersAndSessions1763779200000,
  SecurityEventsAndThrottle1763870000000,
  StatementLevelSessionEvents1763880000000,
  SessionEventsHashJoin1763890000000,
  SessionsHotRevocation1764460000000,
  OneSecurityEventPerRevocation1764470000000,
  RevocationsLoggedByTheirStatement1764480000000,
  InstanceLeases1764490000000,
  ServiceKeys1764500000000,
  SpentRefreshSecrets1764500170000,
  UserRolesAndLocks1764510000000,
  DevicesAndSessionLimit1764600000000,
  EventOutbox1764700000000,
];
