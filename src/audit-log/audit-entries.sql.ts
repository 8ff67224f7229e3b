import { type Param, type Sql, sql } from "../db/sql";
import { AuditEventType } from "./audit-event-type";
import type { Actor } from "./request-actor";

/**
 * The audit-log entries that other statements write as part of themselves, so an entry
 * commits or rolls back with the change it records (PostgreSQL runs a data-modifying CTE
 * once, read or not). With AuditLogService.recordFailedLogin, these are the only writers of
 * `security_events` in the code; the migrations' triggers write REGISTER, LOGIN,
 * PASSWORD_CHANGED and EMAIL_CHANGED.
 */

/** `details.by` from setActor's operator settings: `{ kind, id }`, or null for a user's own act. */
const OPERATOR_JSON = sql`CASE WHEN security_event_setting('app.operator_kind') IS NOT NULL THEN
  jsonb_build_object('kind', security_event_setting('app.operator_kind'), 'id', security_event_setting('app.operator_id')) END`;

/**
 * One entry per user for the sessions a revoking statement ended, read from its `revoked`
 * CTE (`id`, `user_id`). The actor comes from setActor (transaction-local settings).
 */
export function revocationEntries(reason: Param): Sql {
  return sql`
    INSERT INTO security_events (user_id, session_id, type, ip_address, user_agent, details, session_ids)
    SELECT user_id,
           CASE WHEN count(*) = 1 THEN (array_agg(id))[1] END,
           CASE ${reason}::text
             WHEN 'LOGOUT' THEN ${AuditEventType.LOGOUT}
             WHEN 'REFRESH_TOKEN_REUSE' THEN ${AuditEventType.REFRESH_TOKEN_REUSE}
             ELSE ${AuditEventType.SESSION_REVOKED} END,
           security_event_setting('app.ip'),
           security_event_setting('app.user_agent'),
           jsonb_strip_nulls(jsonb_build_object(
             'reason', ${reason}::text,
             'bySessionId', security_event_setting('app.session_id'),
             'byServiceKey', security_event_setting('app.service_key'),
             'sessionCount', CASE WHEN count(*) > 1 THEN count(*) END,
             'by', ${OPERATOR_JSON})),
           CASE WHEN count(*) > 1 THEN array_agg(id) END
    FROM revoked
    GROUP BY user_id`;
}

/**
 * One entry per user a statement's `changed` CTE (`id`) holds, of `type` (an operator's act on
 * the account: a lock, an unlock, a role change), with `details` merged with the acting
 * session and `by`. The actor comes from setActor.
 */
export function accountChangeEntry(type: AuditEventType, details: Sql): Sql {
  return sql`
    INSERT INTO security_events (user_id, session_id, type, ip_address, user_agent, details)
    SELECT id, NULL, ${type}, security_event_setting('app.ip'), security_event_setting('app.user_agent'),
           jsonb_strip_nulls(${details} || jsonb_build_object(
             'bySessionId', security_event_setting('app.session_id'),
             'byServiceKey', security_event_setting('app.service_key'),
             'by', ${OPERATOR_JSON}))
    FROM changed`;
}

/** The REAUTHENTICATED entry for the session a statement's `marked` CTE (`id`, `user_id`) holds. */
export function reauthenticatedEntry(actor: Actor): Sql {
  return sql`
    INSERT INTO security_events (user_id, session_id, type, ip_address, user_agent)
    SELECT user_id, id, ${AuditEventType.REAUTHENTICATED}, ${actor.ipAddress}, ${actor.userAgent?.slice(0, 512) ?? null} FROM marked`;
}
