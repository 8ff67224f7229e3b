import { startTcpProxy } from "../test/support/tcp-proxy";
import { createDrillSchema, startDrillServer } from "./support/drill-server";
import { type Operation, startLoad } from "./support/load";
import { type DrillFigures, judgeOutage } from "./support/outage";

export interface BlackHoleOptions {
  databaseUrl: string;
  /** How long the connection stays black-holed. */
  outageMs: number;
  devices: number;
  pauseMs?: number;
  /** DB_CONNECT_TIMEOUT and DB_STATEMENT_TIMEOUT for the server, seconds. */
  boundSeconds: number;
}

/**
 * `me` is left out: it answers from the session cache while the revocation listener is
 * believed connected, which a black hole hides until the listener's heartbeat misses.
 */
const OPERATIONS: readonly Operation[] = ["mySessions", "login", "refreshSession", "register", "logoutAllDevices"];

/**
 * The database black-holed under load: a TCP proxy between the server and PostgreSQL holds
 * every byte, neither forwarding nor resetting. Every request must be refused within the
 * configured bounds (a connect, then one statement) and never hang; when the hold ends the
 * same server answers again.
 */
export async function blackHoleDrill(options: BlackHoleOptions): Promise<DrillFigures> {
  const url = new URL(options.databaseUrl);
  const proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port || 5432) });
  url.host = `127.0.0.1:${proxy.port}`;
  const schema = await createDrillSchema(options.databaseUrl);
  const bound = String(options.boundSeconds);
  const server = await startDrillServer(
    url.toString(),
    { DB_CONNECT_TIMEOUT: bound, DB_STATEMENT_TIMEOUT: bound },
    { dbSchema: schema.name },
  );
  try {
    const load = await startLoad(server.url, { devices: options.devices, operations: OPERATIONS, pauseMs: options.pauseMs ?? 5 });
    await new Promise((r) => setTimeout(r, 500));
    const faultAt = Date.now();
    proxy.hold();
    await new Promise((r) => setTimeout(r, options.outageMs));
    const restoredAt = Date.now();
    proxy.restore();
    await new Promise((r) => setTimeout(r, 1500 + options.boundSeconds * 2000));
    const samples = await load.stop();
    // The bound a request may take: waiting for a connection, then one statement (the
    // client gives a statement one second longer than the server does).
    const boundMs = (options.boundSeconds * 2 + 1) * 1000 + 1000;
    const figures = judgeOutage(
      "database black-holed",
      samples,
      { faultAt, noticeMs: 0, restoredAt },
      {
        boundMs,
        recoverWithinMs: (options.boundSeconds * 2 + 1) * 1000 + 1000,
      },
    );
    for (const line of server.unexpected().slice(0, 5)) figures.violations.push(`logged: ${line.slice(0, 300)}`);
    figures.notes = `bound ${options.boundSeconds} s; slowest answer allowed ${boundMs} ms`;
    return figures;
  } finally {
    proxy.restore();
    await server.stop().catch(() => undefined);
    await proxy.close();
    await schema.drop();
  }
}
