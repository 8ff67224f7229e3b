import type { DataSource } from "typeorm";
import { AccessTokenService } from "./auth/access-token";
import { AuthService } from "./auth/auth.service";
import { PasswordHasher } from "./auth/password";
import type { Config } from "./config/environment";
import type { Logger } from "./lib/logger";
import { LiveConnections } from "./live/live-connections";
import { LastActiveWriter } from "./sessions/last-active-writer";
import { noSessionEvents, type SessionEventSink } from "./sessions/session-events";
import { SessionService } from "./sessions/session.service";
import { UserService } from "./users/user.service";

export interface Services {
  config: Config;
  logger: Logger;
  db: DataSource;
  users: UserService;
  sessions: SessionService;
  auth: AuthService;
  accessTokens: AccessTokenService;
  lastActive: LastActiveWriter;
  /** This instance's open WebSockets; the fan-out delivers revocations to it. */
  live: LiveConnections;
}

/** The composition root: every service is made once here, from the parsed config. */
export function createServices(
  config: Config,
  db: DataSource,
  logger: Logger,
  events: SessionEventSink = noSessionEvents,
): Services {
  const users = new UserService(db);
  const sessions = new SessionService(
    db,
    { idleTtl: config.sessionIdleTtl, maxTtl: config.sessionMaxTtl, refreshReuseGrace: config.refreshReuseGrace },
    events,
  );
  const accessTokens = new AccessTokenService(config.jwt.secret, {
    issuer: config.jwt.issuer,
    audience: config.jwt.audience,
    ttlSeconds: config.accessTokenTtl,
  });
  const auth = new AuthService(db, users, sessions, new PasswordHasher(config.passwordHashCost), accessTokens, events);
  // Activity is recorded at most once per tenth of the idle window (and at least once a
  // minute), so the idle deadline moves while a device is in use without a write per request.
  const intervalMs = Math.min(60_000, Math.max(1000, (config.sessionIdleTtl * 1000) / 10));
  const lastActive = new LastActiveWriter((ids) => sessions.touchSessions(ids), intervalMs, 1000, (error) =>
    logger.error({ err: error }, "recording session activity failed"),
  );
  const live = new LiveConnections(sessions, logger);
  return { config, logger, db, users, sessions, auth, accessTokens, lastActive, live };
}
