import type { DataSource } from "typeorm";
import { AdminService } from "../admin/admin.service";
import { UserAdminStore } from "../admin/user-admin.store";
import { AuditLogService } from "../audit-log/audit-log.service";
import { AccountService } from "../auth/account.service";
import { AuthService } from "../auth/auth.service";
import { LoginThrottle } from "../auth/login-throttle";
import { PasswordHasher } from "../auth/password";
import { PasswordCheck } from "../auth/password-check";
import { PasswordQueue } from "../auth/password-queue";
import { RegisterBudget } from "../auth/register-budget";
import type { Config } from "../config/environment";
import { pgPool, poolRunner, withoutStatementNames } from "../db/pg-pool";
import { Transactions } from "../db/transaction";
import { OutboxStore } from "../events/outbox.store";
import type { Logger } from "../lib/logger";
import { LiveConnections } from "../live/live-connections";
import { registerCoreMetrics } from "../metrics/core-metrics";
import { Metrics } from "../metrics/metrics";
import { ServiceKeyService } from "../service-keys/service-key.service";
import { ServiceKeyStore } from "../service-keys/service-key.store";
import { AccessTokenService } from "../sessions/access-token";
import { DeviceIdHasher } from "../sessions/device-id";
import { ExpirySweeper } from "../sessions/expiry-sweeper";
import { LastActiveWriter } from "../sessions/last-active-writer";
import { SessionEvents } from "../sessions/revocation/revocation";
import type { RevocationFanout } from "../sessions/revocation/revocation-fanout";
import { VerifierLeases } from "../sessions/revocation/verifier-leases";
import { wireRevocations } from "../sessions/revocation/wire-revocations";
import { SessionService } from "../sessions/session.service";
import { PgSessionStore, type SessionStore } from "../sessions/session.store";
import { SessionCache } from "../sessions/session-cache";
import { SessionPurge } from "../sessions/session-purge";
import { SessionValidator } from "../sessions/validate-session";
import { UserService } from "../users/user.service";

export interface Services {
  config: Config;
  logger: Logger;
  db: DataSource;
  users: UserService;
  sessions: SessionService;
  /** Every SQL statement on sessions (tests count its reads). */
  sessionStore: SessionStore;
  auth: AuthService;
  account: AccountService;
  auditLog: AuditLogService;
  /** Support staff's acts on other accounts (the admin* fields and `npm run admin`). */
  admin: AdminService;
  serviceKeys: ServiceKeyService;
  accessTokens: AccessTokenService;
  lastActive: LastActiveWriter;
  sessionCache: SessionCache;
  /** The bounded queue in front of every password hash (the benchmark counts its use). */
  passwordQueue: PasswordQueue;
  /** This instance's open WebSockets; the fan-out delivers revocations to it. */
  live: LiveConnections;
  /** The session verifiers connected here and their leases (null without a fan-out). */
  verifiers: VerifierLeases | null;
  /** Marks expired sessions EXPIRED and publishes them (started by the server). */
  sweeper: ExpirySweeper;
  /** Deletes long-ended sessions and spent throttle counters (started by the server). */
  purge: SessionPurge;
  /** The event outbox, read by the serviceEvents feed (written by the statements that change sessions and users). */
  outbox: OutboxStore;
  /**
   * This instance's metrics (served on METRICS_PORT when set). A feature registers its own in
   * one line: `metrics.counter({ name: "outbox_sent_total", help: "..." })`.
   */
  metrics: Metrics;
}

/**
 * The composition root: every service is made once here, from the parsed config, and nothing
 * is started (the server starts and stops them, in its documented order). `fanout` carries
 * revocations between instances; without it only this process hears of them.
 */
