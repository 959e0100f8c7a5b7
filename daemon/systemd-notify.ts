/**
 * Tells systemd how the daemon is doing (sd_notify protocol): readiness, reloads, stopping, a status
 * line, and watchdog keep-alive pings.
 *
 * `node:dgram` cannot write to the unix datagram socket in `$NOTIFY_SOCKET`, so each notification runs
 * the `systemd-notify` tool (CONVENTIONS.md, "Known traps"). Measured with systemd 252 (Debian 12):
 * - run as root, systemd-notify sends with its parent's PID (node's) as the sender; unprivileged (the
 *   unit's DynamicUser) it falls back to its own PID, hence `NotifyAccess=all` in the unit;
 * - without `--no-block` it then sends `BARRIER=1` and waits (at most 5 s) until the receiver has read
 *   the message, so the short-lived child is still alive when systemd attributes it to the unit;
 * - it has no `--reloading`/`--stopping` flags (they came in 253): plain `RELOADING=1`/`STOPPING=1`.
 * Nothing here throws or rejects: systemd learns of a failure by missing READY=1 or watchdog pings;
 * the daemon learns of it from the warn log and {@link SystemdNotifier.stats}.
 */
import { execFile } from 'node:child_process';
import { SystemdNotifyError } from './kernel/errors.js';

/** The pino-style logger the notifier writes to (a child logger of the daemon). */
export interface NotifierLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Runs `file` with `args`; resolves when it exited 0, rejects with the reason otherwise. */
export type NotifyExec = (file: string, args: readonly string[]) => Promise<void>;

/** Options of a {@link SystemdNotifier}. */
export interface SystemdNotifierOptions {
  /** The daemon's environment (`process.env`): NOTIFY_SOCKET, WATCHDOG_USEC, WATCHDOG_PID, PATH. */
  env: Readonly<Record<string, string | undefined>>;
  logger: NotifierLogger;
  /** Runs systemd-notify. Default: `execFile` with `env` and a deadline of `execTimeoutMs`. */
  exec?: NotifyExec;
  /** Deadline of one systemd-notify run with the default `exec`, in ms. Default 10,000. */
  execTimeoutMs?: number;
}

/** Counters of a {@link SystemdNotifier}. */
export interface SystemdNotifierStats {
  /** Notifications systemd-notify delivered (watchdog pings included). */
  sent: number;
  /** Notifications that failed or could not be tried (systemd-notify missing). */
  failed: number;
  /** Watchdog pings delivered. */
  watchdogPings: number;
}

/** The tool every notification runs. */
export const SYSTEMD_NOTIFY = 'systemd-notify';

/** Used when the environment has no PATH, so `systemd-notify` can still be found. */
const FALLBACK_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** Twice systemd-notify's own 5 s barrier wait, so a slow systemd is reported by the tool itself. */
const DEFAULT_EXEC_TIMEOUT_MS = 10_000;
const WATCHDOG_ARGS = ['WATCHDOG=1'] as const;
const DONE: Promise<void> = Promise.resolve();

/**
 * The default {@link NotifyExec}: `execFile` of the tool with the given environment (systemd-notify
 * reads NOTIFY_SOCKET from it), killed after `timeoutMs`. A failure carries the tool's stderr.
 */
export function execNotify(
  env: Readonly<Record<string, string | undefined>>,
  timeoutMs = DEFAULT_EXEC_TIMEOUT_MS,
): NotifyExec {
  const childEnv = { ...env, PATH: env.PATH ?? FALLBACK_PATH };
  return (file, args) =>
    new Promise<void>((resolve, reject) => {
      execFile(file, [...args], { env: childEnv, timeout: timeoutMs }, (err) => {
        // execFile's error message already holds the tool's stderr ("Command failed: …\n<stderr>").
        if (err) reject(err);
        else resolve();
      });
    });
}

/**
 * Reports the daemon's state to systemd through `systemd-notify`.
 *
 * Enabled only when `NOTIFY_SOCKET` is set (systemd sets it for `Type=notify` services); otherwise
 * every method is a cheap no-op, so the daemon calls them unconditionally. State notifications are
 * sent one after another in call order (a RELOADING=1 never overtakes the READY=1 before it);
 * watchdog pings go out on their own. No method throws or rejects: a failed notification is logged at
 * warn and counted in {@link SystemdNotifier.stats}. If `systemd-notify` is not installed this is
 * logged once, and nothing further is tried.
 *
 * @example
 * const notifier = new SystemdNotifier({ env: process.env, logger: logger.child({ component: 'systemd' }) });
 * await startEverything();
 * await notifier.ready('listening on 127.0.0.1:7070');
 * notifier.startWatchdog();
 * // SIGTERM: await notifier.stopping(); await stopEverything(); notifier.stop();
 */
export class SystemdNotifier {
  private readonly env: Readonly<Record<string, string | undefined>>;
  private readonly logger: NotifierLogger;
  private readonly exec: NotifyExec | null;
  private readonly counters: SystemdNotifierStats = { sent: 0, failed: 0, watchdogPings: 0 };
  /** Tail of the chain that keeps state notifications in call order. */
  private chain: Promise<void> = DONE;
  private timer: NodeJS.Timeout | null = null;
  private intervalMs: number | null = null;
  /** systemd-notify was not found (ENOENT): reported once, never tried again. */
  private missing = false;

  constructor(options: SystemdNotifierOptions) {
    this.env = options.env;
    this.logger = options.logger;
    const enabled = nonEmpty(options.env.NOTIFY_SOCKET);
    this.exec = enabled ? (options.exec ?? execNotify(options.env, options.execTimeoutMs)) : null;
  }

