/**
 * A {@link Timeline} on a virtual clock: time moves only when `advanceTo` or `runUntilIdle` says so,
 * and every callback sees `now()` equal to its own time. Tests run agents, clocks and outputs on it
 * (CONVENTIONS.md: time reaches them through an injected clock), and offline rendering drives the
 * band on it as fast as the CPU allows.
 */
import type { Timeline } from './scheduler.js';

interface Entry {
  time: number;
  seq: number;
  run: () => void;
  cancelled: boolean;
}

export class VirtualScheduler implements Timeline {
  private time: number;
  private seq = 0;
  private entries: Entry[] = [];
  private stopped = false;
  /** Callbacks run so far. */
  ran = 0;

  /** Starts the clock at `start` ms. */
  constructor(start = 0) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  /** The time of the next entry not cancelled, or undefined when none waits. */
  get next(): number | undefined {
    return this.entries.find((e) => !e.cancelled)?.time;
  }

  /** Entries waiting. */
  get pending(): number {
    return this.entries.filter((e) => !e.cancelled).length;
  }

  at(time: number, run: () => void): (() => void) | undefined {
    if (this.stopped || !Number.isFinite(time)) return undefined;
    const entry: Entry = { time: Math.max(time, this.time), seq: this.seq++, run, cancelled: false };
    // Sorted insert from the end: schedules mostly append.
    let i = this.entries.length;
    while (i > 0 && this.later(this.entries[i - 1]!, entry)) i--;
    this.entries.splice(i, 0, entry);
    return () => {
      entry.cancelled = true;
    };
  }

  /**
   * Runs every entry due up to `time` in time order (entries they add run too, if due), then sets the
   * clock to `time`. A callback that throws is rethrown after the clock stands at its time.
   */
  advanceTo(time: number): void {
    for (;;) {
      const first = this.entries[0];
      if (first === undefined || first.time > time) break;
      this.entries.shift();
      if (first.cancelled) continue;
      this.time = first.time;
      this.ran++;
      first.run();
    }
    if (time > this.time) this.time = time;
  }

  /** Advances by `ms`. */
  advance(ms: number): void {
    this.advanceTo(this.time + ms);
  }

  /** Runs entries until none is left or the clock would pass `limit` (a guard against endless series). */
  runUntilIdle(limit = Number.POSITIVE_INFINITY): void {
    while (this.entries.length > 0) {
      const first = this.entries[0]!;
      if (first.time > limit) break;
      this.advanceTo(first.time);
    }
  }

  /** Drops every entry; later `at` calls are refused. */
  stop(): void {
    this.stopped = true;
    this.entries = [];
  }

  private later(a: Entry, b: Entry): boolean {
    return a.time > b.time || (a.time === b.time && a.seq > b.seq);
  }
}
