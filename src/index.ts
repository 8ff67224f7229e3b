/**
 * The package entry (`import { createSessionApi } from "session-api"`): library mode, an app's
 * own resolvers in our server (docs/INTEGRATION.md). Everything an app's resolver needs is
 * here: the context type, the guards, the credential mark and the error catalog.
 */
import "reflect-metadata";

export type { AppServiceDeps } from "./app/server";
export { createSessionApi, type SessionApi, type SessionApiOptions } from "./app/session-api";
export type { SqlRunner } from "./db/pg-pool";
export { type Sql, sql } from "./db/sql";
export { type AfterCommitHook, afterCommit, type Transaction, Transactions } from "./db/transaction";
export { appError, badUserInput, ErrorCode, forbidden, unauthenticated } from "./errors/error-codes";
export { FRESH_SESSION } from "./graphql/auth-checker";
export type { GraphQLContext, LoaderFactory, Viewer } from "./graphql/context";
export { CredentialMutation } from "./graphql/credential-field";
export { printSchemaFile } from "./graphql/print-schema";
export { DateTimeScalar } from "./graphql/scalars";
export { requireAuthoritativeViewer, requireFreshViewer, requireViewer } from "./graphql/viewer";
export { User } from "./users/user.type";
