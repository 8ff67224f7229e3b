import { useEffect, useState } from "react";

/**
 * The app's few screens are paths, so the back button and a reload behave as a user expects.
 * A history entry may carry state (the signed-out screen keeps its reason there).
 */
export type Path = "/" | "/sign-in" | "/sign-up" | "/signed-out";

export interface Location {
  path: string;
  state: unknown;
}

const current = (): Location => ({ path: window.location.pathname, state: window.history.state });
const listeners = new Set<() => void>();

export function navigate(path: Path, options: { replace?: boolean; state?: unknown } = {}): void {
  if (options.replace) window.history.replaceState(options.state ?? null, "", path);
  else window.history.pushState(options.state ?? null, "", path);
  for (const listener of listeners) listener();
}

export function useLocation(): Location {
  const [location, setLocation] = useState(current);
  useEffect(() => {
    const update = () => setLocation(current());
    listeners.add(update);
    window.addEventListener("popstate", update);
    return () => {
      listeners.delete(update);
      window.removeEventListener("popstate", update);
    };
  }, []);
  return location;
}
