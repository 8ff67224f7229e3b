import { z } from "zod";
import { DEFAULT_SIGNING_ALGORITHM, generateSigningKey, parseKeyRing, type SigningKey } from "../lib/signing-keys";
import {
  type AddressRange,
  addressRanges,
  count,
  flag,
  integer,
  isSecret,
  oneOf,
  optionalPort,
  origins,
  postgresUrl,
  seconds,
  signingKeys,
  text,
  urls,
  webhookSecret,
} from "./variable-kinds";

/**
 * The only reader of `process.env`. Parsed once at start-up: every problem is reported at
 * once, naming the variable, what it must be and the value given (a secret's length only),
 * and the process refuses to start. The result is frozen.
 */
const DEFAULT_SESSION_IDLE_TTL = 7 * 24 * 3600;

const shape = {
  NODE_ENV: oneOf(["development", "production", "test"], "development"),
  DATABASE_URL: postgresUrl(),
  /**
   * A direct connection (not through a transaction pooler) for LISTEN, the instance leases and
   * the migration lock, when DATABASE_URL points at a pooler. Unset: DATABASE_URL serves them,
   * and start-up refuses a DATABASE_URL that turns out to be a transaction pooler.
   */
  DATABASE_LISTEN_URL: postgresUrl(),
  /**
   * Named (server-side prepared) statements on the hot paths. Turn off behind a transaction
   * pooler that cannot keep them (PgBouncer before 1.21, or without max_prepared_statements).
   */
  DATABASE_PREPARED_STATEMENTS: flag(true),
  /** `run`: apply pending migrations at start-up (under a lock); `skip`: only check none is pending. */
  MIGRATIONS: oneOf(["run", "skip"], "run"),
  /** The project's local state outside production: the embedded PostgreSQL, the development signing key. */
  DATA_DIR: text(".data"),
  /** Where the embedded PostgreSQL keeps its data when DATABASE_URL is not set (default DATA_DIR/postgres). */
  EMBEDDED_PG_DIR: text(undefined),
  /** The embedded PostgreSQL's port (used only without DATABASE_URL); unset: a free one. */
  EMBEDDED_PG_PORT: optionalPort(),
  PORT: integer(4000, 0, 65535),
  HOST: text("127.0.0.1"),
  /**
   * The access-token signing keys: PKCS#8 PEM blocks, Ed25519 or P-256, one signing and the
   * rest verify-only (which is which: src/lib/signing-keys.ts; docs/SECURITY.md#signing-keys).
   */
  JWT_PRIVATE_KEYS: signingKeys(),
  JWT_ISSUER: text("session-api"),
  JWT_AUDIENCE: text("session-api"),
  ACCESS_TOKEN_TTL: seconds(300),
  /** Unset: the smaller of 7 days and SESSION_MAX_TTL. */
  SESSION_IDLE_TTL: seconds(undefined),
  SESSION_MAX_TTL: seconds(30 * 24 * 3600),
  /** Absolute lifetime of a session signed in with rememberMe: false (capped by SESSION_MAX_TTL). */
  SESSION_SHORT_TTL: seconds(12 * 3600),
  /** Live sessions per user; a sign-in past it ends the least recently active one (SESSION_LIMIT). 0: no limit. */
  MAX_SESSIONS_PER_USER: integer(100, 0, 1_000_000),
  /** How long a just-spent refresh token is answered with REFRESH_TOKEN_ROTATED instead of revoking. */
  REFRESH_REUSE_GRACE: seconds(10, { min: 0 }),
  /** Seconds a WebSocket may take to send connection_init before it is closed with 4408. */
  WS_CONNECTION_INIT_TIMEOUT: seconds(3),
  /** Seconds between WebSocket pings; a socket that has not answered one by the next is dropped. */
  WS_KEEPALIVE_INTERVAL: seconds(12),
  /**
   * Milliseconds an instance may answer "alive" from memory after its last lease renewal that
   * it heard back; also the longest a revoking call waits for an instance it cannot confirm
   * (src/sessions/revocation/instance-leases.ts). Renewed every quarter of it.
   */
  REVOCATION_LEASE_MS: integer(2000, 200, 60_000),
  /** How often expired sessions are marked EXPIRED and published to live clients. */
  SESSION_SWEEP_INTERVAL: seconds(60),
  /** scrypt cost as log2(N); OWASP: N=2^17, r=8, p=1. Lowered only by the test suite. */
  PASSWORD_HASH_COST: integer(17, 10, 20),
  /** A session counts as fresh (may end other sessions) this long after it proved the password. */
  FRESH_SESSION_TTL: seconds(600),
  /** Failed sign-ins per account (normalized email) within LOGIN_LOCKOUT_SECONDS before RATE_LIMITED. */
  LOGIN_MAX_FAILURES_PER_ACCOUNT: count(5),
  /** Failed sign-ins per client IP within LOGIN_LOCKOUT_SECONDS before RATE_LIMITED. */
  LOGIN_MAX_FAILURES_PER_IP: count(50),
  /** The throttling window: counters reset this long after their first failure. */
  LOGIN_LOCKOUT_SECONDS: seconds(900),
  /** `register` calls per client IP within REGISTER_WINDOW_SECONDS before RATE_LIMITED (every call counts). */
  REGISTER_MAX_PER_IP: count(30),
  /** The register budget's window: the count resets this long after its first call. */
  REGISTER_WINDOW_SECONDS: seconds(3600),
  /** Password hashes (and verifications) computed at once; the rest wait in the queue. */
  PASSWORD_HASH_CONCURRENCY: count(2),
  /** Password hashes that may wait for a slot; past this, 503 SERVICE_UNAVAILABLE with Retry-After. */
  PASSWORD_HASH_QUEUE: count(16, { min: 0 }),
  /** Seconds a request's headers may take to arrive before 408 (Node's headersTimeout). */
  HTTP_HEADERS_TIMEOUT: seconds(10),
  /** Seconds a whole request (headers and body) may take to arrive before 408 (Node's requestTimeout). */
  HTTP_REQUEST_TIMEOUT: seconds(20),
  /** Open TCP connections per client IP (WebSockets included); past it, 503 with Retry-After. */
  HTTP_MAX_CONNECTIONS_PER_IP: count(256),
  /** Open WebSockets per session; past it, a new one is closed with 4029 (see docs/API.md). */
  WS_MAX_PER_SESSION: count(10),
  /** Open WebSockets per user, all sessions together. */
  WS_MAX_PER_USER: count(50),
  /** Open WebSockets per client IP, signed in or not yet. */
  WS_MAX_PER_IP: count(100),
  /** Open WebSockets on this instance. Unset: half the process's file-descriptor limit (1000 if unknown). */
  WS_MAX_CONNECTIONS: count(undefined),
  /** Requests per second one service key may make on one instance before RATE_LIMITED. */
  SERVICE_KEY_RATE_LIMIT: count(100),
  /** Comma-separated URLs that receive every outbox event as a signed webhook (src/events/). Unset: none. */
  WEBHOOK_URLS: urls(),
  /** The Standard Webhooks signing secret, whsec_…; required when WEBHOOK_URLS is set. */
  WEBHOOK_SECRET: webhookSecret(),
  /** Seconds a webhook endpoint has to answer 2xx before the attempt counts as failed. */
  WEBHOOK_TIMEOUT: seconds(10),
  /** Milliseconds before the first retry of a failed delivery; each next retry waits twice as long. */
  WEBHOOK_BACKOFF_MS: count(1000),
  /** The longest wait between two attempts at one endpoint. */
  WEBHOOK_MAX_BACKOFF: seconds(3600),
  /** How often each instance looks for events to deliver, in milliseconds. */
  OUTBOX_POLL_MS: count(500),
  /** Events are kept (for the feed and for webhook retries) this long, then deleted, delivered or not. */
  OUTBOX_RETENTION: seconds(7 * 24 * 3600),
  /**
   * Browser origins allowed to call the API with credentials (comma-separated, exact match).
   * A trailing slash, as copied from the address bar, is dropped.
   */
  CORS_ORIGINS: origins(),
  /**
   * The proxies in front of this server (a load balancer, a gateway), as comma-separated IPs or
   * CIDR blocks: a request whose peer is one of them is counted, throttled and recorded by the
   * address its X-Forwarded-For names. Unset: the peer is the client, X-Forwarded-For ignored.
   */
  TRUST_PROXY: addressRanges(),
  /** Ended sessions (expired or revoked) are deleted this long after they ended. */
  SESSION_RETENTION: seconds(30 * 24 * 3600),
  /** How often each instance runs the purge of old session rows. */
  SESSION_PURGE_INTERVAL: seconds(3600),
  /** Seconds to get a database connection (connect, or wait for a free one) before answering 503. */
  DB_CONNECT_TIMEOUT: seconds(5),
  /** Seconds a statement may run (PostgreSQL's statement_timeout); the client waits one more, then answers 503. */
  DB_STATEMENT_TIMEOUT: seconds(5),
  /** Seconds a transaction may sit idle before PostgreSQL ends its session (idle_in_transaction_session_timeout). */
  DB_IDLE_IN_TRANSACTION_TIMEOUT: seconds(10),
  /** Query limits, checked before execution. */
  GRAPHQL_MAX_DEPTH: count(10),
  GRAPHQL_MAX_ALIASES: count(15),
  GRAPHQL_MAX_TOKENS: count(1000),
  /** Serves Prometheus metrics on GET /metrics at this port; unset: no metrics endpoint. */
  METRICS_PORT: optionalPort(),
  /** Where the metrics port listens; default HOST. */
  METRICS_HOST: text(undefined),
  /** Each field counts once per item of the lists above it, a list by its page size (src/graphql/query-limits.ts). */
  GRAPHQL_MAX_COST: count(10_000),
  /** Serve an Apollo Federation 2 subgraph schema (User and Session entities) for a gateway; see docs/INTEGRATION.md. */
  FEDERATION: flag(false),
  LOG_LEVEL: oneOf(["fatal", "error", "warn", "info", "debug", "trace", "silent"], "info"),
};

