import type { SessionClient } from "./session-client.js";
import type { AuthEvent, AuthState } from "./types.js";

/** Calls `reset` when the signed-in user goes away: a sign-out, or another user signed in. */
export function onUserChange(auth: SessionClient, reset: () => void): () => void {
  let userId = auth.state.user?.id ?? null;
  return auth.onAuthStateChange((event: AuthEvent, state: AuthState) => {
    if (event.type === "SIGNED_OUT" || (event.type === "SIGNED_IN" && userId !== null && state.user?.id !== userId)) reset();
    if (event.type === "SIGNED_IN" || event.type === "SIGNED_OUT") userId = state.user?.id ?? null;
  });
}
