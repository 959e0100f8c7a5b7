/**
 * Follows an external MIDI beat clock (24 clocks per quarter note, MIDI 1.0 "System Real Time
 * Messages"): the tempo, whether it can be trusted (the lock), and the song position. Pure: the
 * transport hands over each clock with its arrival time on the bus clock; no timers.
 *
 * Tempo: a least-squares fit of clock index vs arrival time over a sliding window (clock-fit.ts); with
 * ±1 ms of jitter it reaches ±0.1 BPM within two bars at any tempo from 40 to 300 BPM, where an average
 * of intervals would need several times as long. Each clock gets an index from its interval to the
 * previous one (≈0 periods: a duplicate, dropped; ≈2: one clock went missing, counted) and is checked
 * against the line: a clock off the line by more than four predicted standard deviations is kept out
 * of the fit. Three such anomalies among the last six clocks mean the tempo changed: the window restarts
 * from the last three clocks (so a change is followed within a beat or two). A single missing or doubled
 * clock is one anomaly and moves nothing.
 *
 * The lock: the fit holds at least `minLockTicks` clocks (default 24, a beat) and the standard error of
 * its BPM is below `lockStderrBpm` (default 0.035, so ±0.1 BPM is three standard errors). It is lost when
 * the standard error exceeds twice that, when a tempo change is detected, and when no clock came for
 * `timeoutPeriods` periods (default 3.5: two missing clocks in a row are a gap, three a stop). Nothing
 * here runs by itself: the stop is noticed on the next call, or by {@link ClockFollower.check}, which a
 * transport calls at {@link ClockFollower.deadline} (e.g. with `timeline.at(deadline, ...)`).
 */
import { MidiConfigError, MidiDecodeError } from '../../daemon/kernel/errors.js';
import {
  BPM_PER_PERIOD,
  CLOCKS_PER_BEAT,
  fitBpm,
  fitLine,
  type LineFit,
  predict,
  predictionSigma,
} from './clock-fit.js';

/** What a {@link ClockFollower} reports. `time` is the bus time of the call that caused it, ms. */
export type ClockFollowerEvent =
  /**
   * The followed tempo: at the first lock, then whenever it moved by more than `tempoStep` from the
   * last report and is known to a quarter of that step (locked or not: after a change it comes before
   * the lock does).
   */
  | { kind: 'tempo'; bpm: number; time: number }
  | { kind: 'lock'; time: number }
  | { kind: 'unlock'; time: number }
  /** Start, Stop or Continue received; `position` in beats (quarter notes) since the song's start. */
  | { kind: 'transport'; state: 'start' | 'stop' | 'continue'; position: number; time: number };

/** Options of a {@link ClockFollower}; the defaults suit live use. */
export interface ClockFollowerOptions {
  /** A tempo move smaller than this (BPM) is not reported. Default 0.5. */
  tempoStep?: number;
  /** Clocks in the sliding window of the fit. Default 384 (four bars of 4/4: ±0.01 BPM at 300 BPM). */
  windowTicks?: number;
  /** Lock when the BPM's standard error is below this. Default 0.035. */
  lockStderrBpm?: number;
  /** Clocks in the fit before a lock. Default 24 (one beat). */
  minLockTicks?: number;
  /** No clock for this many periods drops the lock. Default 3.5. */
  timeoutPeriods?: number;
}

/** Tempo range taken for a clock; a faster "clock" is duplicates, a slower one is not running. */
const MAX_BPM = 400;
const MIN_BPM = 20;
const MIN_PERIOD_MS = BPM_PER_PERIOD / MAX_BPM;
const MAX_PERIOD_MS = BPM_PER_PERIOD / MIN_BPM;
/** A tempo change: this many anomalies among the last `ANOMALY_SPAN` clocks. */
const ANOMALY_COUNT = 3;
const ANOMALY_SPAN = 6;
/** Below this many clocks in the fit its residual spread means little: only gross anomalies count. */
const WARMUP_TICKS = 12;
/** Off the line by more than this many predicted standard deviations: an outlier. */
const OUTLIER_SIGMAS = 4;
/** The outlier threshold stays within [1 ms, 0.4 period]: 0.5 period would be a missing clock. */
const MIN_THRESHOLD_MS = 1;
const MAX_THRESHOLD_PERIODS = 0.4;
/** The lock is dropped when the standard error grows past this multiple of the lock threshold. */
const UNLOCK_FACTOR = 2;
/** MIDI beats (song position pointer units) are sixteenth notes: 6 clocks each. */
const CLOCKS_PER_SIXTEENTH = 6;

