/**
 * A Prometheus counter that mirrors a part's own monotonic totals, read at scrape time: every adapter
 * and agent keeps plain counters (cheap on the hot path) and registers them once with this.
 */
import { Counter, type Registry } from 'prom-client';

/** A counter that mirrors monotonic totals read at scrape time (parts use it for their own counters). */
export function mirrorCounter(
  registry: Registry,
  name: string,
  help: string,
  labelNames: string[],
  read: () => { labels: Record<string, string>; value: number }[],
): void {
  const seen = new Map<string, number>();
  new Counter({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      for (const { labels, value } of read()) {
        const key = JSON.stringify(labels);
        const delta = value - (seen.get(key) ?? 0);
        if (delta > 0) this.inc(labels, delta);
        seen.set(key, value);
      }
    },
  });
}
