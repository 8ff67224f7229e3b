import type { AuthState, SessionClient } from "@session-api/client";
import { createContext, useContext, useEffect, useState } from "react";

export const AuthContext = createContext<SessionClient | null>(null);

export function useAuth(): SessionClient {
  const auth = useContext(AuthContext);
  if (!auth) throw new Error("useAuth outside <AuthContext.Provider>");
  return auth;
}

/** The SDK's auth state as React state: re-renders on sign-in, refresh and sign-out. */
export function useAuthState(auth: SessionClient): AuthState {
  const [state, setState] = useState(auth.state);
  useEffect(() => {
    setState(auth.state);
    return auth.onAuthStateChange((_event, next) => setState(next));
  }, [auth]);
  return state;
}
