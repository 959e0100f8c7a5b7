/** Sound-in → bus latencies of one event kind over the last minute or two, in ms (for /health). */
import { LatencyWindow } from '../../../daemon/bus/latency-window.js';

/** Percentiles in ms. */
export interface LatencySummaryMs {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

const WINDOW_MS = 60_000;

export class LatencyWindowMs {
  private window: LatencyWindow | undefined;

  /** Records `ms`, measured at bus time `now`. */
  record(ms: number, now: number): void {
    this.window ??= new LatencyWindow(WINDOW_MS, now);
    this.window.tick(now);
    this.window.recordMs(ms);
  }

  summary(): LatencySummaryMs {
    const s = this.window?.summary();
    if (s === undefined) return { count: 0, p50: 0, p99: 0, max: 0 };
    const ms = (us: number) => Math.round(us) / 1000;
    return { count: s.count, p50: ms(s.p50), p99: ms(s.p99), max: ms(s.max) };
  }
}
