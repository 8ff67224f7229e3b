export { type GraphQLErrorLike, isSessionClientError, SessionClientError, type SessionErrorCode } from "./errors.js";
export { createSessionClient, SessionClient } from "./session-client.js";
export type {
  AuthEvent,
  AuthListener,
  AuthState,
  AuthStatus,
  DocumentInput,
  ExecutionResultLike,
  RevocationReason,
  SessionClientOptions,
  SessionCreatedEvent,
  SignInInput,
  SignOutReason,
  SubscriptionSink,
  TokenStorage,
  TypedDocument,
  User,
} from "./types.js";
