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
