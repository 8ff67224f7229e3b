import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * Revocations and reauthentications are logged by the statement that makes them, no longer by
 * a trigger on every UPDATE of `sessions`.
 *
 * Why: a statement-level trigger with transition tables makes PostgreSQL copy every updated
 * row, old and new, into two tuplestores, and then the function joined them again: a large
 * share of a bulk revocation, even with an empty trigger function.
 *
 * What still holds: every session still ends through one statement (the revoking statement of
 * src/sessions/session.store.ts), which also INSERTs the security event in a data-modifying
 * CTE; PostgreSQL runs such a CTE exactly once whether or not the query reads it, in the same
 * transaction, so the log entry commits or rolls back with the revocation. `markAuthenticated`
 * logs REAUTHENTICATED the same way. The rows and their contents are exactly what the trigger
 * wrote (tests in security-events.test.ts). The INSERT trigger (LOGIN) and the triggers on
 * `users` stay.
 */
export class RevocationsLoggedByTheirStatement1764480000000 implements MigrationInterface {
  name = "RevocationsLoggedByTheirStatement1764480000000";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER "sessions_security_events_update" ON "sessions"`);
    await q.query(`DROP FUNCTION security_events_on_session_update()`);
  }

  async down(q: QueryRunner): Promise<void> {
    // The function and trigger as OneSecurityEventPerRevocation left them.
    await q.query(`
      CREATE FUNCTION security_events_on_session_update() RETURNS trigger
      LANGUAGE plpgsql SET search_path FROM CURRENT SET enable_nestloop = off SET enable_mergejoin = off SET enable_sort = off AS $$
      DECLARE
        actor_ip text := security_event_setting('app.ip');
        actor_ua text := security_event_setting('app.user_agent');
        actor_session text := security_event_setting('app.session_id');
      BEGIN
        -- The changed rows, each a revocation or a reauthentication; revocations grouped by
        -- user and reason (one statement revokes with one reason, so a group is one action).
        INSERT INTO security_events (user_id, session_id, type, ip_address, user_agent, details, session_ids)
        SELECT c.user_id,
               CASE WHEN count(*) = 1 THEN (array_agg(c.id))[1] END,
               c.type, actor_ip, actor_ua,
               CASE
                 WHEN c.type = 'REAUTHENTICATED' THEN '{}'::jsonb
                 WHEN count(*) = 1 THEN jsonb_strip_nulls(jsonb_build_object('reason', c.revoked_reason, 'bySessionId', actor_session))
                 ELSE jsonb_strip_nulls(jsonb_build_object('reason', c.revoked_reason, 'bySessionId', actor_session,
                                                           'sessionCount', count(*)))
               END,
               CASE WHEN count(*) > 1 THEN array_agg(c.id) END
        FROM (
          SELECT n.user_id, n.id, n.revoked_reason,
                 CASE
                   WHEN o.revoked_at IS NOT NULL OR n.revoked_at IS NULL THEN 'REAUTHENTICATED'
                   WHEN n.revoked_reason = 'LOGOUT' THEN 'LOGOUT'
                   WHEN n.revoked_reason = 'REFRESH_TOKEN_REUSE' THEN 'REFRESH_TOKEN_REUSE'
                   ELSE 'SESSION_REVOKED'
                 END AS type
          FROM new_rows n JOIN old_rows o ON o.id = n.id
          WHERE (o.revoked_at IS NULL AND n.revoked_at IS NOT NULL)
             OR (n.authenticated_at > o.authenticated_at AND n.revoked_at IS NULL)
        ) c
        GROUP BY c.user_id, c.type, c.revoked_reason, CASE WHEN c.type = 'REAUTHENTICATED' THEN c.id END;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER "sessions_security_events_update" AFTER UPDATE ON "sessions"
      REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
      FOR EACH STATEMENT EXECUTE FUNCTION security_events_on_session_update()`);
  }
}
