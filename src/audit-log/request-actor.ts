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
  /** The service key acting (its prefix), when the request carried one instead of a session: `details.byServiceKey`. */
  serviceKey?: string | null;
  /** Set when a person acts on another user's account (see Operator); absent for a user's own acts. */
  operator?: Operator;
}

/**
 * Who acts on another user's account, named in the audit entry of every change they make
 * (`details.by`: `{ kind, id }`): an admin, by user id (acting from the actor's session), or
 * the operator's command line on the server's host (`npm run admin`), which has no id. A
 * service key is named by its prefix in `details.byServiceKey` (the actor's `serviceKey`).
 */
export type Operator = { kind: "ADMIN"; userId: string } | { kind: "CLI" };

function operatorId(operator: Operator | undefined): string {
  return operator?.kind === "ADMIN" ? operator.userId : "";
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
               set_config('app.service_key', ${actor.serviceKey ?? ""}, true),
               set_config('app.operator_kind', ${actor.operator?.kind ?? ""}, true),
               set_config('app.operator_id', ${operatorId(actor.operator)}, true)`,
  );
}
