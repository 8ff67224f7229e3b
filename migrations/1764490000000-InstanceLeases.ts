import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * One row per running instance whose session cache may answer from memory (the
 * contract is in src/sessions/revocation/instance-leases.ts). An instance inserts its
 * row with its first lease renewal, touches it with every renewal and deletes it when it stops.
 *
 * The row is not the lease: no instance compares `renewed_at` with its own clock. Each instance
 * times its own lease on its own monotonic clock, and learns of the others' renewals as they
 * happen, over NOTIFY. The table only tells an instance that has just started listening which
 * others may still be holding a lease it did not hear being renewed. `renewed_at` (the
 * database's clock) serves only to forget rows of instances that died without deleting theirs.
 */
export class InstanceLeases1764490000000 implements MigrationInterface {
  name = "InstanceLeases1764490000000";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "instance_leases" (
        "instance_id" uuid PRIMARY KEY,
        "started_at" timestamptz NOT NULL DEFAULT now(),
        "renewed_at" timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "instance_leases"`);
  }
}
