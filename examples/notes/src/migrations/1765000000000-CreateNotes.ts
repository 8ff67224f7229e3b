import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * The example app's own table. An app hands its migrations to createSessionApi
 * (`migrations: [...]`); they run with the session API's own, in one list ordered by
 * timestamp, recorded in the same `migrations` table. A note belongs to one user and goes
 * with the account.
 */
export class CreateNotes1765000000000 implements MigrationInterface {
  name = "CreateNotes1765000000000";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "notes" (
        "id" uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        "user_id" uuid NOT NULL REFERENCES "users" ("id") ON DELETE CASCADE,
        "text" text NOT NULL,
        "created_at" timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX "notes_user_id_created_at" ON "notes" ("user_id", "created_at")`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "notes"`);
  }
}
