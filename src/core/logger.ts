/**
 * @module core/logger
 * pino, JSON by default and pretty when stdout is a terminal. Field names used across the project are
 * fixed here so logs stay greppable.
 */
import { type LevelWithSilent, type Logger, pino } from 'pino';
import { PinoPretty } from 'pino-pretty';

export type { Logger } from 'pino';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export interface LoggerOptions {
  /** Level when LOG_LEVEL is not set. */
  readonly level?: LevelWithSilent;
  /** Pretty output; defaults to whether stdout is a terminal. */
  readonly pretty?: boolean;
  /** Where JSON lines go; defaults to stdout. Tests pass a sink. */
  readonly destination?: NodeJS.WritableStream;
}

/** Builds the root logger; LOG_LEVEL in the environment wins over the configured level. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const envLevel = process.env['LOG_LEVEL'] as LevelWithSilent | undefined;
  const level = envLevel && LOG_LEVELS.includes(envLevel) ? envLevel : (options.level ?? 'info');
  const base = { name: 'switchyard' };
  if (options.destination) return pino({ level, base }, options.destination);
  const pretty = options.pretty ?? process.stdout.isTTY;
  if (pretty) {
    // In-process and synchronous rather than a transport worker: lines are never lost at exit.
    return pino({ level, base }, PinoPretty({ colorize: true, ignore: 'pid,hostname,name', sync: true }));
  }
  return pino({ level, base });
}
