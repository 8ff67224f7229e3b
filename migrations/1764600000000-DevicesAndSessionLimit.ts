import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * Account security on every device (issue 18):
 * - `sessions.new_device`: the session's sign-in came from a device this user had never signed
 *   in on; `sessions.persistent`: false for "keep me signed in" off (SESSION_SHORT_TTL, a
 *   browser-session cookie).
 * - `user_devices`: the devices (by keyed hash of their long-lived device id, never the id
 *   itself) each user has signed in on. It answers newDevice, and which browsers the login
 *   throttle trusts with a budget of their own (OWASP device cookies).
 * - The LOGIN entry records `newDevice`, `persistent` and the device's name in its details.
 */
export class DevicesAndSessionLimit1764600000000 implements MigrationInterface {
  name = "DevicesAndSessionLimit1764600000000";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE "sessions"
        ADD "new_device" boolean NOT NULL DEFAULT true,
        ADD "persistent" boolean NOT NULL DEFAULT true`);
    await q.query(`
      CREATE TABLE "user_devices" (
        "user_id" uuid NOT NULL REFERENCES "users" ("id") ON DELETE CASCADE,
        "device_hash" bytea NOT NULL,
        "first_seen_at" timestamptz NOT NULL DEFAULT now(),
        "last_seen_at" timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY ("user_id", "device_hash")
      )`);
    await q.query(`
      CREATE OR REPLACE FUNCTION security_events_on_session_insert() RETURNS trigger
      LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
      BEGIN
        INSERT INTO security_events (user_id, session_id, type, ip_address, user_agent, details)
        SELECT n.user_id, n.id, 'LOGIN', n.ip_address, n.user_agent,
               jsonb_strip_nulls(jsonb_build_object(
                 'newDevice', n.new_device, 'persistent', n.persistent, 'deviceName', n.device_name))
        FROM new_rows n;
        RETURN NULL;
      END $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE OR REPLACE FUNCTION security_events_on_session_insert() RETURNS trigger
      LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
      BEGIN
        INSERT INTO security_events (user_id, session_id, type, ip_address, user_agent)
        SELECT n.user_id, n.id, 'LOGIN', n.ip_address, n.user_agent FROM new_rows n;
        RETURN NULL;
      END $$`);
    await q.query(`DROP TABLE "user_devices"`);
    await q.query(`ALTER TABLE "sessions" DROP COLUMN "persistent", DROP COLUMN "new_device"`);
  }
}
