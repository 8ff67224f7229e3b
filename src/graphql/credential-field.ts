import type { GraphQLField, GraphQLSchema } from "graphql";
import { Extensions } from "type-graphql";

/**
 * The mark on a mutation that checks or mints a credential (sign-in, refresh, password
 * proof): a field extension, as envelop's generic-auth marks its fields, read by the
 * one-credential-mutation rule (query-limits.ts) from whichever schema it validates against.
 * An app's own resolvers mark theirs the same way, so the rule holds in a merged schema.
 */
export const CREDENTIAL_EXTENSION = "credential";

/** `@CredentialMutation()` on a `@Mutation()`: at most one such field per operation. */
export function CredentialMutation(): MethodDecorator {
  return Extensions({ [CREDENTIAL_EXTENSION]: true }) as MethodDecorator;
}

/** Whether a mutation field carries the mark (extensions survive schema wrapping, e.g. a subgraph). */
export function isCredentialField(field: GraphQLField<unknown, unknown> | undefined): boolean {
  return field?.extensions?.[CREDENTIAL_EXTENSION] === true;
}

/** The marked mutations of a schema, by name. */
export function credentialMutations(schema: GraphQLSchema): string[] {
  return Object.values(schema.getMutationType()?.getFields() ?? {})
    .filter((field) => isCredentialField(field))
    .map((field) => field.name);
}
