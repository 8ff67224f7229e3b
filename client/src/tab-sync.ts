import { type ChannelLike, lockManager, openChannel } from "./browser.js";
import type { SignOutReason, User } from "./types.js";

/** What one tab tells the others of the same browser (and API). */
export type TabMessage =
  | {
      type: "token";
      accessToken: string;
      sessionId: string;
      user: User;
      /** Local deadlines of the token (all tabs share the clock). */
      expiresAt: number;
      refreshAt: number;
    }
  | { type: "signed-out"; sessionId: string | null; reason?: SignOutReason };

function isTabMessage(data: unknown): data is TabMessage {
  if (data === null || typeof data !== "object") return false;
  const type = (data as { type?: unknown }).type;
  return type === "token" || type === "signed-out";
}

/**
 * One refresh at a time per browser, and one voice for sign-in state across its tabs: a Web
 * Lock around each refresh, a BroadcastChannel for the new token and for sign-outs. Where
 * either is missing (Node, old browsers, or `crossTab: false`) it falls back to this tab
 * alone, and a lost refresh race is settled by the server's REFRESH_TOKEN_ROTATED instead.
 */
export class TabSync {
  private readonly channel: ChannelLike | undefined;
  private readonly lockName: string;
  private readonly useLocks: boolean;

  constructor(name: string, enabled: boolean, onMessage: (message: TabMessage) => void) {
    this.lockName = `${name}:refresh`;
    this.useLocks = enabled;
    this.channel = enabled ? openChannel(name) : undefined;
    if (this.channel) {
      this.channel.onmessage = (event) => {
        if (isTabMessage(event.data)) onMessage(event.data);
      };
    }
  }

  /** Runs `refresh` while holding the browser-wide refresh lock, where there is one. */
  withRefreshLock<T>(refresh: () => Promise<T>): Promise<T> {
    const locks = this.useLocks ? lockManager() : undefined;
    return locks ? locks.request(this.lockName, refresh) : refresh();
  }

  post(message: TabMessage): void {
    try {
      this.channel?.postMessage(message);
    } catch {
      // A closed channel (the page is going away) has no one left to tell.
    }
  }

  close(): void {
    this.channel?.close();
  }
}
