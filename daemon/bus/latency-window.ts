/**
 * Latency percentiles over a sliding window, on HdrHistogram (hdr-histogram-js).
 *
 * Two histograms take turns: values go into `current`; when a window has passed, `current` becomes
 * `previous` and a cleared one takes its place. A summary merges both, so it always covers between one
 * and two windows of the most recent values. Values are recorded in nanoseconds.
 */
import { build, type Histogram } from 'hdr-histogram-js';

/** Percentiles of one latency measure, in microseconds. */
export interface LatencySummary {
  /** Values in the window. */
  count: number;
  p50: number;
  p99: number;
  max: number;
}

/** Highest recordable value: 60 s in ns; anything longer is clamped to it. */
const HIGHEST_NS = 60e9;

function histogram(): Histogram {
  return build({
    bitBucketSize: 32,
    useWebAssembly: false,
    autoResize: false,
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_NS,
    numberOfSignificantValueDigits: 3,
  });
}

export class LatencyWindow {
  private current = histogram();
  private previous = histogram();
  /** Scratch histogram for summaries: building one costs ~1 ms (hdr-histogram-js makes formatters). */
  private readonly merged = histogram();
  private windowStart: number;

  /** @param windowMs length of one window, in bus-clock ms; @param now the bus clock's time */
  constructor(
    private readonly windowMs: number,
    now: number,
  ) {
    this.windowStart = now;
  }

  /** Records one value given in milliseconds. */
  recordMs(ms: number): void {
    let ns = Math.round(ms * 1e6);
    if (ns < 0) ns = 0;
    else if (ns > HIGHEST_NS) ns = HIGHEST_NS;
    this.current.recordValue(ns);
  }

  /** Starts a new window when the current one is over. Call with the bus clock's time. */
  tick(now: number): void {
    if (now - this.windowStart < this.windowMs) return;
    const cleared = this.previous;
    cleared.reset();
    this.previous = this.current;
    this.current = cleared;
    // Two windows without traffic: the old values are stale, drop them too.
    if (now - this.windowStart >= 2 * this.windowMs) this.previous.reset();
    this.windowStart = now;
  }

  summary(): LatencySummary {
    const merged = this.merged;
    merged.reset();
    merged.add(this.previous);
    merged.add(this.current);
    const count = merged.totalCount;
    const us = (ns: number): number => Math.round(ns / 10) / 100;
    const out: LatencySummary = {
      count,
      p50: count ? us(merged.getValueAtPercentile(50)) : 0,
      p99: count ? us(merged.getValueAtPercentile(99)) : 0,
      max: count ? us(merged.maxValue) : 0,
    };
    return out;
  }
}
