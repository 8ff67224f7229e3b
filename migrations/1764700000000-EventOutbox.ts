import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * The event outbox (issue 21, src/events/): one row per session or account event, written by
 * the very statement (or trigger) that makes the change, so it exists exactly when the change
 * committed. It is both the webhooks' queue and the `serviceEvents` feed.
 *
 * - `xid` is the writing transaction's id (xid8). Readers order by (xid, seq) and only read rows
 *   whose transaction is older than their snapshot's xmin: every such transaction has ended, so
 *   no row can appear later below a cursor a reader has passed (see src/events/README.md).
 * - `webhook_endpoints` holds each configured URL's cursor and retry state; an instance delivers
 *   to an endpoint only while it holds that row's lock (FOR UPDATE SKIP LOCKED).
 * - Where: session.created from an AFTER INSERT trigger on sessions (as LOGIN is logged);
 *   session.revoked from the revoking statement's own CTE (every session ends through it, one
 *   row per session); user.password_changed, user.email_changed, user.locked and user.unlocked
 *   from a trigger on users.
 * - Data never carries a secret: ids, device facts, reasons, emails.
 */
export class EventOutbox1764700000000 implements MigrationInterface {
  name = "EventOutbox1764700000000";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "outbox_events" (
        "seq" bigserial NOT NULL,
        "xid" xid8 NOT NULL DEFAULT pg_current_xact_id(),
        "id" uuid NOT NULL DEFAULT gen_random_uuid() UNIQUE,
        "type" character varying(40) NOT NULL,
        "user_id" uuid NOT NULL,
        "occurred_at" timestamptz NOT NULL DEFAULT now(),
        "data" jsonb NOT NULL DEFAULT '{}',
        PRIMARY KEY ("xid", "seq")
      )`);
    await q.query(`CREATE INDEX "outbox_events_occurred_idx" ON "outbox_events" ("occurred_at")`);
    await q.query(`
      CREATE TABLE "webhook_endpoints" (
        "url" text PRIMARY KEY,
        "after_xid" xid8,
        "after_seq" bigint,
        "attempts" integer NOT NULL DEFAULT 0,
        "next_attempt_at" timestamptz NOT NULL DEFAULT now(),
        "last_error" text
      )`);
    await q.query(`
      CREATE FUNCTION outbox_on_session_insert() RETURNS trigger
      LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
      BEGIN
        INSERT INTO outbox_events (type, user_id, occurred_at, data)
        SELECT 'session.created', n.user_id, n.created_at,
               jsonb_strip_nulls(jsonb_build_object(
                 'sessionId', n.id, 'newDevice', n.new_device, 'persistent', n.persistent,
                 'deviceName', n.device_name, 'browser', n.browser, 'os', n.os, 'ipAddress', n.ip_address))
        FROM new_rows n;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER "sessions_outbox_insert" AFTER INSERT ON "sessions"
      REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION outbox_on_session_insert()`);
    await q.query(`
      CREATE FUNCTION outbox_on_user_update() RETURNS trigger
      LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
      BEGIN
        IF NEW.password_hash IS DISTINCT FROM OLD.password_hash THEN
          INSERT INTO outbox_events (type, user_id) VALUES ('user.password_changed', NEW.id);
        END IF;
        IF NEW.email IS DISTINCT FROM OLD.email THEN
          INSERT INTO outbox_events (type, user_id, data)
          VALUES ('user.email_changed', NEW.id, jsonb_build_object('previousEmail', OLD.email, 'newEmail', NEW.email));
        END IF;
        IF OLD.locked_at IS NULL AND NEW.locked_at IS NOT NULL THEN
          INSERT INTO outbox_events (type, user_id, data)
          VALUES ('user.locked', NEW.id, jsonb_strip_nulls(jsonb_build_object('reason', NEW.locked_reason)));
        ELSIF OLD.locked_at IS NOT NULL AND NEW.locked_at IS NULL THEN
          INSERT INTO outbox_events (type, user_id) VALUES ('user.unlocked', NEW.id);
        END IF;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER "users_outbox_update" AFTER UPDATE OF password_hash, email, locked_at ON "users"
      FOR EACH ROW EXECUTE FUNCTION outbox_on_user_update()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER "users_outbox_update" ON "users"`);
    await q.query(`DROP FUNCTION outbox_on_user_update()`);
    await q.query(`DROP TRIGGER "sessions_outbox_insert" ON "sessions"`);
    await q.query(`DROP FUNCTION outbox_on_session_insert()`);
    await q.query(`DROP TABLE "webhook_endpoints"`);
    await q.query(`DROP TABLE "outbox_events"`);
  }
}
