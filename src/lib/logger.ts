import pino from "pino";
import { PinoPretty } from "pino-pretty";
import { currentRequestId } from "./request-scope";

export type Logger = pino.Logger;

/**
 * Human-readable lines for a person at a terminal in development; JSON everywhere else (a file,
 * a pipe, a log collector, production).
 */
export function wantsPrettyLogs(env: string, stdoutIsTTY: boolean | undefined): boolean {
  return env === "development" && stdoutIsTTY === true;
}

/**
 * JSON logs, or with `pretty` the same records as coloured lines (on stdout unless given a
 * destination; written in this thread, synchronously, so nothing is lost when the process exits). Credentials are redacted
 * by path as a second line of defence: no code logs a request's headers or variables, but if
 * one ever does, tokens and passwords come out masked.
 */
export function createLogger(level: string, destination?: pino.DestinationStream, options: { pretty?: boolean } = {}): Logger {
  const target = options.pretty
    ? PinoPretty({ sync: true, translateTime: "SYS:HH:MM:ss.l", ignore: "pid,hostname", destination: destination ?? 1 })
    : destination;
  return pino(
    {
      level,
      redact: {
        paths: [
          "req.headers.authorization",
          "req.headers.cookie",
          "*.password",
          "*.currentPassword",
          "*.newPassword",
          "*.refreshToken",
          "*.accessToken",
          "*.passwordHash",
        ],
        censor: "[redacted]",
      },
      serializers: { err: serializeError },
      // Every line written while serving a request or a socket names it (lib/request-scope.ts).
      mixin: () => {
        const requestId = currentRequestId();
        return requestId === undefined ? {} : { requestId };
      },
    },
    target,
  );
}

/**
 * TypeORM's QueryFailedError carries the statement's parameters (an email, a password hash, a
 * token hash): log the statement and the database's message, never the values.
 */
function serializeError(error: unknown): unknown {
  const serialized = pino.stdSerializers.err(error as Error) as unknown as Record<string, unknown>;
  if (!serialized || typeof serialized !== "object") return serialized;
  const { parameters: _p, driverError: _d, ...rest } = serialized;
  return rest;
}