/** Every variable the config reads, in declaration order (a test holds .env.example and the README to it). */
export const CONFIG_VARIABLES: readonly string[] = Object.freeze(Object.keys(shape));

const schema = z.object(shape).superRefine((env, ctx) => {
  if (env.WEBHOOK_URLS.length > 0 && !env.WEBHOOK_SECRET) {
    ctx.addIssue({ code: "custom", path: ["WEBHOOK_SECRET"], message: "is required when WEBHOOK_URLS is set" });
  }
  if (env.NODE_ENV === "production" && !env.JWT_PRIVATE_KEYS) {
    ctx.addIssue({ code: "custom", path: ["JWT_PRIVATE_KEYS"], message: "is required in production (NODE_ENV=production)" });
  }
  if (env.NODE_ENV === "production" && env.PASSWORD_HASH_COST < 17) {
    ctx.addIssue({ code: "custom", path: ["PASSWORD_HASH_COST"], message: "must be at least 17 in production" });
  }
  if (env.HTTP_HEADERS_TIMEOUT > env.HTTP_REQUEST_TIMEOUT) {
    ctx.addIssue({
      code: "custom",
      path: ["HTTP_HEADERS_TIMEOUT"],
      message: `must not exceed HTTP_REQUEST_TIMEOUT (${env.HTTP_REQUEST_TIMEOUT} seconds)`,
    });
  }
  if (env.SESSION_IDLE_TTL !== undefined && env.SESSION_IDLE_TTL > env.SESSION_MAX_TTL) {
    ctx.addIssue({
      code: "custom",
      path: ["SESSION_IDLE_TTL"],
      message: `must not exceed SESSION_MAX_TTL (${env.SESSION_MAX_TTL} seconds)`,
    });
  }
});

