/**
 * The one root logger (CONVENTIONS.md, "Logging and config"): JSON lines on stdout for journald,
 * pretty only in a terminal (or when asked). Every part gets `logger.child({ component })`.
 */
import { type Logger, pino } from 'pino';
import type { PerformiaConfig } from '../config/index.js';

/** Creates the root logger. `isTTY` is stdout's. */
export function createLogger(log: PerformiaConfig['log'], isTTY: boolean): Logger {
  const pretty = log.pretty === 'always' || (log.pretty === 'auto' && isTTY);
  const options = { level: log.level, base: { service: 'performia' } };
  if (!pretty) return pino(options);
  return pino(
    options,
    pino.transport({ target: 'pino-pretty', options: { colorize: isTTY, translateTime: 'SYS:HH:MM:ss.l' } }),
  );
}
