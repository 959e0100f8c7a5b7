/**
 * The logger the bus is given (a pino logger fits), and a rate limit for the warnings that a flood
 * could otherwise turn into one log line per message.
 */

/** The logging methods the bus uses; pino's signature. */
export interface BusLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const noop = (): void => {};
/** A logger that drops everything: the default when none is injected. */
export const silentLogger: BusLogger = { debug: noop, info: noop, warn: noop, error: noop };

/**
 * At most one line per key and interval. Lines held back are counted, and the next line of that key
 * says how many (`suppressed`), so the log stays honest about volume without flooding journald.
 */
export class RateLimitedLog {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly logger: BusLogger,
    private readonly intervalMs: number,
    private readonly clock: () => number,
  ) {}

  warn(key: string, obj: Record<string, unknown>, msg: string): void {
    this.write('warn', key, obj, msg);
  }

  error(key: string, obj: Record<string, unknown>, msg: string): void {
    this.write('error', key, obj, msg);
  }

  private write(level: 'warn' | 'error', key: string, obj: Record<string, unknown>, msg: string): void {
    const now = this.clock();
    const entry = this.last.get(key);
    if (entry !== undefined && now - entry.at < this.intervalMs) {
      entry.suppressed++;
      return;
    }
    const suppressed = entry?.suppressed ?? 0;
    if (this.last.size > 10_000) this.last.clear();
    this.last.set(key, { at: now, suppressed: 0 });
    this.logger[level](suppressed > 0 ? { ...obj, suppressed } : obj, msg);
  }
}
