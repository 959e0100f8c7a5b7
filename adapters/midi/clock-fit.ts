/**
 * The least-squares line behind MIDI clock following (clock-follower.ts): tick index → arrival time.
 * The slope is the tick period; its standard error says how far the tempo can be trusted. Pure math.
 *
 * Why a fit rather than an average of intervals: each interval carries the jitter of two ticks, and an
 * exponential average of them converges as 1/√n at best, while the slope of n points spread evenly
 * converges as 1/n^1.5 (its variance is σ² / Σ(i - ī)² = 12σ² / (n³ - n)). With ±1 ms of jitter that
 * is the difference between ±0.1 BPM in two bars and ±0.1 BPM in twenty.
 */

/** MIDI beat clock: 24 clocks per quarter note (MIDI 1.0, "System Real Time Messages"). */
export const CLOCKS_PER_BEAT = 24;
/** ms per minute / clocks per beat: bpm = BPM_PER_PERIOD / period (ms). */
export const BPM_PER_PERIOD = 60_000 / CLOCKS_PER_BEAT;

/** A fitted line y = y0 + a + b·(x - x0), in coordinates relative to the first point. */
export interface LineFit {
  /** Points fitted. */
  n: number;
  /** The first point, subtracted before summing: absolute times near 1.7e12 ms lose sub-µs digits. */
  x0: number;
  y0: number;
  /** Intercept (relative) and slope. */
  a: number;
  b: number;
  /** Mean of the relative x, and Σ(x - x̄)². */
  xMean: number;
  sxx: number;
  /** Residual standard deviation (n - 2 degrees of freedom); NaN below 3 points. */
  sigma: number;
}

/**
 * Fits y on x by least squares over `xs[from..to)`, `ys[from..to)` (needs at least 2 points with
 * distinct x). Two passes (means, then centred sums) keep it exact enough for a fit that is redone on
 * every tick rather than kept as running sums, which would lose precision over hours.
 */
export function fitLine(xs: ArrayLike<number>, ys: ArrayLike<number>, from: number, to: number): LineFit {
  const n = to - from;
  const x0 = xs[from]!;
  const y0 = ys[from]!;
  let sx = 0;
  let sy = 0;
  for (let i = from; i < to; i++) {
    sx += xs[i]! - x0;
    sy += ys[i]! - y0;
  }
  const xMean = sx / n;
  const yMean = sy / n;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (let i = from; i < to; i++) {
    const dx = xs[i]! - x0 - xMean;
    const dy = ys[i]! - y0 - yMean;
    sxx += dx * dx;
    sxy += dx * dy;
    syy += dy * dy;
  }
  const b = sxy / sxx;
  const a = yMean - b * xMean;
  // Σ residual² = Syy - b·Sxy; rounding can take a perfect line a hair below zero.
  const ssr = Math.max(0, syy - b * sxy);
  const sigma = n > 2 ? Math.sqrt(ssr / (n - 2)) : Number.NaN;
  return { n, x0, y0, a, b, xMean, sxx, sigma };
}

/** The line's y at `x`. */
export function predict(fit: LineFit, x: number): number {
  return fit.y0 + fit.a + fit.b * (x - fit.x0);
}

/**
 * Standard deviation of a new point's residual at `x` (the prediction interval: the point's own noise
 * plus the line's uncertainty there). NaN below 3 points.
 */
export function predictionSigma(fit: LineFit, x: number): number {
  const d = x - fit.x0 - fit.xMean;
  return fit.sigma * Math.sqrt(1 + 1 / fit.n + (d * d) / fit.sxx);
}

/** Tempo of a fit of clock index → time: the BPM and its standard error (Infinity below 3 points). */
export function fitBpm(fit: LineFit): { bpm: number; stderrBpm: number } {
  const bpm = BPM_PER_PERIOD / fit.b;
  // d(bpm)/d(period) = -BPM_PER_PERIOD / period²; the slope's standard error is σ / √Sxx.
  const stderrPeriod = fit.n > 2 ? fit.sigma / Math.sqrt(fit.sxx) : Number.POSITIVE_INFINITY;
  return { bpm, stderrBpm: (BPM_PER_PERIOD / (fit.b * fit.b)) * stderrPeriod };
}

/**
 * The tempo of consecutive MIDI clocks (24 ppqn) arriving at `times` (ms): a least-squares fit of
 * index vs time. Needs at least 2 times (`bpm` is NaN otherwise); `stderrBpm` is Infinity below 3.
 */
export function fitTempo(times: readonly number[]): { bpm: number; stderrBpm: number } {
  if (times.length < 2) return { bpm: Number.NaN, stderrBpm: Number.POSITIVE_INFINITY };
  const xs = times.map((_, i) => i);
  return fitBpm(fitLine(xs, times, 0, times.length));
}
