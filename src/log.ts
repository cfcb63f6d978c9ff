import { pino, type Logger } from 'pino';

export type { Logger };

/** JSON logs on stderr; fields that could hold secrets are redacted wherever they appear. */
export function createLogger(level: string, name = 'syncwright'): Logger {
  return pino(
    {
      name,
      level,
      redact: {
        paths: [
          '*.password',
          '*.secret',
          '*.secrets',
          '*.token',
          '*.accessToken',
          '*.refreshToken',
          '*.authorization',
          '*.headers.authorization',
        ],
        censor: '[redacted]',
      },
    },
    pino.destination(2),
  );
}
