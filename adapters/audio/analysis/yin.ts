/**
 * YIN, the fundamental-frequency estimator of de Cheveigné & Kawahara, "YIN, a fundamental frequency
 * estimator for speech and music", JASA 111(4), 2002: the difference function (§II.B, eq. 6), its
 * cumulative mean normalization (§II.C, eq. 8), the absolute threshold (§II.D) and parabolic
 * interpolation (§II.E). Step 6 (best local estimate) is left out: the tracker (pitch-tracker.ts)
 * already asks for agreement between frames.
 *
 * Two choices of ours:
 * - The difference function is computed through the FFT, d(τ) = e(0) + e(τ) − 2·r(τ) with r the
 *   cross-correlation of the window with the frame: O(N log N) instead of the paper's O(N·τmax), which
 *   is what makes 50× real time possible (1024 lags × 1024 samples per hop would not be).
 * - The integration window is the newest W samples of the frame, compared with the older ones
 *   (the paper's window looks forward): a note that has just started fills the window first, so its
 *   pitch is found after a few periods rather than after the frame's whole first half.
 */
import { RealFft } from './fft.js';
import type { SampleRing } from './sample-ring.js';

/** d′ at a sub-multiple of the chosen lag below which the sub-multiple is taken (see `subMultiple`). */
const SUB_DIP = 0.5;
/** The largest k tried: notes a major third apart (4:5) repeat every 5 periods of the higher one. */
const MAX_SUB = 6;

/** One frame's estimate. */
export interface YinEstimate {
  /** Fundamental frequency, Hz. */
  hz: number;
  /** 1 − d′(τ) at the chosen lag, in [0, 1]: 1 for a perfectly periodic frame, ~0 for white noise. */
  confidence: number;
  /** RMS of the integration window (linear, full scale 1). */
  rms: number;
}

/** Settings of a {@link Yin}. */
export interface YinOptions {
  sampleRate: number;
  /** Lowest fundamental searched, Hz; sets the frame length (2 × its period, to a power of two). */
  minHz: number;
  /** Highest fundamental searched, Hz. */
  maxHz: number;
  /** The paper's absolute threshold on d′ (§II.D): the first dip below it is taken. 0.1 there. */
  threshold: number;
}

/** The frame length, in samples, YIN needs for `minHz` at `sampleRate`. */
export function yinFrameLength(sampleRate: number, minHz: number): number {
  let n = 8;
  while (n < (2 * sampleRate) / minHz) n <<= 1;
  return n;
}

/** A YIN estimator for frames of {@link yinFrameLength} samples; reuses its buffers (no allocation). */
export class Yin {
  /** Samples per frame: the window W = N/2 plus the longest lag. */
  readonly frameLength: number;
  private readonly window: number;
  private readonly minLag: number;
  private readonly maxLag: number;
  private readonly fft: RealFft;
  /** The frame, newest sample first. */
  private readonly y: Float64Array;
  /** The window alone, zero-padded to the frame length. */
  private readonly windowOnly: Float64Array;
  /** Prefix sums of y²: energy of any span in O(1). */
  private readonly energy: Float64Array;
  private readonly re: Float64Array;
  private readonly im: Float64Array;
  private readonly wre: Float64Array;
  private readonly wim: Float64Array;
  private readonly r: Float64Array;
  /** d′(τ) for τ ≤ maxLag + 1. */
  private readonly cmnd: Float64Array;
  /** d(τ) itself, for the interpolation. */
  private readonly diff: Float64Array;

  constructor(private readonly options: YinOptions) {
    const { sampleRate, minHz, maxHz } = options;
    if (!(minHz > 0 && maxHz > minHz && maxHz < sampleRate / 4))
      throw new RangeError(`pitch range ${minHz}..${maxHz} Hz does not fit ${sampleRate} Hz`);
    this.frameLength = yinFrameLength(sampleRate, minHz);
    this.window = this.frameLength / 2;
    this.minLag = Math.max(2, Math.floor(sampleRate / maxHz));
    this.maxLag = Math.min(this.frameLength - this.window - 2, Math.ceil(sampleRate / minHz));
    this.fft = new RealFft(this.frameLength);
    const bins = this.frameLength / 2 + 1;
    this.y = new Float64Array(this.frameLength);
    this.windowOnly = new Float64Array(this.frameLength);
    this.energy = new Float64Array(this.frameLength + 1);
    this.re = new Float64Array(bins);
    this.im = new Float64Array(bins);
    this.wre = new Float64Array(bins);
    this.wim = new Float64Array(bins);
    this.r = new Float64Array(this.frameLength);
    this.cmnd = new Float64Array(this.maxLag + 2);
    this.diff = new Float64Array(this.maxLag + 2);
  }

