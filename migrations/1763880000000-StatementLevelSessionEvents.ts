import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * The sessions → security_events trigger, per statement instead of per row: a bulk revocation
 * (logoutAllDevices) is then one INSERT ... SELECT instead of one single-row INSERT per
 * session. Same events, same transaction. (A trigger with transition tables cannot have a
 * column list, so the UPDATE trigger fires for every UPDATE and keeps only the rows whose
 * revoked_at or authenticated_at changed.) PL/pgSQL caches the join's plan from its first
 * call, usually a one-row UPDATE, as a nested loop, which is ruinous when reused for thousands
 * of rows. `enable_nestloop = off` on the function keeps it a hash join, which costs nothing
 * for one row.
 */
export class StatementLevelSessionEvents1763880000000 implements MigrationInterface {
  name = "StatementLevelSessionEvents1763880000000";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER "sessions_security_events" ON "sessions"`);
    await q.query(`DROP FUNCTION security_event_on_session()`);
    await q.query(`
      CREATE FUNCTION security_events_on_session_insert() RETURNS trigger
      LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
      BEGIN
        INSERT INTO security_events (user_id, session_id, type, ip_address, user_agent)
        SELECT n.user_id, n.id, 'LOGIN', n.ip_address, n.user_agent FROM new_rows n;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE FUNCTION security_events_on_session_update() RETURNS trigger
      LANGUAGE plpgsql SET search_path FROM CURRENT SET enable_nestloop = off AS $$
      DECLARE
        actor_ip text := security_event_setting('app.ip');
        actor_ua text := security_event_setting('app.user_agent');
        actor_session text := security_event_setting('app.session_id');
      BEGIN
        -- One pass over the changed rows: a revocation, or a reauthentication.
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
    await q.query(`
      CREATE TRIGGER "sessions_security_events_insert" AFTER INSERT ON "sessions"
      REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION security_events_on_session_insert()`);
    await q.query(`
      CREATE TRIGGER "sessions_security_events_update" AFTER UPDATE ON "sessions"
      REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
      FOR EACH STATEMENT EXECUTE FUNCTION security_events_on_session_update()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER "sessions_security_events_update" ON "sessions"`);
    await q.query(`DROP TRIGGER "sessions_security_events_insert" ON "sessions"`);
    await q.query(`DROP FUNCTION security_events_on_session_update()`);
    await q.query(`DROP FUNCTION security_events_on_session_insert()`);
    await q.query(`
      CREATE FUNCTION security_event_on_session() RETURNS trigger
      LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
      DECLARE
        actor_ip text := security_event_setting('app.ip');
        actor_ua text := security_event_setting('app.user_agent');
        actor_session text := security_event_setting('app.session_id');
      BEGIN
        IF TG_OP = 'INSERT' THEN
          INSERT INTO security_events (user_id, session_id, type, ip_address, user_agent)
          VALUES (NEW.user_id, NEW.id, 'LOGIN', NEW.ip_address, NEW.user_agent);
        ELSIF OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL THEN
          INSERT INTO security_events (user_id, session_id, type, ip_address, user_agent, details)
          VALUES (
            NEW.user_id, NEW.id,
            CASE NEW.revoked_reason
              WHEN 'LOGOUT' THEN 'LOGOUT'
              WHEN 'REFRESH_TOKEN_REUSE' THEN 'REFRESH_TOKEN_REUSE'
              ELSE 'SESSION_REVOKED'
            END,
            actor_ip, actor_ua,
            jsonb_strip_nulls(jsonb_build_object('reason', NEW.revoked_reason, 'bySessionId', actor_session)));
        ELSIF NEW.authenticated_at > OLD.authenticated_at THEN
          INSERT INTO security_events (user_id, session_id, type, ip_address, user_agent)
          VALUES (NEW.user_id, NEW.id, 'REAUTHENTICATED', actor_ip, actor_ua);
        END IF;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER "sessions_security_events" AFTER INSERT OR UPDATE OF revoked_at, authenticated_at ON "sessions"
      FOR EACH ROW EXECUTE FUNCTION security_event_on_session()`);
  }
}
