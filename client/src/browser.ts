/**
 * The browser features the SDK uses when they exist. Each is optional, so the same code runs
 * in Node (no locks, no pages) and in browsers; and none is named as a DOM type, so the source
 * type-checks without the DOM library.
 */
interface LockManagerLike {
  request<T>(name: string, callback: () => Promise<T>): Promise<T>;
}

export interface ChannelLike {
  postMessage(message: unknown): void;
  close(): void;
  onmessage: ((event: { data: unknown }) => void) | null;
  /** Node only: do not keep the process alive for this channel. */
  unref?(): void;
}

interface EventTargetLike {
  addEventListener(type: string, listener: (event: { persisted?: boolean }) => void): void;
  removeEventListener(type: string, listener: (event: { persisted?: boolean }) => void): void;
}

interface BrowserGlobals {
  location?: { href?: string };
  navigator?: { locks?: LockManagerLike };
  BroadcastChannel?: new (name: string) => ChannelLike;
  document?: EventTargetLike & { visibilityState?: string };
  window?: EventTargetLike;
  WebSocket?: unknown;
}

const globals = globalThis as unknown as BrowserGlobals;

/** Web Locks, where the browser has them. */
export function lockManager(): LockManagerLike | undefined {
  const locks = globals.navigator?.locks;
  return locks && typeof locks.request === "function" ? locks : undefined;
}

export function openChannel(name: string): ChannelLike | undefined {
  if (typeof globals.BroadcastChannel !== "function") return undefined;
  const channel = new globals.BroadcastChannel(name);
  channel.unref?.();
  return channel;
}

/** Calls `listener` when the page comes back from the back/forward cache; returns a remover. */
export function onPageRestored(listener: () => void): () => void {
  const target = globals.window;
  if (!target) return () => undefined;
  const handler = (event: { persisted?: boolean }) => {
    if (event.persisted) listener();
  };
  target.addEventListener("pageshow", handler);
  return () => target.removeEventListener("pageshow", handler);
}

/** Calls `listener` when the page becomes visible again; returns a remover. */
export function onPageVisible(listener: () => void): () => void {
  const doc = globals.document;
  if (!doc) return () => undefined;
  const handler = () => {
    if (doc.visibilityState === "visible") listener();
  };
  doc.addEventListener("visibilitychange", handler);
  return () => doc.removeEventListener("visibilitychange", handler);
}

export function globalWebSocket(): unknown {
  return globals.WebSocket;
}

/** `url` made absolute against the page's address (a same-origin app may pass "/graphql"). */
export function absoluteUrl(url: string): string {
  try {
    return new URL(url, globals.location?.href).href;
  } catch {
    return url;
  }
}

const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]", "::1"]);
let warnedCrossSite = false;

/**
 * The page and the API on different sites (by host name: `localhost` and `127.0.0.1` are two
 * sites to a browser) lose the refresh cookie silently: it is SameSite=Strict, so the browser
 * never sends it back and every page load starts signed out. Told once per page, on a page
 * served from a loopback address (development); a deployed page is left alone.
 */
export function warnIfCookieCrossesSites(
  apiUrl: string,
  // biome-ignore lint/suspicious/noConsole: the one development warning is meant for the page's console
  warn: (message: string) => void = console.warn,
): void {
  if (warnedCrossSite) return;
  const pageHref = globals.location?.href;
  if (!pageHref) return;
  let page: URL;
  let api: URL;
  try {
    page = new URL(pageHref);
    api = new URL(apiUrl, pageHref);
  } catch {
    return;
  }
  if (!LOOPBACK.has(page.hostname)) return;
  if (siteOf(page.hostname) === siteOf(api.hostname)) return;
  warnedCrossSite = true;
  warn(
    `@session-api/client: cookie mode with the page on ${page.hostname} and the API on ${api.hostname}: the browser ` +
      "will not send the refresh cookie back (SameSite=Strict), so sign-ins will not survive a reload. Serve both " +
      "from the same host name (pick localhost or 127.0.0.1 for both), or use a proxy.",
  );
}

/** The registrable part of a host name, roughly (the last two labels; an IP address or `localhost` whole). */
function siteOf(hostname: string): string {
  if (/^[\d.]+$/.test(hostname) || hostname.includes(":") || !hostname.includes(".")) return hostname;
  return hostname.split(".").slice(-2).join(".");
}
