import { startDrillServer } from "./support/drill-server";
import { type Operation, startLoad } from "./support/load";
import { type DrillFigures, judgeOutage } from "./support/outage";
import { startPrivatePostgres } from "./support/private-postgres";

export interface DatabaseKillOptions {
  /** How long the database stays dead. */
  outageMs: number;
  devices: number;
  pauseMs?: number;
  /** The server's database bounds (DB_CONNECT_TIMEOUT, DB_STATEMENT_TIMEOUT), seconds. */
  boundSeconds?: number;
}

/** Every operation of the load needs the database; `me` answers from the session cache. */
const OPERATIONS: readonly Operation[] = ["me", "mySessions", "login", "refreshSession", "register", "logoutAllDevices"];

/**
 * kill -9 of the database under load, then its restart. The server runs on a PostgreSQL
 * cluster of the drill's own and is never restarted: during the outage every request must
 * be refused (503 SERVICE_UNAVAILABLE, Retry-After), and once the database is back the same
 * server must answer again.
 */
export async function databaseKillDrill(options: DatabaseKillOptions): Promise<DrillFigures> {
  const pg = await startPrivatePostgres();
  const bound = String(options.boundSeconds ?? 1);
  const server = await startDrillServer(pg.url, { DB_CONNECT_TIMEOUT: bound, DB_STATEMENT_TIMEOUT: bound });
  try {
    const load = await startLoad(server.url, { devices: options.devices, operations: OPERATIONS, pauseMs: options.pauseMs ?? 5 });
    await new Promise((r) => setTimeout(r, 500));
    const faultAt = Date.now();
    await pg.kill();
    await new Promise((r) => setTimeout(r, options.outageMs));
    const restoredAt = Date.now();
    await pg.restart();
    const backAt = Date.now();
    // Long enough to recover and to show that it stays recovered.
    await new Promise((r) => setTimeout(r, 1500));
    const samples = await load.stop();
    const figures = judgeOutage(
      "database kill -9",
      samples,
      { faultAt, noticeMs: 100, restoredAt, backAt },
      {
        boundMs: 5000,
        recoverWithinMs: 1000,
      },
    );
    for (const line of server.unexpected().slice(0, 5)) figures.violations.push(`logged: ${line.slice(0, 300)}`);
    return figures;
  } finally {
    await server.stop().catch(() => undefined);
    await pg.dispose();
  }
}
