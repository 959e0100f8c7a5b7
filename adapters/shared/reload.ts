/**
 * A config reload (SIGHUP) as every adapter applies it: each changed key is compiled and applied on its
 * own; one that cannot be applied is logged and returned as not applied (it waits for a restart, and
 * the daemon says so), the running rules staying in place.
 */
import type { BusLogger } from '../../daemon/bus/index.js';

/** The keys of one reload: `apply` them one by one, then read `notApplied`. */
export class ReloadSteps {
  readonly notApplied: string[] = [];

  constructor(private readonly logger: BusLogger) {}

  /** Runs `apply` when `before` and `after` differ (compared as JSON); a throw leaves the key unapplied. */
  apply(key: string, before: unknown, after: unknown, apply: () => void): void {
    if (JSON.stringify(before) === JSON.stringify(after)) return;
    try {
      apply();
      this.logger.info({ key }, `${key} reloaded`);
    } catch (err) {
      this.notApplied.push(key);
      this.logger.error(
        { key, code: (err as { code?: string }).code, err: (err as Error).message },
        `${key} not reloaded: the running ones stay until a restart`,
      );
    }
  }
}
