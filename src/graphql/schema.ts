import type { GraphQLSchema } from "graphql";
import { buildSchema } from "type-graphql";
import { AccountResolver } from "../auth/account.resolver";
import { AuthResolver } from "../auth/auth.resolver";
import { SecurityEventResolver } from "../security/security-event.resolver";
import { SessionResolver } from "../sessions/session.resolver";
import { UserResolver } from "../users/user.resolver";
import { DateTimeScalar } from "./scalars";

export const RESOLVERS = [AuthResolver, AccountResolver, SessionResolver, UserResolver, SecurityEventResolver] as const;

/** Builds the executable schema; the same call emits schema.graphql (scripts/emit-schema). */
export function createSchema(): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers: RESOLVERS,
    scalarsMap: [{ type: Date, scalar: DateTimeScalar }],
    // class-validator rules on inputs and arguments; failures become BAD_USER_INPUT.
    validate: { forbidUnknownValues: false },
  });
}
