import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * The notes subgraph's own table. It is another service: it keeps only the user's id (no
 * foreign key into the session API's tables, which may live in another database).
 */
export class CreateSubgraphNotes1765000000001 implements MigrationInterface {
  name = "CreateSubgraphNotes1765000000001";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "subgraph_notes" (
        "id" uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        "user_id" uuid NOT NULL,
        "text" text NOT NULL,
        "created_at" timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX "subgraph_notes_user_id_created_at" ON "subgraph_notes" ("user_id", "created_at")`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "subgraph_notes"`);
  }
}
