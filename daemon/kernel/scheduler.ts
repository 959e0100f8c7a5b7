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
 * published within 2 ms of their time. It costs up to 4 ms of one core per separate event time, but
 * not the event loop: the wait yields to it every 0.1 ms, so live input (OSC, MIDI, HTTP) that arrives
 * meanwhile is handled at once (measured before: held up to 4 ms while the band played).
 *
 * What no code in the process can help: a machine (a VM's host, a busy kernel) that takes the CPU away
 * for milliseconds (measured on this project's VMs: gaps of 1-5 ms in a busy-wait, several a second at
 * times). The scheduler reports the stalls it can see, for /health: `stallMs` (readable from a running
 * callback; `stalls` and `maxStallMs` sum up) is, for the current timer turn, how far past the entry
 * it was armed for the timer woke (beyond Node's usual timer slack) less the time the event loop was
 * busy meanwhile (`eventLoopUtilization().active`: a delay our own code caused is ours), plus every
 * gap of more than 0.5 ms between two clock reads of the busy-wait, plus, of a longer gap between two
 * of its slices, the part this process did not spend on the CPU. It cannot see a stall while a
 * callback runs, nor tell a kernel stall from our own work in that time: a diagnosis, not an alibi.
 */

import { type EventLoopUtilization, performance } from 'node:perf_hooks';

/** How late after its asked time a Node timer wakes in the normal run of things, ms (whole-ms timers). */
const TIMER_SLACK_MS = 1.5;
/** A gap between two clock reads of the busy-wait longer than this, ms, is time the process lost. */
const SPIN_GAP_MS = 0.5;
/** The busy-wait yields to the event loop this often (ms): the most it holds up input. */
const SPIN_SLICE_MS = 0.1;

/** CPU time (user + system) of this process, ms. */
function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

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

/** The window of {@link Scheduler.recentMaxLateMs}, ms. */
const LATE_WINDOW_MS = 10_000;

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
  /** True while the next entry is waited for through event-loop turns ({@link spin}). */
  private spinning = false;
  /** The clock, and this process's CPU time (ms), at the end of the last spin slice. */
  private sliceEnd = 0;
  private cpuAtSliceEnd = 0;
  /** Time the process lost since the timer woke (ms): see {@link stallMs}. */
  private stall = 0;
  /** Callbacks run, and how late they ran (ms), for stats. */
  ran = 0;
  maxLateMs = 0;
  /**
   * The latest run in the last 10–20 s (two 10 s windows taking turns, as the bus's latency window):
   * what a dashboard plots, where `maxLateMs` since start would pin one late timer at boot forever.
   */
  private late = { start: 0, current: 0, previous: 0 };
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

  /** The latest an entry ran after its time over the last 10–20 s, ms. */
  get recentMaxLateMs(): number {
    this.rollLate(this.clock());
    return Math.max(this.late.current, this.late.previous);
  }

  private rollLate(now: number): void {
    const age = now - this.late.start;
    if (age < LATE_WINDOW_MS) return;
    // Two windows without a run: the previous one is stale too.
    this.late.previous = age >= 2 * LATE_WINDOW_MS ? 0 : this.late.current;
    this.late.current = 0;
    this.late.start = now;
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
    // While spinning, every turn looks at the earliest entry: no timer to re-arm.
    if (!this.spinning && time < this.timerFor) this.arm();
    return () => {
      entry.cancelled = true;
    };
  }

  /** Drops every pending entry and the timer. Idempotent. */
  stop(): void {
    this.stopped = true;
    this.spinning = false;
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
    const now = this.clock();
    // A timer that wakes after the entry it was armed for is a stall, unless it is within Node's usual
    // timer slack (whole ms, ~1.5 ms after the asked time) or the event loop was busy meanwhile.
    const busy = this.eluAtArm === undefined ? 0 : performance.eventLoopUtilization(this.eluAtArm).active;
    this.stall = Math.max(0, now - Math.max(armedFor, this.wakeAt + TIMER_SLACK_MS) - busy);
    this.step(now);
  };

  /**
   * Runs every entry that is due, then waits for the next one: through event-loop turns when it is
   * within `spinMs` (see {@link spin}), else on a timer.
   */
  private step(now: number): void {
    this.stallMs = this.stall;
    for (let first = this.heap[0]; first !== undefined && !this.stopped; first = this.heap[0]) {
      if (first.time > now) break;
      this.pop();
      if (first.cancelled) continue;
      const late = now - first.time;
      if (late > this.maxLateMs) this.maxLateMs = late;
      this.rollLate(now);
      if (late > this.late.current) this.late.current = late;
      this.ran++;
      try {
        first.run();
      } catch (err) {
        this.onError(err);
      }
      now = this.clock();
    }
    const next = this.heap[0];
    if (next !== undefined && !this.stopped && next.time - now <= this.spinMs) {
      this.spinning = true;
      this.sliceEnd = now;
      this.cpuAtSliceEnd = cpuMs();
      setImmediate(this.spin);
      return;
    }
    this.spinning = false;
    if (this.stall > 0) {
      this.stalls++;
      if (this.stall > this.maxStallMs) this.maxStallMs = this.stall;
    }
    this.stall = 0;
    this.stallMs = 0;
    this.arm();
  }

  /**
   * One turn of the wait for an entry close at hand: reads the clock in a tight loop for at most
   * {@link SPIN_SLICE_MS}, then yields to the event loop (setImmediate), so UDP, MIDI and HTTP input
   * waits at most a slice while the band's next beat is being waited for (a wait of the whole window at
   * once held live input up to `spinMs`).
   *
   * Stalls: a gap between two clock reads of the tight loop is time the process lost (no code of ours
   * runs there). Between two slices our own I/O handlers run: of a longer gap, only what this process
   * did not spend on the CPU (process.cpuUsage) counts as a stall.
   */
  private readonly spin = (): void => {
    if (this.stopped || !this.spinning) return;
    let now = this.clock();
    const gap = now - this.sliceEnd;
    if (gap > SPIN_GAP_MS) this.stall += Math.max(0, gap - (cpuMs() - this.cpuAtSliceEnd));
    const first = this.heap[0];
    if (first === undefined) {
      this.step(now);
      return;
    }
    const until = Math.min(first.time, now + SPIN_SLICE_MS);
    let prev = now;
    while (now < until) {
      now = this.clock();
      if (now - prev > SPIN_GAP_MS) this.stall += now - prev;
      prev = now;
    }
    if (now >= first.time) {
      this.step(now);
      return;
    }
    this.sliceEnd = now;
    this.cpuAtSliceEnd = cpuMs();
    setImmediate(this.spin);
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
