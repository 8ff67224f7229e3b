import pino from "pino";

export type Logger = pino.Logger;

/**
 * JSON logs. Credentials are redacted by path as a second line of defence: no code logs a
 * request's headers or variables, but if one ever does, tokens and passwords come out masked.
 */
export function createLogger(level: string): Logger {
  return pino({
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
  });
}