  /**
   * Estimates the fundamental of the ring's newest {@link frameLength} samples. Undefined when the
   * window is silent (`rms` below `minRms`).
   */
  estimate(ring: SampleRing, minRms: number): YinEstimate | undefined {
    const { y, energy, window: w, frameLength: n } = this;
    ring.copy(y, ring.total - n, n, true);
    energy[0] = 0;
    for (let i = 0; i < n; i++) energy[i + 1] = energy[i]! + y[i]! * y[i]!;
    const rms = Math.sqrt(energy[w]! / w);
    if (!(rms >= minRms)) return undefined;
    this.differences();
    return this.pick(rms);
  }

  /** d′(τ) into `cmnd`, through r(τ) = Σ_{i<W} y_i·y_{i+τ} = IDFT(conj(DFT(window))·DFT(frame)). */
  private differences(): void {
    const { y, windowOnly, energy, re, im, wre, wim, r, cmnd, window: w } = this;
    this.fft.forward(y, re, im);
    windowOnly.set(y.subarray(0, w));
    this.fft.forward(windowOnly, wre, wim);
    for (let k = 0; k < re.length; k++) {
      const ar = wre[k]!;
      const ai = -wim[k]!;
      const br = re[k]!;
      const bi = im[k]!;
      re[k] = ar * br - ai * bi;
      im[k] = ar * bi + ai * br;
    }
    this.fft.inverse(re, im, r);
    const e0 = energy[w]!;
    cmnd[0] = 1;
    let sum = 0;
    for (let tau = 1; tau < cmnd.length; tau++) {
      const d = Math.max(0, e0 + (energy[tau + w]! - energy[tau]!) - 2 * r[tau]!);
      sum += d;
      cmnd[tau] = sum > 0 ? (d * tau) / sum : 1;
      this.diff[tau] = d;
    }
  }

  /**
   * The deepest of the lags 1/k of the chosen one (k = 2 to {@link MAX_SUB}) with a clear dip of its
   * own (d′ < {@link SUB_DIP}).
   * Two cases pick a multiple of the period: noise (a plucked note's tail at 20 dB SNR), as the
   * cumulative mean favours long lags, so 2T or 3T dips under the threshold while T's stays just above;
   * and two notes at once (a plucked note still ringing under the next one), whose mixture repeats
   * only at their common period: G3 then C4, a fourth apart, repeat every 4 periods of C4 (C2, two
   * octaves down). The shorter lag is then the louder note, with the confidence it earns (low while the
   * other one rings: no event rather than a phantom bass note). Not always: two notes equally loud
   * have no dip under 0.5 and their common period stands (the analysis is monophonic). A single
   * periodic sound's d′ at T/k is far higher (~1 for a sawtooth or a plucked string).
   */
  private subMultiple(tau: number): number {
    const { cmnd, minLag } = this;
    let best = tau;
    let bestDip = SUB_DIP;
    for (let k = 2; k <= MAX_SUB; k++) {
      const lo = Math.max(minLag, Math.floor((tau / k) * 0.97));
      const hi = Math.ceil((tau / k) * 1.03);
      if (hi <= lo) break;
      let m = lo;
      for (let t = lo + 1; t <= hi; t++) if (cmnd[t]! < cmnd[m]!) m = t;
      if (cmnd[m]! < bestDip) {
        bestDip = cmnd[m]!;
        best = m;
      }
    }
    return best;
  }

  /** The absolute-threshold choice of lag (§II.D), refined by a parabola through d (§II.E). */
  private pick(rms: number): YinEstimate {
    const { cmnd, minLag, maxLag } = this;
    let tau = -1;
    for (let t = minLag; t <= maxLag; t++) {
      if (cmnd[t]! < this.options.threshold) {
        // The deepest point of the whole dip, not its first local minimum: noise makes a broad dip
        // (a low note's) jagged, and the first minimum can sit several samples off (40 cents at 55 Hz
        // in 20 dB SNR, measured).
        tau = t;
        for (; t <= maxLag && cmnd[t]! < this.options.threshold; t++) if (cmnd[t]! < cmnd[tau]!) tau = t;
        break;
      }
    }
    if (tau < 0) {
      // No dip under the threshold: the global minimum, with the (low) confidence it earns.
      tau = minLag;
      for (let t = minLag + 1; t <= maxLag; t++) if (cmnd[t]! < cmnd[tau]!) tau = t;
    }
    tau = this.subMultiple(tau);
    // The paper interpolates d, not d′ (§II.E): d′'s running mean skews its dips at short lags.
    const a = this.diff[tau - 1]!;
    const b = this.diff[tau]!;
    const c = this.diff[tau + 1]!;
    const den = a - 2 * b + c;
    const shift = den > 0 ? Math.max(-0.5, Math.min(0.5, (0.5 * (a - c)) / den)) : 0;
    return {
      hz: this.options.sampleRate / (tau + shift),
      confidence: Math.max(0, Math.min(1, 1 - cmnd[tau]!)),
      rms,
    };
  }
}