/** One received clock, remembered for change detection. */
interface RecentTick {
  time: number;
  anomaly: boolean;
  /** Clocks it added to the song position (0 when stopped or a duplicate, 2 for a gap of one). */
  counted: number;
  /** The transport generation it was counted in. */
  gen: number;
}

/** Follows an external MIDI clock: tempo, lock and song position. See the file's header. */
export class ClockFollower {
  private readonly onEvent: (event: ClockFollowerEvent) => void;
  private readonly tempoStep: number;
  private readonly windowTicks: number;
  private readonly lockStderrBpm: number;
  private readonly minLockTicks: number;
  private readonly timeoutPeriods: number;
  // The window: clock index and arrival time, in [from, to); compacted when `to` reaches the end.
  private readonly xs: Float64Array;
  private readonly ys: Float64Array;
  private from = 0;
  private to = 0;
  private fit: LineFit | undefined;
  /** The last clock that was not a duplicate, and its index. */
  private prevTime: number | undefined;
  private prevIndex = 0;
  /** True before the first clock and after a timeout: the next clock starts a new window. */
  private stale = true;
  private recent: RecentTick[] = [];
  private estimate: number | undefined;
  private stderr = Number.POSITIVE_INFINITY;
  private isLocked = false;
  private reported: number | undefined;
  private isRunning = false;
  /** Clocks since the song's start: the position of the clock that plays next. */
  private pointer = 0;
  /** Bumped by every transport message, so a later re-count touches only clocks counted since. */
  private gen = 0;

  /** `onEvent` receives every report, synchronously, from inside the call that caused it. */
  constructor(onEvent: (event: ClockFollowerEvent) => void = () => {}, options: ClockFollowerOptions = {}) {
    this.onEvent = onEvent;
    this.tempoStep = positive('tempoStep', options.tempoStep, 0.5);
    this.windowTicks = Math.max(3, Math.round(positive('windowTicks', options.windowTicks, 384)));
    this.lockStderrBpm = positive('lockStderrBpm', options.lockStderrBpm, 0.035);
    this.minLockTicks = Math.max(3, Math.round(positive('minLockTicks', options.minLockTicks, 24)));
    this.timeoutPeriods = positive('timeoutPeriods', options.timeoutPeriods, 3.5);
    this.xs = new Float64Array(this.windowTicks * 2);
    this.ys = new Float64Array(this.windowTicks * 2);
  }

  /** The current window's tempo, BPM; undefined before two clocks. Unfiltered: `tempo` events are. */
  get bpm(): number | undefined {
    return this.estimate;
  }

  /** Standard error of {@link bpm} (Infinity below three clocks). */
  get stderrBpm(): number {
    return this.stderr;
  }

  /** True while the estimate is stable (see the file's header for the exact rule). */
  get locked(): boolean {
    return this.isLocked;
  }

  /** True between Start/Continue and Stop. */
  get running(): boolean {
    return this.isRunning;
  }

  /**
   * Beats (quarter notes) since the song's start: song position + clocks counted since Start/Continue.
   * The first clock after Start plays beat 0 (MIDI 1.0: "begins at song position 0 when the next Timing
   * Clock is received"), so right after it the position is 1/24.
   */
  get position(): number {
    return this.pointer / CLOCKS_PER_BEAT;
  }

