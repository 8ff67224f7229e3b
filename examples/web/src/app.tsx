import type { SessionClient } from "@session-api/client";
import { useCallback, useEffect, useMemo, useState } from "react";
import { flushSync } from "react-dom";
import { Provider as UrqlProvider } from "urql";
import { createGraphQLClient } from "./graphql-client";
import { AuthContext, useAuthState } from "./lib/auth";
import { navigate, type Path, useLocation } from "./lib/router";
import { ViewerQuery } from "./operations";
import { DevicesPage } from "./pages/devices.page";
import { SignInPage } from "./pages/sign-in.page";
import { SignedOutPage } from "./pages/signed-out.page";

interface SignedOutState {
  reason?: string;
  notice?: string;
}

/**
 * Which screen shows is decided by the auth state first and the path second, so protected
 * data never renders for a signed-out tab, whatever the history entry (back button included).
 */
export function App({ auth }: { auth: SessionClient }) {
  const state = useAuthState(auth);
  const location = useLocation();
  const restoring = useBackForwardCacheGuard(auth);
  const [unreachable, setUnreachable] = useState(false);

  // Page load: signed in from the refresh cookie, or signed out. It throws only when the
  // server could not answer; the state then stays "unknown".
  const restore = useCallback(() => {
    setUnreachable(false);
    auth.restore().catch(() => setUnreachable(true));
  }, [auth]);
  useEffect(restore, [restore]);

  useEffect(
    () =>
      auth.onAuthStateChange((event) => {
        if (event.type !== "SIGNED_OUT" || !event.reason) return;
        // This tab's own "Sign out" goes back to the form; any other end gets the screen that says why.
        if (event.reason === "LOGOUT") navigate("/sign-in", { state: { notice: "You signed out." } });
        else navigate("/signed-out", { state: { reason: event.reason } });
      }),
    [auth],
  );

  // One GraphQL client (and so one cache) per session: nothing cached outlives a sign-out.
  // biome-ignore lint/correctness/useExhaustiveDependencies: sessionId is the point: a new session gets a new client
  const client = useMemo(
    () => (state.status === "signed-in" ? createGraphQLClient(auth) : null),
    [auth, state.status, state.sessionId],
  );

  let screen: JSX.Element;
  let path: Path;
  const history = (location.state ?? {}) as SignedOutState;
  if (state.status === "unknown" && unreachable) {
    return (
      <main className="card narrow" data-testid="unreachable">
        <p className="error">The server cannot be reached right now.</p>
        <button type="button" onClick={restore}>
          Try again
        </button>
      </main>
    );
  }
  if (state.status === "unknown" || restoring) {
    return (
      <main className="card narrow" data-testid="loading">
        <p>Checking your session&hellip;</p>
      </main>
    );
  }
  if (state.status === "signed-in" && client) {
    path = "/";
    screen = (
      <UrqlProvider value={client}>
        <DevicesPage key={state.sessionId} />
      </UrqlProvider>
    );
  } else if (location.path === "/signed-out") {
    path = "/signed-out";
    screen = <SignedOutPage reason={history.reason} />;
  } else if (location.path === "/sign-up") {
    path = "/sign-up";
    screen = <SignInPage mode="sign-up" />;
  } else {
    path = "/sign-in";
    screen = <SignInPage mode="sign-in" notice={history.notice} />;
  }
  return (
    <AuthContext.Provider value={auth}>
      <UrlFollows path={path} />
      {screen}
    </AuthContext.Provider>
  );
}

/** Keeps the address bar on the screen shown (replacing, so history gains no entry). */
function UrlFollows({ path }: { path: Path }) {
  useEffect(() => {
    if (window.location.pathname !== path) navigate(path, { replace: true, state: window.history.state });
  }, [path]);
  return null;
}

/**
 * A page restored from the back-forward cache shows the DOM it had when left, and its session
 * may have ended meanwhile. So the page blanks itself as it goes into the cache (flushSync:
 * the cached DOM is the blank one) and, when restored, shows nothing until the session has
 * been re-checked with the server.
 */
function useBackForwardCacheGuard(auth: SessionClient): boolean {
  const [restoring, setRestoring] = useState(false);
  useEffect(() => {
    const onHide = (event: PageTransitionEvent) => event.persisted && flushSync(() => setRestoring(true));
    const onShow = (event: PageTransitionEvent) => {
      if (!event.persisted) return;
      setRestoring(true);
      // The SDK signs out if the answer says the session is over.
      const check = auth.state.status === "signed-in" ? auth.request(ViewerQuery) : auth.restore();
      void check.catch(() => undefined).finally(() => setRestoring(false));
    };
    addEventListener("pagehide", onHide);
    addEventListener("pageshow", onShow);
    return () => {
      removeEventListener("pagehide", onHide);
      removeEventListener("pageshow", onShow);
    };
  }, [auth]);
  return restoring;
}