  /** True when systemd expects notifications (`NOTIFY_SOCKET` is set). */
  get enabled(): boolean {
    return this.exec !== null;
  }

  /** The watchdog ping interval in ms while the watchdog timer runs, else null. */
  get watchdogIntervalMs(): number | null {
    return this.intervalMs;
  }

  /** A snapshot of the counters. */
  get stats(): SystemdNotifierStats {
    return { ...this.counters };
  }

  /**
   * Start-up (or a reload) is complete: `READY=1`, with an optional status line. systemd then starts
   * units ordered after this one, ends a reload, and arms the watchdog.
   */
  ready(status?: string): Promise<void> {
    const args = status === undefined ? ['--ready'] : ['--ready', `--status=${oneLine(status)}`];
    return this.enqueue(args);
  }

  /**
   * The configuration is being reloaded (SIGHUP): `RELOADING=1`. Send {@link ready} when done.
   * `MONOTONIC_USEC` (CLOCK_MONOTONIC, which `process.hrtime` reads on Linux) is required with
   * RELOADING=1 by systemd 253+ for `Type=notify-reload`; 252 ignores it.
   */
  reloading(): Promise<void> {
    const usec = process.hrtime.bigint() / 1000n;
    return this.enqueue(['RELOADING=1', `MONOTONIC_USEC=${usec}`]);
  }

  /** The daemon is shutting down: `STOPPING=1`. */
  stopping(): Promise<void> {
    return this.enqueue(['STOPPING=1']);
  }

  /** A free-form status line, shown by `systemctl status performia`. Newlines become spaces. */
  status(text: string): Promise<void> {
    return this.enqueue([`--status=${oneLine(text)}`]);
  }

  /**
   * Starts sending `WATCHDOG=1` every `WATCHDOG_USEC / 2` when systemd asks for pings
   * (`WatchdogSec=` sets `WATCHDOG_USEC`, and `WATCHDOG_PID` names the process meant: if set, it must
   * be this one). The timer runs on the event loop, so a blocked loop misses pings and systemd restarts
   * the service; it is `unref()`'d and never keeps the process alive. Does nothing when already
   * running.
   */
  startWatchdog(): void {
    if (this.exec === null || this.timer !== null) return;
    const intervalMs = this.watchdogInterval();
    if (intervalMs === null) return;
    this.intervalMs = intervalMs;
    this.timer = setInterval(() => {
      void this.ping();
    }, intervalMs);
    this.timer.unref();
    this.logger.info({ intervalMs }, `systemd watchdog: pinging every ${intervalMs} ms`);
  }

  /** Stops the watchdog timer. Idempotent; {@link startWatchdog} may start it again. */
  stop(): void {
    if (this.timer === null) return;
    clearInterval(this.timer);
    this.timer = null;
    this.intervalMs = null;
  }

  /** The ping interval systemd asks for, or null (not asked, meant for another PID, or invalid). */
  private watchdogInterval(): number | null {
    const usec = this.env.WATCHDOG_USEC;
    if (!nonEmpty(usec)) return null;
    const pid = this.env.WATCHDOG_PID;
    if (nonEmpty(pid) && pid !== String(process.pid)) {
      this.logger.debug(
        { watchdogPid: pid, pid: process.pid },
        'systemd watchdog is meant for another process',
      );
      return null;
    }
    const value = /^\d+$/.test(usec) ? Number(usec) : Number.NaN;
    if (!Number.isSafeInteger(value) || value <= 0) {
      this.logger.warn(
        { WATCHDOG_USEC: usec },
        `systemd watchdog not started: WATCHDOG_USEC must be a positive integer (µs), got "${usec}"`,
      );
      return null;
    }
    // sd_watchdog_enabled(3): ping at half the timeout so one late timer tick is not fatal.
    return Math.max(1, Math.floor(value / 2000));
  }

  private async ping(): Promise<void> {
    if (await this.send(WATCHDOG_ARGS)) this.counters.watchdogPings++;
  }

  private enqueue(args: readonly string[]): Promise<void> {
    if (this.exec === null) return DONE;
    const next = this.chain.then(async () => {
      await this.send(args);
    });
    this.chain = next;
    return next;
  }

  /** Runs systemd-notify once. Resolves true when it worked; never rejects. */
  private async send(args: readonly string[]): Promise<boolean> {
    const exec = this.exec;
    if (exec === null) return false;
    if (this.missing) {
      this.counters.failed++;
      return false;
    }
    try {
      await exec(SYSTEMD_NOTIFY, args);
      this.counters.sent++;
      this.logger.debug({ args }, 'systemd notified');
      return true;
    } catch (cause) {
      this.counters.failed++;
      this.report(args, cause);
      return false;
    }
  }

  private report(args: readonly string[], cause: unknown): void {
    const failures = this.counters.failed;
    if ((cause as NodeJS.ErrnoException | null)?.code === 'ENOENT') {
      this.missing = true;
      const err = new SystemdNotifyError(
        `${SYSTEMD_NOTIFY} is not installed (not found on PATH): readiness, status and watchdog pings ` +
          'cannot be reported to systemd, which will time the service out. Install the systemd package.',
        { cause },
      );
      this.logger.warn({ code: err.code, err, args, failures }, err.message);
      return;
    }
    const reason = cause instanceof Error ? cause.message : String(cause);
    const err = new SystemdNotifyError(`${SYSTEMD_NOTIFY} ${args.join(' ')} failed: ${oneLine(reason)}`, {
      cause,
    });
    this.logger.warn({ code: err.code, err, args, failures }, err.message);
  }
}

const nonEmpty = (value: string | undefined): value is string => value !== undefined && value !== '';

/** The sd_notify message is newline-separated VAR=value lines: a newline in a status would add one. */
const oneLine = (text: string): string => text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
