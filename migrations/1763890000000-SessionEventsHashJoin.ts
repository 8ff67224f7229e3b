import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * The sessions → security_events UPDATE trigger, made cheaper for bulk revocations. For a
 * large logoutAllDevices, EXPLAIN showed PostgreSQL joining the transition tables by sorting
 * both and merging: a hash join is cheaper at any size, so merge joins are turned off for the
 * function as nested loops already were (see StatementLevelSessionEvents). And `details` is
 * built once per reason rather than once per row: one statement revokes with one reason, so
 * all its rows share one object. Same rows, same transaction.
 */
export class SessionEventsHashJoin1763890000000 implements MigrationInterface {
  name = "SessionEventsHashJoin1763890000000";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE OR REPLACE FUNCTION security_events_on_session_update() RETURNS trigger
      LANGUAGE plpgsql SET search_path FROM CURRENT SET enable_nestloop = off SET enable_mergejoin = off AS $$
      DECLARE
        actor_ip text := security_event_setting('app.ip');
        actor_ua text := security_event_setting('app.user_agent');
        actor_session text := security_event_setting('app.session_id');
      BEGIN
        -- One pass over the changed rows: a revocation, or a reauthentication.
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
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE OR REPLACE FUNCTION security_events_on_session_update() RETURNS trigger
      LANGUAGE plpgsql SET search_path FROM CURRENT SET enable_nestloop = off AS $$
      DECLARE
        actor_ip text := security_event_setting('app.ip');
        actor_ua text := security_event_setting('app.user_agent');
        actor_session text := security_event_setting('app.session_id');
      BEGIN
        INSERT INTO security_events (user_id, session_id, type, ip_address, user_agent, details)
        SELECT n.user_id, n.id,
               CASE
                 WHEN o.revoked_at IS NOT NULL OR n.revoked_at IS NULL THEN 'REAUTHENTICATED'
                 WHEN n.revoked_reason = 'LOGOUT' THEN 'LOGOUT'
                 WHEN n.revoked_reason = 'REFRESH_TOKEN_REUSE' THEN 'REFRESH_TOKEN_REUSE'
                 ELSE 'SESSION_REVOKED'
               END,
               actor_ip, actor_ua,
               CASE
                 WHEN o.revoked_at IS NOT NULL OR n.revoked_at IS NULL THEN '{}'::jsonb
                 ELSE jsonb_strip_nulls(jsonb_build_object('reason', n.revoked_reason, 'bySessionId', actor_session))
               END
        FROM new_rows n JOIN old_rows o ON o.id = n.id
        WHERE (o.revoked_at IS NULL AND n.revoked_at IS NOT NULL)
           OR (n.authenticated_at > o.authenticated_at AND n.revoked_at IS NULL);
        RETURN NULL;
      END $$`);
  }
}
