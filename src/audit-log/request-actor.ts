import type { EntityManager } from "typeorm";
import { invariant } from "../lib/invariant";

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
export async function setActor(manager: EntityManager, actor: Actor): Promise<void> {
  invariant(manager.queryRunner?.isTransactionActive, "setActor must run inside a transaction");
  await manager.query(
    "SELECT set_config('app.ip', $1, true), set_config('app.user_agent', $2, true), set_config('app.session_id', $3, true), set_config('app.service_key', $4, true)",
    [actor.ipAddress ?? "", actor.userAgent?.slice(0, 512) ?? "", actor.sessionId ?? "", actor.serviceKey ?? ""],
  );
}