  /**
   * When the clock counts as stopped if no clock comes (bus time, ms): call {@link check} then.
   * Undefined before the first clock and after a timeout.
   */
  get deadline(): number | undefined {
    return this.stale || this.prevTime === undefined ? undefined : this.prevTime + this.timeoutMs();
  }

  /** A Timing Clock (F8) arrived at `time` (bus clock, ms). */
  tick(time: number): void {
    this.check(time);
    if (this.stale || this.prevTime === undefined) {
      this.restart([time], time);
      this.count(1);
      return;
    }
    const step = this.stepOf(time);
    let anomaly = step !== 1;
    let added = false;
    if (step > 0) {
      const index = this.prevIndex + step;
      if (this.isOutlier(index, time)) anomaly = true;
      else {
        this.push(index, time);
        added = true;
      }
      this.prevTime = time;
      this.prevIndex = index;
    }
    this.remember({ time, anomaly, counted: this.count(step), gen: this.gen });
    if (this.recent.filter((r) => r.anomaly).length >= ANOMALY_COUNT) this.tempoChanged(time);
    else if (added) {
      this.refit();
      this.update(time);
    }
  }

  /** Start (FA): play from the song's start at the next clock. */
  start(time: number): void {
    this.check(time);
    this.pointer = 0;
    this.transport('start', true, time);
  }

  /** Continue (FB): play on from the song position at the next clock. */
  continue(time: number): void {
    this.check(time);
    this.transport('continue', true, time);
  }

  /** Stop (FC): clocks no longer move the position (the tempo is still followed). */
  stop(time: number): void {
    this.check(time);
    this.transport('stop', false, time);
  }

  /**
   * Song Position Pointer (F2): `beats` sixteenth notes since the song's start, 0..16383. Masters send
   * it while stopped (MIDI 1.0); one received while running re-bases the position all the same.
   */
  songPosition(beats: number): void {
    if (!Number.isInteger(beats) || beats < 0 || beats > 0x3fff) {
      throw new MidiDecodeError(`song position ${String(beats)} is not an integer in 0..16383`);
    }
    this.pointer = beats * CLOCKS_PER_SIXTEENTH;
    this.gen++;
  }

  /** Drops the lock when no clock came for `timeoutPeriods` periods before `now`. Returns `locked`. */
  check(now: number): boolean {
    if (this.stale || this.prevTime === undefined) return this.isLocked;
    if (now - this.prevTime > this.timeoutMs()) {
      this.stale = true;
      this.setLocked(false, now);
    }
    return this.isLocked;
  }

  private transport(state: 'start' | 'stop' | 'continue', running: boolean, time: number): void {
    this.isRunning = running;
    this.gen++;
    this.onEvent({ kind: 'transport', state, position: this.position, time });
  }

  private timeoutMs(): number {
    return this.timeoutPeriods * (this.fit?.b ?? MAX_PERIOD_MS);
  }

  /** Clock periods since the previous clock: 0 a duplicate, 1 the next clock, 2+ a gap. */
  private stepOf(time: number): number {
    const dt = time - this.prevTime!;
    if (this.fit === undefined) return dt < MIN_PERIOD_MS ? 0 : 1;
    return Math.max(0, Math.round(dt / this.fit.b));
  }

  private isOutlier(index: number, time: number): boolean {
    const fit = this.fit;
    if (fit === undefined) return false;
    const period = fit.b;
    let threshold = MAX_THRESHOLD_PERIODS * period;
    // Until the fit has a dozen clocks its spread is a poor guide: only gross anomalies count then.
    if (fit.n >= WARMUP_TICKS) {
      threshold = Math.max(MIN_THRESHOLD_MS, OUTLIER_SIGMAS * predictionSigma(fit, index));
      threshold = Math.min(threshold, MAX_THRESHOLD_PERIODS * period);
    }
    return Math.abs(time - predict(fit, index)) > threshold;
  }

  /** Adds `counted` clocks to the position when running; returns what was added. */
  private count(clocks: number): number {
    if (!this.isRunning) return 0;
    this.pointer += clocks;
    return clocks;
  }

