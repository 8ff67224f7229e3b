export { createSessionClient, SessionClient } from "./session-client.js";
export { SessionClientError, isSessionClientError, type SessionErrorCode, type GraphQLErrorLike } from "./errors.js";
export type {
  AuthEvent,
  AuthListener,
  AuthState,
  AuthStatus,
  DocumentInput,
  ExecutionResultLike,
  RevocationReason,
  SessionClientOptions,
  SignInInput,
  SignOutReason,
  SubscriptionSink,
  TokenStorage,
  TypedDocument,
  User,
} from "./types.js";
