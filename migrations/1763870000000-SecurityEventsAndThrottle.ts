import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * The security activity log and the login throttle's counters.
 *
 * Events are written by triggers on `users` and `sessions`, so they commit or roll back with
 * the change they record and no code path can skip them. The acting request's IP, user agent
 * and session reach the triggers through transaction-local settings (`app.ip`,
 * `app.user_agent`, `app.session_id`, see src/audit-log/request-actor.ts). Failed sign-ins
 * change no row, so the auth service inserts those itself. The table is append-only: a
 * trigger refuses UPDATE, DELETE and TRUNCATE (the application connects as the table's owner,
 * so REVOKE alone would not bind it).
 *
 * Functions pin `search_path` to the schema they were created in, so the triggers find
 * `security_events` whatever the caller's search path is.
 */
export class SecurityEventsAndThrottle1763870000000 implements MigrationInterface {
  name = "SecurityEventsAndThrottle1763870000000";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "security_events" (
        "id" bigint GENERATED ALWAYS AS IDENTITY,
        "user_id" uuid,
        "session_id" uuid,
        "type" character varying(40) NOT NULL,
        "occurred_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "ip_address" character varying(45),
        "user_agent" character varying(512),
        "details" jsonb NOT NULL DEFAULT '{}'::jsonb,
        CONSTRAINT "PK_security_events" PRIMARY KEY ("id")
      )`);
    await q.query(`CREATE INDEX "security_events_user_time_idx" ON "security_events" ("user_id", "occurred_at" DESC, "id" DESC)`);

    await q.query(`
      CREATE FUNCTION security_event_setting(name text) RETURNS text
      LANGUAGE sql STABLE AS $$ SELECT NULLIF(current_setting(name, true), '') $$`);

    await q.query(`
      CREATE FUNCTION security_events_append_only() RETURNS trigger
      LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'security_events is append-only' USING ERRCODE = 'insufficient_privilege';
      END $$`);
    await q.query(`
      CREATE TRIGGER "security_events_no_update" BEFORE UPDATE OR DELETE ON "security_events"
      FOR EACH ROW EXECUTE FUNCTION security_events_append_only()`);
    await q.query(`
      CREATE TRIGGER "security_events_no_truncate" BEFORE TRUNCATE ON "security_events"
      FOR EACH STATEMENT EXECUTE FUNCTION security_events_append_only()`);

    // INSERT: a sign-in (login or register). UPDATE: a revocation, by reason, or a
    // reauthentication. Rotations and activity updates are not security events.
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

    await q.query(`
      CREATE FUNCTION security_event_on_user() RETURNS trigger
      LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
      DECLARE
        actor_ip text := security_event_setting('app.ip');
        actor_ua text := security_event_setting('app.user_agent');
        actor_session uuid := security_event_setting('app.session_id')::uuid;
      BEGIN
        IF TG_OP = 'INSERT' THEN
          INSERT INTO security_events (user_id, type, ip_address, user_agent)
          VALUES (NEW.id, 'REGISTER', actor_ip, actor_ua);
          RETURN NULL;
        END IF;
        IF NEW.password_hash IS DISTINCT FROM OLD.password_hash THEN
          INSERT INTO security_events (user_id, session_id, type, ip_address, user_agent)
          VALUES (NEW.id, actor_session, 'PASSWORD_CHANGED', actor_ip, actor_ua);
        END IF;
        IF NEW.email IS DISTINCT FROM OLD.email THEN
          INSERT INTO security_events (user_id, session_id, type, ip_address, user_agent, details)
          VALUES (NEW.id, actor_session, 'EMAIL_CHANGED', actor_ip, actor_ua,
                  jsonb_build_object('previousEmail', OLD.email, 'newEmail', NEW.email));
        END IF;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER "users_security_events" AFTER INSERT OR UPDATE OF password_hash, email ON "users"
      FOR EACH ROW EXECUTE FUNCTION security_event_on_user()`);

    // rate-limiter-flexible's own layout (it is told the table exists and not to create it).
    await q.query(`
      CREATE TABLE "login_throttle" (
        "key" character varying(255) NOT NULL,
        "points" integer NOT NULL DEFAULT 0,
        "expire" bigint,
        CONSTRAINT "PK_login_throttle" PRIMARY KEY ("key")
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "login_throttle"`);
    await q.query(`DROP TRIGGER "users_security_events" ON "users"`);
    await q.query(`DROP FUNCTION security_event_on_user()`);
    await q.query(`DROP TRIGGER "sessions_security_events" ON "sessions"`);
    await q.query(`DROP FUNCTION security_event_on_session()`);
    await q.query(`DROP TABLE "security_events"`);
    await q.query(`DROP FUNCTION security_events_append_only()`);
    await q.query(`DROP FUNCTION security_event_setting(text)`);
  }
}
