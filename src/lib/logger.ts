import pino from "pino";

export type Logger = pino.Logger;

/**
 * JSON logs. Credentials are redacted by path as a second line of defence: no code logs a
 * request's headers or variables, but if one ever does, tokens and passwords come out masked.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
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
    },
    destination,
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
