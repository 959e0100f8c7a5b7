/**
 * Runs callbacks at absolute times on the bus clock (DESIGN.md, "Time"): held OSC bundles, messages
 * with a future `at`, later the conductor's beats. One Node timer serves every pending entry (the
 * earliest), re-armed against the absolute schedule, never chained intervals.
 *
 * Never early: Node's timers count whole milliseconds on a clock of their own, so a timer can fire a
 * little before the bus clock reaches the time. An entry is run only once `clock() >= time`; when the
 * timer wakes less than `spinMs` before the time, the scheduler waits the rest out on the CPU
 * (PERFORMANCE-NOTES.md: a busy-wait for the last 1.5 ms takes p99 error from ~1.5 ms to ~0.4 ms). The
 * default window is 4 ms: on this VM a timer sometimes woke 3 ms late, and held OSC bundles must be
 * published within 2 ms of their time. It costs up to 4 ms of one core per separate event time.
 */

/** Options of a {@link Scheduler}. */
export interface SchedulerOptions {
  /** The bus clock, in ms. */
  clock: () => number;
  /** Wait out the last stretch on the CPU when the timer wakes this close to the time. Default 4 ms. */
  spinMs?: number;
  /** Entries pending at most; `at` refuses more (returns undefined). Default 100,000. */
  maxPending?: number;
}

interface Entry {
  time: number;
  seq: number;
  run: () => void;
  cancelled: boolean;
}

/** Called when a scheduled callback throws: the scheduler itself runs on. */
export type SchedulerErrorHandler = (err: unknown) => void;

export class Scheduler {
  private readonly clock: () => number;
  private readonly spinMs: number;
  private readonly maxPending: number;
  private heap: Entry[] = [];
  private seq = 0;
  private timer: NodeJS.Timeout | undefined;
  private timerFor = Number.POSITIVE_INFINITY;
  private stopped = false;
  /** Callbacks run, and how late they ran (ms), for stats. */
  ran = 0;
  maxLateMs = 0;
  onError: SchedulerErrorHandler = () => {};

  constructor(options: SchedulerOptions) {
    this.clock = options.clock;
    this.spinMs = options.spinMs ?? 4;
    this.maxPending = options.maxPending ?? 100_000;
  }

  /** Entries waiting. */
  get pending(): number {
    return this.heap.length;
  }

  /** The bus clock's time. */
  now(): number {
    return this.clock();
  }

  /**
   * Runs `run` at `time` (bus clock, ms), never before. A time in the past runs at the next timer
   * turn. Returns a cancel function, or undefined when the scheduler is full or stopped.
   */
  at(time: number, run: () => void): (() => void) | undefined {
    if (this.stopped || this.heap.length >= this.maxPending || !Number.isFinite(time)) return undefined;
    const entry: Entry = { time, seq: this.seq++, run, cancelled: false };
    this.push(entry);
    if (time < this.timerFor) this.arm();
    return () => {
      entry.cancelled = true;
    };
  }

  /** Drops every pending entry and the timer. Idempotent. */
  stop(): void {
    this.stopped = true;
    this.heap = [];
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerFor = Number.POSITIVE_INFINITY;
  }

  private arm(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const first = this.heap[0];
    if (first === undefined || this.stopped) {
      this.timerFor = Number.POSITIVE_INFINITY;
      return;
    }
    this.timerFor = first.time;
    const wait = Math.max(0, first.time - this.clock() - this.spinMs);
    this.timer = setTimeout(this.fire, Math.floor(wait));
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    this.timerFor = Number.POSITIVE_INFINITY;
    let now = this.clock();
    let spun = false;
    for (let first = this.heap[0]; first !== undefined && !this.stopped; first = this.heap[0]) {
      if (first.time > now) {
        // Spin once per timer turn, for the entry the timer was armed for: spinning on from entry to
        // entry (a dense series 3 ms apart) would never give the event loop back.
        if (spun || first.time - now > this.spinMs) break;
        // Close enough: wait the rest out rather than risk a whole timer turn (~1 ms) of lateness.
        while (now < first.time) now = this.clock();
        spun = true;
      }
      this.pop();
      if (first.cancelled) continue;
      const late = now - first.time;
      if (late > this.maxLateMs) this.maxLateMs = late;
      this.ran++;
      try {
        first.run();
      } catch (err) {
        this.onError(err);
      }
      now = this.clock();
    }
    this.arm();
  };

  // A binary min-heap on (time, seq): equal times run in the order they were scheduled.
  private less(a: Entry, b: Entry): boolean {
    return a.time < b.time || (a.time === b.time && a.seq < b.seq);
  }

  private push(entry: Entry): void {
    const h = this.heap;
    h.push(entry);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(h[i]!, h[parent]!)) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop();
    if (last === undefined || h.length === 0) return;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
      if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
}
