import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * Service keys (src/service-keys/): credentials for the app's own backends, each with scopes.
 * Only the SHA-256 of the key's secret is stored; `prefix` names the key (it is the part of the
 * key an operator may see and type: `npm run admin -- revoke-key <prefix>`). A revoked key
 * keeps its row, for the audit log's `byServiceKey`.
 *
 * Revocations made with a key name it in their audit entry (`details.byServiceKey`), as a
 * user's own name `bySessionId`: the revoking statement reads it from `app.service_key`,
 * which setActor sets for the transaction.
 */
export class ServiceKeys1764500000000 implements MigrationInterface {
  name = "ServiceKeys1764500000000";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "service_keys" (
        "id" uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        "prefix" character varying(32) NOT NULL UNIQUE,
        "name" character varying(100) NOT NULL,
        "secret_hash" bytea NOT NULL,
        "scopes" text[] NOT NULL,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "revoked_at" timestamptz,
        "last_used_at" timestamptz
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "service_keys"`);
  }
}
