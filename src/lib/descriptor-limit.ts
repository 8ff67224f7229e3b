import { readFileSync } from "node:fs";

/**
 * The process's soft limit on open file descriptors (Linux: /proc/self/limits), or null where
 * it cannot be read. Every socket, HTTP or WebSocket, holds one.
 */
export function descriptorLimit(): number | null {
  try {
    const line = readFileSync("/proc/self/limits", "utf8")
      .split("\n")
      .find((l) => l.startsWith("Max open files"));
    const soft = line?.slice("Max open files".length).trim().split(/\s+/)[0];
    return soft && /^\d+$/.test(soft) ? Number(soft) : null;
  } catch {
    return null;
  }
}
