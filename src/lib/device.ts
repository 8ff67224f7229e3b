import { UAParser } from "ua-parser-js";

export interface Device {
  browser: string | null;
  os: string | null;
  deviceType: string | null;
}

/** Parses a User-Agent header once, when the session is created. */
export function parseDevice(userAgent: string | null): Device {
  if (!userAgent) return { browser: null, os: null, deviceType: null };
  const ua = new UAParser(userAgent).getResult();
  const join = (name?: string, version?: string) => (name ? [name, version].filter(Boolean).join(" ") : null);
  return {
    browser: join(ua.browser.name, ua.browser.major),
    os: join(ua.os.name, ua.os.version),
    // ua-parser-js leaves the type empty for desktops.
    deviceType: ua.device.type ?? (ua.os.name || ua.browser.name ? "desktop" : null),
  };
}
