import type { AddressInfo } from "node:net";
import { createConnection, createServer, type Socket } from "node:net";

/**
 * A TCP relay in front of PostgreSQL that a test can cut, black-hole and restore: real network
 * faults, seen by the server as dropped connections and refused reconnects (cut), or as a
 * database that has stopped answering (hold).
 */
export interface TcpProxy {
  port: number;
  /** Drops every open connection and refuses new ones until restore(). */
  cut(): void;
  /**
   * A black hole: bytes in either direction are held, neither forwarded nor answered with a
   * reset, and new connections are accepted but get no answer either, as when a partition
   * drops packets silently. restore() delivers what was held, in order, as TCP's retransmits
   * do once a partition heals.
   */
  hold(): void;
  restore(): void;
  close(): Promise<void>;
}

interface Relay {
  client: Socket;
  upstream: Socket | null;
  /** Held bytes per direction, delivered on restore. */
  toUpstream: Buffer[];
  toClient: Buffer[];
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const relays = new Set<Relay>();
  let mode: "open" | "cut" | "hold" = "open";

  const connectUpstream = (relay: Relay) => {
    const upstream = createConnection(target);
    relay.upstream = upstream;
    upstream.on("data", (chunk: Buffer) => (mode === "hold" ? relay.toClient.push(chunk) : relay.client.write(chunk)));
    upstream.on("close", () => relay.client.destroy());
    upstream.on("error", () => relay.client.destroy());
    flush(relay);
  };
  const flush = (relay: Relay) => {
    if (relay.upstream) for (const chunk of relay.toUpstream.splice(0)) relay.upstream.write(chunk);
    for (const chunk of relay.toClient.splice(0)) relay.client.write(chunk);
  };
  const destroy = (relay: Relay) => {
    relay.client.destroy();
    relay.upstream?.destroy();
  };

  const server = createServer((client) => {
    if (mode === "cut") return client.destroy();
    const relay: Relay = { client, upstream: null, toUpstream: [], toClient: [] };
    relays.add(relay);
    client.on("data", (chunk: Buffer) =>
      mode === "hold" || !relay.upstream ? relay.toUpstream.push(chunk) : relay.upstream.write(chunk),
    );
    client.on("close", () => {
      relays.delete(relay);
      relay.upstream?.destroy();
    });
    client.on("error", () => relay.upstream?.destroy());
    // A connection made during a hold reaches the database only once the hold ends.
    if (mode === "open") connectUpstream(relay);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    port: (server.address() as AddressInfo).port,
    cut() {
      mode = "cut";
      for (const relay of relays) destroy(relay);
    },
    hold() {
      mode = "hold";
    },
    restore() {
      mode = "open";
      for (const relay of relays) {
        if (relay.upstream) flush(relay);
        else connectUpstream(relay);
      }
    },
    close: () => {
      for (const relay of relays) destroy(relay);
      return new Promise((r) => server.close(() => r()));
    },
  };
}
