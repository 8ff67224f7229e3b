import { sql } from "../db/sql";
import type { Transaction } from "../db/transaction";

/**
 * The acting request, the one type for it: the client's facts as its transport saw them and,
 * once the context builder knows it, its session (null when anonymous). Recorded on sessions
 * it creates and in the audit log.
 */
export interface Actor {
  ipAddress: string | null;
  userAgent: string | null;
  sessionId: string | null;
  /** The service key acting (its prefix), when the request carried one instead of a session. */
  serviceKey?: string | null;
}

/**
 * Hands the acting request to the SQL that writes security events (the triggers on `users`
 * and the revoking statement, revokeStatement) for the rest of the current transaction
 * (`set_config(..., true)` is `SET LOCAL`: it ends with the transaction, so a pooled
 * connection never carries one request's actor into the next). Call it first inside every
 * transaction that revokes sessions or changes a user.
 */
export async function setActor(tx: Transaction, actor: Actor): Promise<void> {
  await tx.rows(
    sql`SELECT set_config('app.ip', ${actor.ipAddress ?? ""}, true),
               set_config('app.user_agent', ${actor.userAgent?.slice(0, 512) ?? ""}, true),
               set_config('app.session_id', ${actor.sessionId ?? ""}, true),
               set_config('app.service_key', ${actor.serviceKey ?? ""}, true)`,
  );
}
