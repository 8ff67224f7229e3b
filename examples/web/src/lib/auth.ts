import { createSessionClient } from "@session-api/client";
import { createContext, useContext, useEffect, useState } from "react";

/** The SDK's types, named by what the app uses (derived, so they follow the SDK). */
export type SessionClient = ReturnType<typeof createSessionClient>;
export type AuthState = SessionClient["state"];
export type AuthEvent = Parameters<Parameters<SessionClient["onAuthStateChange"]>[0]>[0];

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
    const unsubscribe = auth.onAuthStateChange(() => setState(auth.state));
    return () => void unsubscribe();
  }, [auth]);
  return state;
}
