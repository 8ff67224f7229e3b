import { randomBytes } from "node:crypto";
import { LoginDocument, RegisterDocument, type AuthFieldsFragment } from "../gql/graphql";
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
