import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * Lets revoking a session be a HOT update (heap-only tuple: the new row version goes on the
 * same page and no index is touched), which is most of the cost of a bulk revocation.
 *
 * PostgreSQL can update a row in place only if no indexed column changes, and a column in a
 * partial index's predicate counts: `sessions_user_active_idx (user_id) WHERE revoked_at IS
 * NULL` made every revocation insert into both indexes. The user index is now a plain one.
 * The cost: listing a user's live sessions also reads their ended rows still kept for
 * SESSION_RETENTION; reading revocations since a time (a resync) is helped.
 *
 * `fillfactor = 50` keeps half of each new page free, so that even a page whose every row is
 * revoked by one statement (a user's sessions created in a burst sit together) has room for
 * the new versions. Sessions are few and short-lived rows; refreshes and activity updates
 * (neither touches an indexed column) become HOT as well. Pages written before this
 * migration keep their layout until their rows are purged.
 */
export class SessionsHotRevocation1764460000000 implements MigrationInterface {
  name = "SessionsHotRevocation1764460000000";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX "sessions_user_active_idx"`);
    await q.query(`CREATE INDEX "sessions_user_idx" ON "sessions" ("user_id")`);
    await q.query(`ALTER TABLE "sessions" SET (fillfactor = 50)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "sessions" RESET (fillfactor)`);
    await q.query(`DROP INDEX "sessions_user_idx"`);
    await q.query(`CREATE INDEX "sessions_user_active_idx" ON "sessions" ("user_id") WHERE revoked_at IS NULL`);
  }
}
