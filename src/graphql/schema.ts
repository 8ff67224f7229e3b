import type { GraphQLSchema } from "graphql";
import { buildSchema, type PubSub } from "type-graphql";
import { AdminResolver } from "../admin/admin.resolver";
import { SecurityEventResolver } from "../audit-log/security-event.resolver";
import { AccountResolver } from "../auth/account.resolver";
import { AuthResolver } from "../auth/auth.resolver";
import { ServiceEventsResolver } from "../events/service-events.resolver";
import { invariant } from "../lib/invariant";
import { ServiceKeyResolver } from "../service-keys/service-key.resolver";
import { SessionRevokedResolver } from "../sessions/revocation/session-revoked.resolver";
import { SessionResolver } from "../sessions/session.resolver";
import { SessionCreatedResolver } from "../sessions/session-created.resolver";
import { UserResolver } from "../users/user.resolver";
import { authChecker } from "./auth-checker";
import { validateArgument } from "./input-validation";
import { DateTimeScalar } from "./scalars";

export const RESOLVERS = [
  AuthResolver,
  AccountResolver,
  SessionResolver,
  UserResolver,
  SecurityEventResolver,
  SessionRevokedResolver,
  SessionCreatedResolver,
  AdminResolver,
  ServiceKeyResolver,
  ServiceEventsResolver,
] as const;

/**
 * TypeGraphQL insists on a PubSub once any subscription exists. Ours supply their own
 * `subscribe` (topics come from the socket's context), so this one is never used.
 */
const unused = (): never => {
  invariant(false, "topic subscriptions are not used; see sessions/revocation/");
};
const noTopicPubSub: PubSub = { publish: unused, subscribe: unused };

/** Builds the executable schema; the same call emits schema.graphql (scripts/emit-schema). */
export function createSchema(): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers: RESOLVERS,
    pubSub: noTopicPubSub,
    scalarsMap: [{ type: Date, scalar: DateTimeScalar }],
    // The one guard behind @Authorized: it throws catalog errors itself (see auth-checker.ts).
    authChecker,
    // Text PostgreSQL can hold, then class-validator rules, on every argument; failures become BAD_USER_INPUT.
    validateFn: validateArgument,
  });
}
