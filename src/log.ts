import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const satisfies readonly LevelWithSilent[];
export type LogLevel = (typeof LOG_LEVELS)[number];

export function createLogger(level: LogLevel): Logger {
  return pino({ name: 'lwm2m-hub', level, base: { pid: process.pid } });
}

/** For tests and embedding: a logger that writes nothing. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
