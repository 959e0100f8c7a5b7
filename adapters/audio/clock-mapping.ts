/**
 * The one mapping from the bus clock (ms, `systemClock`) to the audio clock (s, the context's
 * `currentTime`) through which every `at` is scheduled (DESIGN.md, "Time"; issue #8).
 *
 * The two clocks are different oscillators: a sound card's sample clock drifts from the CPU's by tens of
 * ppm, so a fixed offset would slide by milliseconds within minutes. The adapter reads pairs (bus time,
 * audio time) periodically; this class fits them and keeps a mapping that follows the fit smoothly:
 *
 * - Estimate: a line. Its slope (the drift) over the pairs of the last `windowMs`, once they span
 *   `minSpanMs` (before that the drift is taken as 0: a short span gives a noisy slope): least squares
 *   through the upper envelope (see {@link envelopeSlope}).
 *   Its offset from the last 20 pairs: their upper envelope. `currentTime` is the end of what has been
 *   rendered: it advances a render quantum at a time (128 frames, 2.67 ms at 48 kHz) or a device
 *   buffer at a time, on a schedule it catches up with when its thread is late, so a reading is never
 *   ahead of the schedule, only behind it. The mapping is that schedule: at bus time `b`, the audio
 *   clock has rendered up to `toAudio(b)`; a reading sits up to one step (plus any lateness) under it.
 * - Correction: the mapping in use never jumps for an ordinary error. At each new estimate it is
 *   re-anchored at the present (continuous and monotonic), its rate set to remove the error within
 *   `slewMs`.
 * - Steps: a pair farther from the mapping than `stepMs` (or 4 × the fit's RMS residual, for devices
 *   with big buffers) is held. Ahead of the mapping, a second one in a row confirms a step; behind it
 *   (where a late render thread also puts readings, for a while) three in a row at the same distance do
 *   (an xrun: the clock lost time for good). The old pairs are dropped and the mapping jumps to the new
 *   clock, counted as a reset.
 * - Pairs read across a slow path (a process hop, a stalled event loop) carry the uncertainty of their
 *   round trip: a pair whose round trip is over 3 × the recent median (and over 2 ms) is skipped.
 */

/**
 * One reading of both clocks. The audio clock was read somewhere between two reads of the bus clock;
 * `busTime` is the second: the audio time then is at most the reading, so a pair is never ahead of the
 * clock's schedule (what the upper envelope below relies on), only behind it, by up to the round trip.
 */
export interface ClockSample {
  /** Bus clock, ms, right after the audio clock was read. */
  busTime: number;
  /** Audio clock, s. */
  audioTime: number;
  /** How long the reading took, ms (bus clock before and after). */
  rttMs: number;
}

/** Options of a {@link ClockMapping}; all ms. */
export interface ClockMappingOptions {
  /** Pairs older than this are dropped from the fit. Default 60,000. */
  windowMs?: number;
  /** The drift is estimated once the pairs span this long. Default 20,000. */
  minSpanMs?: number;
  /** An error is removed within this time. Default 1,000. */
  slewMs?: number;
  /** A pair this far from the mapping (twice in a row) is a step of the audio clock, taken at once. Default 10. */
  stepMs?: number;
}

/** What /health shows of the mapping. */
export interface ClockMappingState {
  ready: boolean;
  /** Bus time (ms) at which the audio clock read 0, by the mapping in use. */
  audioZeroAtMs: number | null;
  /** Audio clock rate against the bus clock, parts per million (positive: the audio clock runs fast). */
  driftPpm: number;
  /** The error removed at the last correction, ms (estimate − mapping, at that time). */
  lastCorrectionMs: number;
  /** Bus time of the last correction, ms. */
  lastCorrectionAt: number | null;
  corrections: number;
  resets: number;
  /** Pairs used, and pairs skipped for a slow round trip. */
  samples: number;
  skipped: number;
  /** RMS distance of the pairs from the fitted line, ms. */
  residualMs: number;
  /** Round trip of the last pair, ms. */
  rttMs: number;
}

interface Line {
  /** Anchor: bus ms and audio s. */
  b0: number;
  a0: number;
  /** Audio seconds per bus millisecond (nominally 0.001). */
  rate: number;
}

const NOMINAL = 0.001;
/** Pairs the offset is averaged over (the slope uses the whole window). */
const OFFSET_PAIRS = 20;
/** A fitted drift beyond this is not a clock, it is a fault (a suspended context, a stall): ignored. */
const MAX_DRIFT = 1000e-6;

