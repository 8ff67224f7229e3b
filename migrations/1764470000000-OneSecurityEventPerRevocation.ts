import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * One security event per revoking action and user, not one per session ended. A
 * logoutAllDevices that ends many sessions is one thing the user did: it is one
 * `SESSION_REVOKED` entry whose new `session_ids` column lists every session it ended (and
 * `details.sessionCount` how many), with `session_id` null; an action that ends one session is
 * logged exactly as before, with that session in `session_id`. Still written by the trigger,
 * in the same transaction, so no code path can skip it.
 *
 * Why: one row per ended session was the largest cost left in a bulk revocation, and a log a
 * user reads is clearer with one entry for one click. The ids go in a uuid[] column rather
 * than a jsonb array in `details`: binary, 16 bytes an id, never worth compressing or
 * TOASTing. The function groups the rows by hashing, not by sorting them.
 */
export class OneSecurityEventPerRevocation1764470000000 implements MigrationInterface {
  name = "OneSecurityEventPerRevocation1764470000000";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "security_events" ADD COLUMN "session_ids" uuid[]`);
    await q.query(`
      CREATE OR REPLACE FUNCTION security_events_on_session_update() RETURNS trigger
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
  }

  async down(q: QueryRunner): Promise<void> {
    // The function as SessionEventsHashJoin left it: a row per session.
    await q.query(`
      CREATE OR REPLACE FUNCTION security_events_on_session_update() RETURNS trigger
      LANGUAGE plpgsql SET search_path FROM CURRENT SET enable_nestloop = off SET enable_mergejoin = off AS $$
      DECLARE
        actor_ip text := security_event_setting('app.ip');
        actor_ua text := security_event_setting('app.user_agent');
        actor_session text := security_event_setting('app.session_id');
      BEGIN
        INSERT INTO security_events (user_id, session_id, type, ip_address, user_agent, details)
        SELECT c.user_id, c.id, c.type, actor_ip, actor_ua, coalesce(d.details, '{}'::jsonb)
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
        LEFT JOIN (
          SELECT r.reason, jsonb_strip_nulls(jsonb_build_object('reason', r.reason, 'bySessionId', actor_session)) AS details
          FROM (SELECT DISTINCT revoked_reason AS reason FROM new_rows WHERE revoked_reason IS NOT NULL) r
        ) d ON c.type <> 'REAUTHENTICATED' AND d.reason = c.revoked_reason;
        RETURN NULL;
      END $$`);
    await q.query(`ALTER TABLE "security_events" DROP COLUMN "session_ids"`);
  }
}