export interface Config {
  readonly env: "development" | "production" | "test";
  readonly isProduction: boolean;
  readonly databaseUrl: string | undefined;
  /** DATABASE_LISTEN_URL: the direct connection for LISTEN, leases and the migration lock. */
  readonly databaseListenUrl: string | undefined;
  readonly preparedStatements: boolean;
  readonly migrations: "run" | "skip";
  /** Unset: no metrics endpoint. */
  readonly metrics: { readonly port: number; readonly host: string } | undefined;
  readonly embeddedPgPort: number | undefined;
  readonly dataDir: string;
  readonly embeddedPgDir: string;
  readonly port: number;
  readonly host: string;
  readonly jwt: {
    /** The key ring: which key signs when, and every key that verifies. */
    readonly keys: readonly SigningKey[];
    /** True when JWT_PRIVATE_KEYS was not set and `keys` is one key made up for this process. */
    readonly generated: boolean;
    readonly issuer: string;
    readonly audience: string;
  };
  /** All durations in seconds. */
  readonly accessTokenTtl: number;
  readonly sessionIdleTtl: number;
  readonly sessionMaxTtl: number;
  /** rememberMe: false sessions, at most sessionMaxTtl. */
  readonly sessionShortTtl: number;
  /** 0: no limit. */
  readonly maxSessionsPerUser: number;
  readonly refreshReuseGrace: number;
  readonly passwordHashCost: number;
  readonly freshSessionTtl: number;
  readonly loginThrottle: {
    readonly maxFailuresPerAccount: number;
    readonly maxFailuresPerIp: number;
    readonly windowSeconds: number;
  };
  readonly registerBudget: { readonly maxPerIp: number; readonly windowSeconds: number };
  /** The bounded queue in front of every password hash and verification. */
  readonly passwordQueue: { readonly concurrency: number; readonly maxWaiting: number };
  /** Slow-request bounds (seconds) and the per-IP connection cap of the HTTP server. */
  readonly httpLimits: { readonly headersTimeout: number; readonly requestTimeout: number; readonly maxConnectionsPerIp: number };
  /** WebSocket caps; `total` undefined means: derived from the descriptor limit at start-up. */
  readonly socketCaps: {
    readonly perSession: number;
    readonly perUser: number;
    readonly perIp: number;
    readonly total: number | undefined;
  };
  /** Requests per second per service key, per instance. */
  readonly serviceKeyRateLimit: number;
  /** The outbox's webhooks and retention (src/events/). */
  readonly outbox: {
    readonly webhookUrls: readonly string[];
    readonly webhookSecret: string | undefined;
    readonly webhookTimeoutMs: number;
    readonly backoffMs: number;
    readonly maxBackoffMs: number;
    readonly pollMs: number;
    readonly retentionSeconds: number;
  };
  readonly corsOrigins: readonly string[];
  /** TRUST_PROXY: whose X-Forwarded-For names the client (src/http/client-address.ts). */
  readonly trustedProxies: readonly AddressRange[];
  readonly sessionRetention: number;
  readonly sessionPurgeInterval: number;
  readonly queryLimits: {
    readonly maxDepth: number;
    readonly maxAliases: number;
    readonly maxTokens: number;
    readonly maxCost: number;
  };
  /** Serve the schema as an Apollo Federation 2 subgraph. */
  readonly federation: boolean;
  /** Bounds on every wait for the database, seconds. */
  readonly databaseTimeouts: { readonly connect: number; readonly statement: number; readonly idleInTransaction: number };
  readonly wsConnectionInitTimeout: number;
  readonly wsKeepAliveInterval: number;
  readonly sessionSweepInterval: number;
  /** Milliseconds, unlike the other durations. */
  readonly revocationLeaseMs: number;
  readonly logLevel: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

/** `NAME must be ..., got "value"`: a secret shows only its length, a URL's password is masked. */
function describeProblem(name: string, expected: string, env: Record<string, string | undefined>): string {
  const raw = env[name];
  if (raw === undefined) return `${name} ${expected}`;
  if (isSecret(shape[name as keyof typeof shape])) {
    const lengths = raw.split(",").map((s) => s.trim().length);
    return `${name} ${expected}, got ${lengths.length === 1 ? "" : `${lengths.length} values of `}${lengths.join(", ")} characters`;
  }
  return `${name} ${expected}, got ${JSON.stringify(raw.replace(/\/\/([^/:@\s]*):[^/@\s]*@/, "//$1:***@"))}`;
}

/**
 * Library mode (createSessionApi): the process environment with the app's own settings on
 * top, by variable name, so that an option and its variable can never mean two things.
 */
export function loadConfigWith(overrides: Readonly<Record<string, string | undefined>>): Config {
  return loadConfig({ ...process.env, ...overrides });
}

/** Parses an environment (default `process.env`); throws ConfigError naming every bad variable. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  // Empty strings mean "unset": `FOO= npm start` should not fail on FOO.
  const env = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => describeProblem(String(issue.path[0]), issue.message, env)));
  }
  const e = parsed.data;
  return Object.freeze({
    env: e.NODE_ENV,
    isProduction: e.NODE_ENV === "production",
    databaseUrl: e.DATABASE_URL,
    databaseListenUrl: e.DATABASE_LISTEN_URL,
    preparedStatements: e.DATABASE_PREPARED_STATEMENTS,
    migrations: e.MIGRATIONS,
    metrics: e.METRICS_PORT === undefined ? undefined : Object.freeze({ port: e.METRICS_PORT, host: e.METRICS_HOST ?? e.HOST }),
    embeddedPgPort: e.EMBEDDED_PG_PORT,
    dataDir: e.DATA_DIR,
    embeddedPgDir: e.EMBEDDED_PG_DIR ?? `${e.DATA_DIR}/postgres`,
    port: e.PORT,
    host: e.HOST,
    // Outside production a missing key is made up per process; start-up code may swap in the
    // ring kept in DATA_DIR (see config/dev-signing-keys.ts), so this loader stays pure.
    jwt: Object.freeze({
      keys: e.JWT_PRIVATE_KEYS ?? Object.freeze(parseKeyRing(generateSigningKey(DEFAULT_SIGNING_ALGORITHM))),
      generated: e.JWT_PRIVATE_KEYS === undefined,
      issuer: e.JWT_ISSUER,
      audience: e.JWT_AUDIENCE,
    }),
    accessTokenTtl: e.ACCESS_TOKEN_TTL,
    sessionIdleTtl: e.SESSION_IDLE_TTL ?? Math.min(DEFAULT_SESSION_IDLE_TTL, e.SESSION_MAX_TTL),
    sessionMaxTtl: e.SESSION_MAX_TTL,
    sessionShortTtl: Math.min(e.SESSION_SHORT_TTL, e.SESSION_MAX_TTL),
    maxSessionsPerUser: e.MAX_SESSIONS_PER_USER,
    refreshReuseGrace: e.REFRESH_REUSE_GRACE,
    passwordHashCost: e.PASSWORD_HASH_COST,
    freshSessionTtl: e.FRESH_SESSION_TTL,
    loginThrottle: Object.freeze({
      maxFailuresPerAccount: e.LOGIN_MAX_FAILURES_PER_ACCOUNT,
      maxFailuresPerIp: e.LOGIN_MAX_FAILURES_PER_IP,
      windowSeconds: e.LOGIN_LOCKOUT_SECONDS,
    }),
    registerBudget: Object.freeze({ maxPerIp: e.REGISTER_MAX_PER_IP, windowSeconds: e.REGISTER_WINDOW_SECONDS }),
    passwordQueue: Object.freeze({ concurrency: e.PASSWORD_HASH_CONCURRENCY, maxWaiting: e.PASSWORD_HASH_QUEUE }),
    httpLimits: Object.freeze({
      headersTimeout: e.HTTP_HEADERS_TIMEOUT,
      requestTimeout: e.HTTP_REQUEST_TIMEOUT,
      maxConnectionsPerIp: e.HTTP_MAX_CONNECTIONS_PER_IP,
    }),
    socketCaps: Object.freeze({
      perSession: e.WS_MAX_PER_SESSION,
      perUser: e.WS_MAX_PER_USER,
      perIp: e.WS_MAX_PER_IP,
      total: e.WS_MAX_CONNECTIONS,
    }),
    serviceKeyRateLimit: e.SERVICE_KEY_RATE_LIMIT,
    outbox: Object.freeze({
      webhookUrls: Object.freeze(e.WEBHOOK_URLS),
      webhookSecret: e.WEBHOOK_SECRET,
      webhookTimeoutMs: e.WEBHOOK_TIMEOUT * 1000,
      backoffMs: e.WEBHOOK_BACKOFF_MS,
      maxBackoffMs: e.WEBHOOK_MAX_BACKOFF * 1000,
      pollMs: e.OUTBOX_POLL_MS,
      retentionSeconds: e.OUTBOX_RETENTION,
    }),
    corsOrigins: Object.freeze([...e.CORS_ORIGINS]),
    trustedProxies: e.TRUST_PROXY,
    sessionRetention: e.SESSION_RETENTION,
    sessionPurgeInterval: e.SESSION_PURGE_INTERVAL,
    queryLimits: Object.freeze({
      maxDepth: e.GRAPHQL_MAX_DEPTH,
      maxAliases: e.GRAPHQL_MAX_ALIASES,
      maxTokens: e.GRAPHQL_MAX_TOKENS,
      maxCost: e.GRAPHQL_MAX_COST,
    }),
    federation: e.FEDERATION,
    databaseTimeouts: Object.freeze({
      connect: e.DB_CONNECT_TIMEOUT,
      statement: e.DB_STATEMENT_TIMEOUT,
      idleInTransaction: e.DB_IDLE_IN_TRANSACTION_TIMEOUT,
    }),
    wsConnectionInitTimeout: e.WS_CONNECTION_INIT_TIMEOUT,
    wsKeepAliveInterval: e.WS_KEEPALIVE_INTERVAL,
    sessionSweepInterval: e.SESSION_SWEEP_INTERVAL,
    revocationLeaseMs: e.REVOCATION_LEASE_MS,
    logLevel: e.LOG_LEVEL,
  });
}