  private remember(tick: RecentTick): void {
    this.recent.push(tick);
    if (this.recent.length > ANOMALY_SPAN) this.recent.shift();
  }

  /**
   * The last clocks fall off the line consistently: the tempo changed. The clocks from the first
   * anomaly on are taken as consecutive clocks of the new tempo (a tempo halved looks like a run of
   * gaps, one doubled like duplicates and clocks in turn), dropping the oldest while they do not lie on
   * one line (an earlier, unrelated anomaly), down to the last three; the position is re-counted so.
   */
  private tempoChanged(time: number): void {
    let first = this.recent.findIndex((r) => r.anomaly);
    while (first < this.recent.length - ANOMALY_COUNT && !onOneLine(this.recent.slice(first))) first++;
    const last = this.recent.slice(first);
    for (const r of last) if (r.gen === this.gen && this.isRunning) this.pointer += 1 - r.counted;
    this.setLocked(false, time);
    this.restart(
      last.map((r) => r.time),
      time,
    );
  }

  private restart(times: number[], time: number): void {
    this.from = 0;
    this.to = 0;
    for (let i = 0; i < times.length; i++) this.push(i, times[i]!);
    this.prevTime = times[times.length - 1];
    this.prevIndex = times.length - 1;
    this.stale = false;
    this.recent = [];
    this.refit();
    this.update(time);
  }

  private push(index: number, time: number): void {
    if (this.to === this.xs.length) {
      this.xs.copyWithin(0, this.from, this.to);
      this.ys.copyWithin(0, this.from, this.to);
      this.to -= this.from;
      this.from = 0;
    }
    this.xs[this.to] = index;
    this.ys[this.to] = time;
    this.to++;
    if (this.to - this.from > this.windowTicks) this.from++;
  }

  private refit(): void {
    if (this.to - this.from < 2) {
      this.fit = undefined;
      this.stderr = Number.POSITIVE_INFINITY;
      return;
    }
    this.fit = fitLine(this.xs, this.ys, this.from, this.to);
    const { bpm, stderrBpm } = fitBpm(this.fit);
    this.estimate = bpm;
    this.stderr = stderrBpm;
  }

  /** Lock, unlock and tempo reports after the fit changed. */
  private update(time: number): void {
    const fit = this.fit;
    const bpm = this.estimate;
    if (fit === undefined || bpm === undefined) return;
    let report = false;
    if (!this.isLocked && fit.n >= this.minLockTicks && this.stderr < this.lockStderrBpm) {
      this.setLocked(true, time);
      report = this.reported === undefined; // the first lock's estimate is always reported
    } else if (this.isLocked && this.stderr > UNLOCK_FACTOR * this.lockStderrBpm) {
      this.setLocked(false, time);
    }
    // A move is reported once it is known well enough not to be noise, locked or not (after a change
    // the new tempo is reported before the lock comes back); before the first lock, nothing is.
    const confident = fit.n >= WARMUP_TICKS && this.stderr <= this.tempoStep / 4;
    const moved = this.reported !== undefined && Math.abs(bpm - this.reported) > this.tempoStep;
    if (report || (confident && moved)) {
      this.reported = bpm;
      this.onEvent({ kind: 'tempo', bpm, time });
    }
  }

  private setLocked(locked: boolean, time: number): void {
    if (locked === this.isLocked) return;
    this.isLocked = locked;
    this.onEvent({ kind: locked ? 'lock' : 'unlock', time });
  }
}

/** Consecutive clocks at `ticks`' times lie on one line: no residual beyond a quarter period. */
function onOneLine(ticks: readonly RecentTick[]): boolean {
  const times = ticks.map((r) => r.time);
  const fit = fitLine(
    times.map((_, i) => i),
    times,
    0,
    times.length,
  );
  return times.every((t, i) => Math.abs(t - predict(fit, i)) <= fit.b / 4);
}

/** An option that must be a finite number > 0 (its default when absent). */
function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) {
    throw new MidiConfigError(`clock follower ${name} must be a number > 0, got ${String(value)}`);
  }
  return value;
}
