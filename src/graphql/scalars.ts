import { GraphQLDateTime } from "graphql-scalars";

/** `DateTime`: an RFC 3339 timestamp in UTC, as frontends' codegen expects by that name. */
export const DateTimeScalar = GraphQLDateTime;