export class ClockMapping {
  private readonly windowMs: number;
  private readonly minSpanMs: number;
  private readonly slewMs: number;
  private readonly stepMs: number;
  private pairs: ClockSample[] = [];
  /** Pairs far from the mapping, waiting for a second one to confirm a step. */
  private pending: ClockSample[] = [];
  private line: Line | undefined;
  private readonly recentRtt: number[] = [];
  private state = {
    lastCorrectionMs: 0,
    lastCorrectionAt: null as number | null,
    corrections: 0,
    resets: 0,
    samples: 0,
    skipped: 0,
    residualMs: 0,
    rttMs: 0,
    fitRate: NOMINAL,
  };

  constructor(options: ClockMappingOptions = {}) {
    this.windowMs = options.windowMs ?? 60_000;
    this.minSpanMs = options.minSpanMs ?? 20_000;
    this.slewMs = options.slewMs ?? 1_000;
    this.stepMs = options.stepMs ?? 10;
  }

  /** True once a pair has been taken. */
  get ready(): boolean {
    return this.line !== undefined;
  }

  /** Audio time (s) of a bus time (ms). */
  toAudio(busTime: number): number {
    const l = this.line;
    if (l === undefined) throw new Error('clock mapping used before its first sample');
    return l.a0 + (busTime - l.b0) * l.rate;
  }

  /** Bus time (ms) of an audio time (s). */
  toBus(audioTime: number): number {
    const l = this.line;
    if (l === undefined) throw new Error('clock mapping used before its first sample');
    return l.b0 + (audioTime - l.a0) / l.rate;
  }

  /** Takes a pair; returns false when it was not used (a slow round trip, or a step not yet confirmed). */
  add(s: ClockSample): boolean {
    this.state.rttMs = s.rttMs;
    if (!this.acceptRtt(s.rttMs)) {
      this.state.skipped++;
      return false;
    }
    if (this.line !== undefined && Math.abs(this.offMs(s)) > this.threshold()) {
      this.pending.push(s);
      if (!this.stepConfirmed()) {
        this.state.skipped++;
        return false;
      }
      this.step(s.busTime);
      return true;
    }
    this.pending = [];
    this.state.samples++;
    this.pairs.push(s);
    const oldest = s.busTime - this.windowMs;
    let drop = 0;
    while (drop < this.pairs.length - 2 && this.pairs[drop]!.busTime < oldest) drop++;
    if (drop > 0) this.pairs.splice(0, drop);
    this.correct(this.fit(), s.busTime);
    return true;
  }

  /**
   * Puts the mapping on the estimate at once, without slewing: for the readings taken before anything
   * is scheduled through it (a new audio clock's first ~50 ms).
   */
  settle(): void {
    if (this.pairs.length > 0) this.line = this.fit(this.state.fitRate);
  }

  snapshot(): ClockMappingState {
    const l = this.line;
    const { fitRate, ...rest } = this.state;
    return {
      ready: l !== undefined,
      // Through the fitted rate: the mapping's own rate carries a passing slew, which 60 s back would show.
      audioZeroAtMs: l === undefined ? null : l.b0 - l.a0 / fitRate,
      driftPpm: (fitRate / NOMINAL - 1) * 1e6,
      ...rest,
    };
  }

  /**
   * How far (ms) a pair may sit from the mapping and still be of the same clock: `stepMs`, or more when
   * the audio clock advances in big steps (a device buffer of 1024 frames is 21 ms): 4 × the fit's RMS
   * residual, which for a staircase of step Q is 0.29·Q (reads fall within ±Q/2).
   */
  private threshold(): number {
    return Math.max(this.stepMs, 4 * this.state.residualMs);
  }

