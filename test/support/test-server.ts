import { randomBytes } from "node:crypto";
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { print } from "graphql";
import { Client } from "pg";
import { type RunningServer, startServer } from "../../src/app/server";
import { loadConfig } from "../../src/config/environment";
import { createLogger } from "../../src/lib/logger";
import { generateSigningKey, keyRingText } from "../../src/lib/signing-keys";

/** Settings every test server starts with; a test overrides what it is about. */
export const TEST_ENV = {
  NODE_ENV: "test",
  PORT: "0",
  HOST: "127.0.0.1",
  PASSWORD_HASH_COST: "10", // cheap hashes in tests only; production refuses below 17
  // Test files sign up dozens of users from 127.0.0.1; the budget has its own test.
  REGISTER_MAX_PER_IP: "100000",
  LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent",
};

export interface GraphQLResponse<TData> {
  status: number;
  headers: Headers;
  data?: TData | null;
  errors?: { message: string; path?: string[]; extensions: Record<string, unknown> & { code: string } }[];
}

export interface RequestOptions {
  token?: string;
  headers?: Record<string, string>;
}

export interface TestServer extends RunningServer {
  /** The schema this server's tables live in. */
  dbSchema: string;
  /** Runs SQL in this server's schema, as a test's window into the real database. */
  sql<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  request<TData, TVars extends Record<string, unknown>>(
    document: TypedDocumentNode<TData, TVars>,
    variables?: TVars,
    options?: RequestOptions,
  ): Promise<GraphQLResponse<TData>>;
  /** Sends a raw HTTP request to /graphql. */
  post(body: unknown, options?: RequestOptions): Promise<GraphQLResponse<unknown>>;
}

export function databaseUrl(): string {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error("DATABASE_URL is not set (the jest global setup sets it)");
  return url;
}

async function adminQuery(text: string): Promise<void> {
  const client = new Client({ connectionString: databaseUrl() });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/** Creates a fresh schema, for one file or one group of cooperating servers. */
export async function createTestSchema(): Promise<{ name: string; drop(): Promise<void> }> {
  const name = `test_${randomBytes(6).toString("hex")}`;
  await adminQuery(`CREATE SCHEMA "${name}"`);
  return { name, drop: () => adminQuery(`DROP SCHEMA "${name}" CASCADE`) };
}

/**
 * Starts the real server on a free port, in a fresh schema migrated from scratch. Pass
 * `dbSchema` to start another instance on the same database (multi-instance tests).
 */
/**
 * What a second instance needs to serve beside `server`, as behind a load balancer: the same
 * database schema and the same key ring, so each accepts the other's tokens.
 */
export function sharedWith(server: TestServer): { dbSchema: string; signingKeys: string } {
  return { dbSchema: server.dbSchema, signingKeys: keyRingText(server.services.config.jwt.keys) };
}

export async function startTestServer(
  env: Record<string, string> = {},
  shared?: {
    dbSchema?: string;
    /** The key ring (JWT_PRIVATE_KEYS) of another instance, so its tokens work here: `sharedWith(a)` gives both. */
    signingKeys?: string /** Connect the server through this URL (e.g. a proxy). */;
    databaseUrl?: string;
  },
  options: { /** Receives every log line the server writes (set LOG_LEVEL to see any). */ logLines?: string[] } = {},
): Promise<TestServer> {
  const schema = shared?.dbSchema ? { name: shared.dbSchema, drop: async () => undefined } : await createTestSchema();
  const config = loadConfig({
    ...TEST_ENV,
    JWT_PRIVATE_KEYS: shared?.signingKeys ?? generateSigningKey("ES256"),
    ...env,
  });
  const server = await startServer(config, {
    databaseUrl: shared?.databaseUrl ?? databaseUrl(),
    dbSchema: schema.name,
    logger: createLogger(
      config.logLevel,
      options.logLines ? { write: (line: string) => void options.logLines!.push(line) } : undefined,
    ),
  });
  return testServerFrom(server, schema);
}

/**
 * A running server (startServer's, or a createSessionApi's) as a TestServer: requests, SQL in
 * its schema, and a stop that also drops the schema. `stop` replaces the server's own stop.
 */
export async function testServerFrom(
  server: RunningServer,
  schema: { name: string; drop(): Promise<void> },
  stop: () => Promise<void> = () => server.stop(),
): Promise<TestServer> {
  const sqlClient = new Client({ connectionString: databaseUrl(), options: `-c search_path=${schema.name}` });
  await sqlClient.connect();

  async function send(body: string, contentType: string, options: RequestOptions = {}) {
    const response = await fetch(server.url, {
      method: "POST",
      headers: {
        "content-type": contentType,
        ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
        ...options.headers,
      },
      body,
    });
    const text = await response.text();
    let json: { data?: unknown; errors?: GraphQLResponse<unknown>["errors"] } = {};
    try {
      json = JSON.parse(text);
    } catch {
      json = { errors: [{ message: text, extensions: { code: "NOT_JSON" } }] };
    }
    return { status: response.status, headers: response.headers, ...json };
  }

  return {
    ...server,
    dbSchema: schema.name,
    sql: async (text, params) => (await sqlClient.query(text, params)).rows,
    request: (document, variables, options) =>
      send(JSON.stringify({ query: print(document), variables }), "application/json", options) as never,
    post: (body, options) =>
      send(
        typeof body === "string" ? body : JSON.stringify(body),
        options?.headers?.["content-type"] ?? "application/json",
        options,
      ),
    async stop() {
      await sqlClient.end();
      await stop();
      await schema.drop();
    },
  };
}
