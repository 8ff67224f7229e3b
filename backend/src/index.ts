export type { EventsOptions, SessionApiEvent } from "./event-feed.js";
export { type Refusal, refusal } from "./refusal.js";
export type { RevokedSession } from "./revocation-stream.js";
export {
  createSessionVerifier,
  type RefusalReason,
  type SessionCheck,
  SessionVerifier,
  type SessionVerifierOptions,
  type VerifiedSession,
  type VerifierStatus,
} from "./verifier.js";
