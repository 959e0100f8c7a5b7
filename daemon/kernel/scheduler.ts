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
 *
 * What no code in the process can help: a machine (a VM's host, a busy kernel) that takes the CPU away
 * for milliseconds (measured on this project's VMs: gaps of 1-5 ms in a busy-wait, several a second at
 * times). The scheduler reports the stalls it can see, for /health: `stallMs` (readable from a running
 * callback; `stalls` and `maxStallMs` sum up) is, for the current timer turn, how far past the entry
 * it was armed for the timer woke (beyond Node's usual timer slack) less the time the event loop was
 * busy meanwhile (`eventLoopUtilization().active`: a delay our own code caused is ours), plus every
 * gap of more than 0.5 ms between two clock reads of the busy-wait. It cannot see a stall while a
 * callback runs, nor tell a kernel stall from our own work in that time: a diagnosis, not an alibi.
 */

import { type EventLoopUtilization, performance } from 'node:perf_hooks';

/** How late after its asked time a Node timer wakes in the normal run of things, ms (whole-ms timers). */
const TIMER_SLACK_MS = 1.5;
/** A gap between two clock reads of the busy-wait longer than this, ms, is time the process lost. */
const SPIN_GAP_MS = 0.5;

/**
 * What a part needs of time: the bus clock and callbacks at absolute times on it. The daemon gives the
 * real {@link Scheduler}; tests and offline rendering give a {@link VirtualScheduler}
 * (virtual-scheduler.ts), on which time moves only when told.
 */
export interface Timeline {
  /** The bus clock's time, ms. */
  now(): number;
  /**
   * Runs `run` at `time` (bus clock, ms), never before; a time in the past runs at the next turn.
   * Returns a cancel function, or undefined when the timeline is full or stopped.
   */
  at(time: number, run: () => void): (() => void) | undefined;
}

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

export class Scheduler implements Timeline {
  private readonly clock: () => number;
  private readonly spinMs: number;
  private readonly maxPending: number;
  private heap: Entry[] = [];
  private seq = 0;
  private timer: NodeJS.Timeout | undefined;
  private timerFor = Number.POSITIVE_INFINITY;
  private stopped = false;
  /** The bus clock's time at which the armed timer should wake. */
  private wakeAt = Number.POSITIVE_INFINITY;
  /** The event loop's utilization when the timer was armed. */
  private eluAtArm: EventLoopUtilization | undefined;
  /** Callbacks run, and how late they ran (ms), for stats. */
  ran = 0;
  maxLateMs = 0;
  /**
   * In the current timer turn, how long (ms) the process was kept from running: read it from a
   * callback to tell the machine's share of its lateness from the scheduler's.
   */
  stallMs = 0;
  /** Timer turns in which the process was kept from running, and the longest such stall (ms). */
  stalls = 0;
  maxStallMs = 0;
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
    const now = this.clock();
    const wait = Math.floor(Math.max(0, first.time - now - this.spinMs));
    this.wakeAt = now + wait;
    this.eluAtArm = performance.eventLoopUtilization();
    this.timer = setTimeout(this.fire, wait);
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    const armedFor = this.timerFor;
    this.timerFor = Number.POSITIVE_INFINITY;
    let now = this.clock();
    // A timer that wakes after the entry it was armed for is a stall, unless it is within Node's usual
    // timer slack (whole ms, ~1.5 ms after the asked time) or the event loop was busy meanwhile.
    const busy = this.eluAtArm === undefined ? 0 : performance.eventLoopUtilization(this.eluAtArm).active;
    let stall = Math.max(0, now - Math.max(armedFor, this.wakeAt + TIMER_SLACK_MS) - busy);
    this.stallMs = stall;
    let spun = false;
    for (let first = this.heap[0]; first !== undefined && !this.stopped; first = this.heap[0]) {
      if (first.time > now) {
        // Spin once per timer turn, for the entry the timer was armed for: spinning on from entry to
        // entry (a dense series 3 ms apart) would never give the event loop back.
        if (spun || first.time - now > this.spinMs) break;
        // Close enough: wait the rest out rather than risk a whole timer turn (~1 ms) of lateness.
        let prev = now;
        while (now < first.time) {
          now = this.clock();
          if (now - prev > SPIN_GAP_MS) stall += now - prev;
          prev = now;
        }
        this.stallMs = stall;
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
    if (stall > 0) {
      this.stalls++;
      if (stall > this.maxStallMs) this.maxStallMs = stall;
    }
    this.stallMs = 0;
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
