// pino JSON logs for every part. Secrets never go through here: callers log
// token roles and ids, never token values (the redact list is a second guard).
import pino from 'pino';

export type Logger = pino.Logger;

export function createLogger(part: string, fields: Record<string, unknown> = {}): Logger {
  return pino({
    name: `meridian-${part}`,
    level: process.env.MERIDIAN_LOG_LEVEL ?? 'info',
    base: { part, pid: process.pid, ...fields },
    redact: {
      paths: ['token', 'joinToken', 'authorization', 'headers.authorization', '*.token', '*.joinToken'],
      censor: '[redacted]',
    },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}

// A logger that writes nothing, for unit tests of one module.
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
