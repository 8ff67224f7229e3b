import type { GraphQLSchema } from "graphql";
import { buildSchema, getMetadataStorage, type NonEmptyArray, type PubSub } from "type-graphql";
import { AdminResolver } from "../admin/admin.resolver";
import { SecurityEventResolver } from "../audit-log/security-event.resolver";
import { AccountResolver } from "../auth/account.resolver";
import { AuthResolver } from "../auth/auth.resolver";
import { ServiceEventsResolver } from "../events/service-events.resolver";
import { invariant } from "../lib/invariant";
import { ServiceKeyResolver } from "../service-keys/service-key.resolver";
import { SessionRevokedResolver } from "../sessions/revocation/session-revoked.resolver";
import { resolveSessionReference, SessionResolver } from "../sessions/session.resolver";
import { SessionCreatedResolver } from "../sessions/session-created.resolver";
import { resolveUserReference, UserResolver } from "../users/user.resolver";
import { authChecker } from "./auth-checker";
import { validateArgument } from "./input-validation";
import { DateTimeScalar } from "./scalars";
import { toSubgraphSchema } from "./subgraph";

export const RESOLVERS = [
  AuthResolver,
  AccountResolver,
  SessionResolver,
  UserResolver,
  SecurityEventResolver,
  SessionRevokedResolver,
  AdminResolver,
  ServiceKeyResolver,
  SessionCreatedResolver,
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

/** A TypeGraphQL resolver class. */
// biome-ignore lint/complexity/noBannedTypes: TypeGraphQL's own type for resolver classes.
export type ResolverClass = Function;

/**
 * Builds the executable schema; without app resolvers, the same call emits schema.graphql
 * (scripts/emit-schema), the session API's own contract. An app's resolvers (library mode,
 * see app/session-api.ts) are added beside ours: they may add types and fields, and they get
 * the same `@Authorized()` (auth-checker.ts), validation and error formatting.
 */
export function createSchema(options: { resolvers?: readonly ResolverClass[] } = {}): Promise<GraphQLSchema> {
  return fromTheSameMetadata(() =>
    buildSchema({
      resolvers: [...RESOLVERS, ...(options.resolvers ?? [])] as NonEmptyArray<ResolverClass>,
      authChecker,
      pubSub: noTopicPubSub,
      scalarsMap: [{ type: Date, scalar: DateTimeScalar }],
      // Text PostgreSQL can hold, then class-validator rules, on every argument; failures become BAD_USER_INPUT.
      validateFn: validateArgument,
    }),
  );
}

/** The parts of TypeGraphQL's global metadata store that a build changes. */
interface BuiltMetadata {
  fields: unknown[];
  objectTypes: { fields?: unknown[] }[];
  interfaceTypes: { fields?: unknown[] }[];
}

/**
 * TypeGraphQL keeps one global metadata store, and a build adds the fields of the field
 * resolvers it was given (an app's `User.notes`) to the type's metadata for good: a later
 * build without them (our own schema.graphql, the supergraph's composition) would still
 * have them. Each build here starts from the store as the decorators left it.
 */
async function fromTheSameMetadata(build: () => Promise<GraphQLSchema>): Promise<GraphQLSchema> {
  const storage = getMetadataStorage() as unknown as BuiltMetadata;
  const declared = [...storage.fields];
  try {
    return await build();
  } finally {
    storage.fields = declared;
    // Recomputed from `fields` by the next build.
    for (const type of [...storage.objectTypes, ...storage.interfaceTypes]) type.fields = undefined;
  }
}

/**
 * The schema a server serves: ours plus an app's resolvers, and, in federation mode, as an
 * Apollo Federation 2 subgraph whose entities are User and Session (subgraph.ts).
 */
export async function createApiSchema(
  options: { resolvers?: readonly ResolverClass[]; federation?: boolean } = {},
): Promise<GraphQLSchema> {
  const schema = await createSchema(options);
  if (!options.federation) return schema;
  return toSubgraphSchema(schema, { User: resolveUserReference, Session: resolveSessionReference });
}