  /** A round trip over 3 × the recent median (and over 2 ms) is a reading held up on the way: skipped. */
  private acceptRtt(rtt: number): boolean {
    const recent = this.recentRtt;
    recent.push(rtt);
    if (recent.length > 16) recent.shift();
    const sorted = [...recent].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)]!;
    return rtt <= Math.max(2, 3 * median);
  }

  /** How far (ms) a pair is from the mapping: positive ahead of it, negative behind. */
  private offMs(s: ClockSample): number {
    return (s.audioTime - this.toAudio(s.busTime)) * 1000;
  }

  /**
   * Whether the pairs held far from the mapping show a step of the audio clock. Ahead of the mapping,
   * two in a row do: a reading is never early. Behind it, a late render thread looks the same for a
   * while, then catches up; a step (an xrun: the device played silence while the clock waited) stays:
   * three in a row, at the same distance (within half the threshold), do.
   */
  private stepConfirmed(): boolean {
    const off = this.pending.map((p) => this.offMs(p));
    if (off.every((o) => o > 0)) return off.length >= 2;
    if (!off.every((o) => o < 0)) {
      // Both sides: noise, not a step. Keep the last one as the start of a possible step.
      this.pending = this.pending.slice(-1);
      return false;
    }
    if (off.length < 3) return false;
    const recent = off.slice(-3);
    if (Math.max(...recent) - Math.min(...recent) <= this.threshold() / 2) {
      this.pending = this.pending.slice(-3);
      return true;
    }
    this.pending = this.pending.slice(-2);
    return false;
  }

  /** A confirmed step: the pairs before it belong to another clock; start over from the new ones. */
  private step(now: number): void {
    const before = this.toAudio(now);
    this.pairs = this.pending;
    this.pending = [];
    this.state.samples += this.pairs.length;
    const estimate = this.fit(this.state.fitRate);
    this.state.resets++;
    this.state.corrections++;
    this.state.lastCorrectionMs = (estimate.a0 + (now - estimate.b0) * estimate.rate - before) * 1000;
    this.state.lastCorrectionAt = now;
    this.line = estimate;
  }

  /**
   * The fitted line: the slope by least squares over the whole window (fixed at `rate` until the pairs
   * span `minSpanMs`), the offset from the most recent pairs only, so a change of offset is followed
   * within {@link OFFSET_PAIRS} readings while the slope stays steady.
   */
  private fit(rate = NOMINAL): Line {
    const p = this.pairs;
    // Centred on the first pair: bus times are ~1.7e12 ms, whose squares would lose every digit.
    const bRef = p[0]!.busTime;
    const aRef = p[0]!.audioTime;
    if (p[p.length - 1]!.busTime - bRef >= this.minSpanMs) {
      const slope = envelopeSlope(p, rate);
      if (Math.abs(slope / NOMINAL - 1) <= MAX_DRIFT) rate = slope;
    }
    // The offset: the upper envelope of the recent pairs. A reading is never ahead of the audio clock's
    // schedule, only behind it (by up to a step, or more while the render thread is late): the highest
    // readings are the ones that tell the schedule, a mean would follow every hiccup of the thread.
    const recent = p.slice(-OFFSET_PAIRS);
    const residuals = recent.map((x) => x.audioTime - aRef - (x.busTime - bRef) * rate);
    const offset = Math.max(...residuals);
    let sq = 0;
    for (const r of residuals) sq += (offset - r) ** 2;
    this.state.residualMs = Math.sqrt(sq / recent.length) * 1000;
    this.state.fitRate = rate;
    return { b0: bRef, a0: aRef + offset, rate };
  }

  /** Moves the mapping in use toward `estimate`, at bus time `now`. */
  private correct(estimate: Line, now: number): void {
    const at = (l: Line, b: number) => l.a0 + (b - l.b0) * l.rate;
    const current = this.line;
    if (current === undefined) {
      this.line = estimate;
      return;
    }
    const errorS = at(estimate, now) - at(current, now);
    this.state.lastCorrectionMs = errorS * 1000;
    this.state.lastCorrectionAt = now;
    this.state.corrections++;
    // Continuous at `now`; the error is gone `slewMs` later, when the next pairs have re-aimed it.
    this.line = { b0: now, a0: at(current, now), rate: estimate.rate + errorS / this.slewMs };
  }
}

/** Time slices of the window whose highest pair each feeds the slope. */
const SLOPE_BUCKETS = 8;

/**
 * The slope of the pairs' upper envelope: the window cut in {@link SLOPE_BUCKETS} slices of time, the
 * highest pair of each (against `rate`), and a least-squares line through those. Readings are late by
 * up to a step, and more when the render thread is late: one-sided errors that would bend a plain
 * least-squares slope by hundreds of ppm over a few seconds, and that the highest pairs are free of.
 */
function envelopeSlope(p: readonly ClockSample[], rate: number): number {
  const bRef = p[0]!.busTime;
  const aRef = p[0]!.audioTime;
  const span = p[p.length - 1]!.busTime - bRef;
  const top: (ClockSample | undefined)[] = new Array(SLOPE_BUCKETS);
  const height = (x: ClockSample) => x.audioTime - aRef - (x.busTime - bRef) * rate;
  for (const x of p) {
    const i = Math.min(SLOPE_BUCKETS - 1, Math.floor(((x.busTime - bRef) / span) * SLOPE_BUCKETS));
    const best = top[i];
    if (best === undefined || height(x) > height(best)) top[i] = x;
  }
  const points = top.filter((x): x is ClockSample => x !== undefined);
  let sb = 0;
  let sa = 0;
  for (const x of points) {
    sb += x.busTime - bRef;
    sa += x.audioTime - aRef;
  }
  const mb = sb / points.length;
  const ma = sa / points.length;
  let sbb = 0;
  let sba = 0;
  for (const x of points) {
    const db = x.busTime - bRef - mb;
    sbb += db * db;
    sba += db * (x.audioTime - aRef - ma);
  }
  return sbb > 0 ? sba / sbb : rate;
}
