import { randomBytes } from "node:crypto";
import { type AuthFieldsFragment, LoginDocument, RegisterDocument } from "../gql/graphql";
import type { TestServer } from "./test-server";

export const PASSWORD = "correct horse battery staple";

export function uniqueEmail(): string {
  return `user-${randomBytes(5).toString("hex")}@example.test`;
}

/** Registers a new user and returns the first session's credentials. */
export async function signUp(
  server: TestServer,
  input: { email?: string; deviceName?: string; userAgent?: string } = {},
): Promise<AuthFieldsFragment & { email: string }> {
  const email = input.email ?? uniqueEmail();
  const res = await server.request(
    RegisterDocument,
    { input: { email, password: PASSWORD, deviceName: input.deviceName } },
    { headers: input.userAgent ? { "user-agent": input.userAgent } : {} },
  );
  if (!res.data) throw new Error(`register failed: ${JSON.stringify(res.errors)}`);
  return { ...res.data.register, email };
}

/** Signs in again: another device, another session. */
export async function signIn(
  server: TestServer,
  email: string,
  input: { deviceName?: string; userAgent?: string } = {},
): Promise<AuthFieldsFragment> {
  const res = await server.request(
    LoginDocument,
    { input: { email, password: PASSWORD, deviceName: input.deviceName } },
    { headers: input.userAgent ? { "user-agent": input.userAgent } : {} },
  );
  if (!res.data) throw new Error(`login failed: ${JSON.stringify(res.errors)}`);
  return res.data.login;
}

/**
 * Gives the user of `sessionId` `count` more live sessions, made straight in the database (a
 * bulk that signing in one by one would take minutes to build).
 */
export async function addSessionsLike(server: TestServer, sessionId: string, count: number): Promise<void> {
  await server.sql(
    `INSERT INTO sessions (id, user_id, secret_hash, device_name, created_at, last_active_at, authenticated_at, expires_at)
     SELECT gen_random_uuid(), user_id, secret_hash, 'bulk', now(), now(), now(), expires_at
     FROM sessions, generate_series(1, $2) WHERE id = $1`,
    [sessionId, count],
  );
}

/**
 * `count` more live sessions of the user of `sessionId`, made straight in the database, each
 * with an access token signed by `server` (instances sharing its JWT secret accept them too).
 */
export async function mintSessions(
  server: TestServer,
  sessionId: string,
  count: number,
): Promise<{ sessionId: string; token: string }[]> {
  const rows = await server.sql<{ id: string; user_id: string; expires_at: Date }>(
    `INSERT INTO sessions (id, user_id, secret_hash, device_name, created_at, last_active_at, authenticated_at, expires_at)
     SELECT gen_random_uuid(), user_id, secret_hash, 'minted', now(), now(), now(), expires_at
     FROM sessions, generate_series(1, $2) WHERE id = $1
     RETURNING id, user_id, expires_at`,
    [sessionId, count],
  );
  return rows.map((row) => ({
    sessionId: row.id,
    token: server.services.accessTokens.sign({ userId: row.user_id, sessionId: row.id }, new Date(row.expires_at)).token,
  }));
}
