import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * Every refresh secret a session has spent, as SHA-256 (like `sessions.secret_hash`), so that
 * any of them replayed later ends the session as stolen (REFRESH_TOKEN_REUSE), not only the
 * last one (`sessions.previous_secret_hash`, which still decides the grace period). A secret
 * that is in neither place was never issued for that session: a forgery, refused plainly.
 *
 * Only hashes of 256-bit random secrets are kept, so a read of this table mints nothing. Rows
 * go with their session (ON DELETE CASCADE, when the purge deletes it). The primary key is the
 * lookup a refused refresh makes; a successful one only inserts.
 */
export class SpentRefreshSecrets1764500170000 implements MigrationInterface {
  name = "SpentRefreshSecrets1764500170000";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "spent_refresh_secrets" (
        "session_id" uuid NOT NULL,
        "secret_hash" bytea NOT NULL,
        CONSTRAINT "PK_spent_refresh_secrets" PRIMARY KEY ("session_id", "secret_hash"),
        CONSTRAINT "FK_spent_refresh_secrets_session" FOREIGN KEY ("session_id") REFERENCES "sessions" ("id") ON DELETE CASCADE
      )`);
    // The one spent secret remembered so far stays recognised.
    await q.query(`
      INSERT INTO "spent_refresh_secrets" ("session_id", "secret_hash")
      SELECT "id", "previous_secret_hash" FROM "sessions" WHERE "previous_secret_hash" IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "spent_refresh_secrets"`);
  }
}