export function createServices(
  config: Config,
  db: DataSource,
  logger: Logger,
  fanout?: RevocationFanout,
  metrics: Metrics = new Metrics(),
): Services {
  const pool = pgPool(db);
  const users = new UserService(db);
  const transactions = new Transactions(pool);
  const events = new SessionEvents();
  const sessionStore = new PgSessionStore(pool, { preparedStatements: config.preparedStatements });
  const sessionCache = new SessionCache((ids) => sessionStore.getSessionsAndUsers(ids), { max: 100_000, maxAgeMs: 30_000 });
  const accessTokens = new AccessTokenService(config.jwt.keys, {
    issuer: config.jwt.issuer,
    audience: config.jwt.audience,
    ttlSeconds: config.accessTokenTtl,
  });
  // Activity is recorded at most once per tenth of the idle window (and at least once a
  // minute), so the idle deadline moves while a device is in use without a write per request.
  const intervalMs = Math.min(60_000, Math.max(1000, (config.sessionIdleTtl * 1000) / 10));
  const lastActive = new LastActiveWriter(
    (ids) => sessionStore.touchSessions(ids),
    intervalMs,
    1000,
    (error) => logger.error({ err: error }, "recording session activity failed"),
  );
  const validator = new SessionValidator(accessTokens, sessionCache, sessionStore, lastActive, {
    idleTtl: config.sessionIdleTtl,
    freshTtl: config.freshSessionTtl,
  });
  const sessions = new SessionService(
    transactions,
    sessionStore,
    validator,
    {
      idleTtl: config.sessionIdleTtl,
      maxTtl: config.sessionMaxTtl,
      shortTtl: config.sessionShortTtl,
      refreshReuseGrace: config.refreshReuseGrace,
      maxSessionsPerUser: config.maxSessionsPerUser,
    },
    events,
    // The device-id HMAC key is derived from the oldest private signing key in the ring: one
    // secret every instance shares. Retiring that key makes every device new once.
    new DeviceIdHasher(config.jwt.keys.find((k) => k.privateKey)?.pem ?? "session-api-device-ids"),
    (session) => lastActive.seen(session),
  );
  const auditLog = new AuditLogService(db);
  const serviceKeys = new ServiceKeyService(new ServiceKeyStore(pool), { requestsPerSecond: config.serviceKeyRateLimit });
  const passwordQueue = new PasswordQueue(config.passwordQueue.concurrency, config.passwordQueue.maxWaiting);
  const passwords = new PasswordHasher(config.passwordHashCost, passwordQueue);
  // The throttle shares TypeORM's pg pool (and so its search_path, for per-test schemas).
  // Behind a pooler without prepared statements, the rate limiters' named statements go unnamed.
  const limiterPool = config.preparedStatements ? pool : withoutStatementNames(pool);
  const throttle = new LoginThrottle(limiterPool, config.loginThrottle);
  const passwordCheck = new PasswordCheck(passwords, throttle, auditLog);
  const registerBudget = new RegisterBudget(limiterPool, config.registerBudget);
  const auth = new AuthService(transactions, users, sessions, passwords, passwordCheck, accessTokens, registerBudget);
  const account = new AccountService(transactions, users, sessions, passwords, passwordCheck, events);
  const admin = new AdminService(transactions, new UserAdminStore(pool), sessions, auditLog);
  const live = new LiveConnections(sessions, logger, {
    perSession: config.socketCaps.perSession,
    perUser: config.socketCaps.perUser,
  });
  // A verifier's renewal rides on this instance's own next renewal (verifier-leases.ts).
  const verifiers = fanout ? new VerifierLeases(config.revocationLeaseMs, () => fanout.renewedAfterNow()) : null;
  const observer = registerCoreMetrics(metrics, { cache: sessionCache, live, pool, fanout, verifiers: verifiers ?? undefined });
  live.onDelivered = observer.delivered;
  wireRevocations({ events, cache: sessionCache, fanout, sockets: live, verifiers: verifiers ?? undefined, observer });
  const sweeper = new ExpirySweeper(sessions, logger, config.sessionSweepInterval * 1000);
  const purge = new SessionPurge(
    sessionStore,
    { retention: config.sessionRetention, idleTtl: config.sessionIdleTtl, intervalMs: config.sessionPurgeInterval * 1000 },
    logger,
    () => throttle.deleteExpired(),
  );
  return {
    config,
    logger,
    db,
    users,
    sessions,
    sessionStore,
    auth,
    account,
    auditLog,
    admin,
    serviceKeys,
    accessTokens,
    lastActive,
    sessionCache,
    passwordQueue,
    live,
    verifiers,
    sweeper,
    purge,
    outbox: new OutboxStore(poolRunner(pool)),
    metrics,
  };
}
