/**
 * Onsets by spectral flux with an adaptive threshold (Bello et al., "A Tutorial on Onset Detection in
 * Music Signals", IEEE TSAP 13(5), 2005, §III-C and §V; peak picking after Dixon, "Onset Detection
 * Revisited", DAFx 2006, §2.6), causal: one hop of look-ahead.
 *
 * - Detection function: the half-wave rectified rise of log-compressed magnitudes, summed over
 *   semitone-wide bands, against the loudest of the frames 2 to 5 hops back. After SuperFlux (Böck &
 *   Widmer, "Maximum filter vibrato suppression for onset detection", DAFx 2013), whose reference is
 *   a maximum over neighbouring frequencies; ours is a maximum over time. Bands average a noise
 *   floor's bin-to-bin scatter away; the log makes a quiet note count like a loud one; the two-hop lag
 *   gives a rise over ~10 ms rather than one 5 ms hop; the maximum over a period of the lowest pitch
 *   keeps a low sawtooth, whose edge sweeps through a 21 ms frame every period, from looking like a
 *   train of attacks (it did: flux swinging from 0 to a real onset's height every 18 ms at 55 Hz).
 * - Threshold: δ + λ·median of the last ~0.2 s of the function (Bello §V-A), so a steady noise floor
 *   or a held chord raises it; plus a level gate (nothing in silence) and a shortest interval between
 *   two onsets (no double detections). A peak with no energy jump in the samples must also be a clear
 *   change ({@link MIN_NOVELTY} of the frame's spectrum new) and not a sound ending.
 * - Time: the peak frame says only that the sound started within the frame's ~21 ms, so `at` is found
 *   in the samples (rise.ts). A change with no energy jump (a legato note) keeps the spectral
 *   estimate: the centre of the frames the flux compared.
 */
import { RealFft } from './fft.js';
import { energy, RiseFinder } from './rise.js';
import type { SampleRing } from './sample-ring.js';
import type { OnsetEvent, OnsetOptions } from './types.js';

/** Log compression factor γ of log(1 + γ·|X|) on magnitudes normalized to a sine's amplitude. */
const GAMMA = 100;
/** The threshold's constant δ (log units summed over bands): what steady low noise never reaches. */
const DELTA = 1.5;
/** Hops between the two frames the flux compares. */
const LAG = 2;
/**
 * Least share of new sound in an onset (its flux over its frame's summed log bands). Brown and pink
 * noise (a fan, a room) wander enough for a sample-energy jump now and then, but renew under 12 % of
 * their spectrum (measured: 0.07-0.12, once 0.155 in 3 minutes), where a hit or a note over a ringing
 * note or a 20 dB noise floor renews over 20 % (0.21-1 in this project's tests).
 */
const MIN_NOVELTY_JUMP = 0.12;
/** The same with no energy jump in the samples: a legato note renews 23-43 % (see `pick`). */
const MIN_NOVELTY = 0.15;
/**
 * A peak with no energy jump where the energy falls below this share of the frame's first hop is a
 * sound ending, not a start: one note of two cut off, its click the only new thing in the spectrum.
 */
const ENDING = 0.8;

/** Frame length for a sample rate: ~21 ms, a power of two (1024 at 44.1 and 48 kHz). */
export function onsetFrameLength(sampleRate: number): number {
  let n = 8;
  while (n < sampleRate * 0.02) n <<= 1;
  return n;
}

/** Spectral-flux onset detection over a {@link SampleRing}, one call per hop. */
export class OnsetDetector {
  readonly frameLength: number;
  /** A quarter frame: 256 samples (5.3 ms) at 48 kHz. */
  readonly hop: number;
  /** The detection function's value at the latest hop (the tempo tracker's input). */
  flux = 0;
  private readonly fft: RealFft;
  private readonly window: Float64Array;
  private readonly frame: Float64Array;
  private readonly re: Float64Array;
  private readonly im: Float64Array;
  /** Band of each bin (-1: unused), and the band count. */
  private readonly bandOf: Int32Array;
  private readonly bands: number;
  /** Log band magnitudes of the last frames (a ring). */
  private readonly history: Float64Array[];
  private frames = 0;
  /** Flux values of the last ~0.2 s (a ring), for the median, and a scratch copy to sort. */
  private readonly past: Float64Array;
  private readonly sorted: Float64Array;
  /** The function, its threshold and the frame level at hops n-4..n (index 4 is the newest). */
  private readonly odf = new Float64Array(5);
  private readonly thr = new Float64Array(5);
  private readonly level = new Float64Array(5);
  /** The flux relative to the frame's summed log bands: how much of what sounds is new. */
  private readonly novelty = new Float64Array(5);
  private readonly minLevel: number;
  private readonly minInterval: number;
  /** Sample index of the last onset's `at` (or far in the past). */
  private lastOnset = Number.NEGATIVE_INFINITY;
  private readonly rise: RiseFinder;

  constructor(
    private readonly sampleRate: number,
    private readonly options: OnsetOptions,
  ) {
    const n = onsetFrameLength(sampleRate);
    this.frameLength = n;
    this.hop = n / 4;
    this.fft = new RealFft(n);
    this.window = Float64Array.from({ length: n }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / n));
    this.frame = new Float64Array(n);
    this.re = new Float64Array(n / 2 + 1);
    this.im = new Float64Array(n / 2 + 1);
    this.bandOf = new Int32Array(n / 2 + 1).fill(-1);
    let band = -1;
    let lastId = -1;
    for (let k = 1; k < n / 2; k++) {
      const id = Math.max(0, Math.floor(12 * Math.log2((k * sampleRate) / n / 27.5)));
      if (id !== lastId) band++;
      lastId = id;
      this.bandOf[k] = band;
    }
    this.bands = band + 1;
    // Compared with the loudest of the frames LAG hops back and beyond, over one period of the lowest
    // pitch (20 ms, 50 Hz) and a hop: a steady tone's spectrum then never looks new.
    const depth = Math.max(LAG, Math.ceil((0.02 * sampleRate) / this.hop) + 1) + 1;
    this.history = Array.from({ length: depth }, () => new Float64Array(this.bands));
    this.past = new Float64Array(Math.max(8, Math.round((0.2 * sampleRate) / this.hop)));
    this.sorted = new Float64Array(this.past.length);
    this.minLevel = 10 ** (options.minLevelDb / 20);
    this.minInterval = (options.minIntervalMs / 1000) * sampleRate;
    this.rise = new RiseFinder({ sampleRate, minLevel: this.minLevel });
  }

  /** Analyzes the frame that ends with the ring's newest sample; an onset when one is decided now. */
  step(ring: SampleRing): OnsetEvent | undefined {
    const end = ring.total;
    const level = this.spectrum(ring, end);
    const { history, bands } = this;
    const depth = history.length;
    const bandsNow = history[this.frames % depth]!;
    this.logBands(bandsNow);
    // Before the stream's first sample is silence (the ring reads zeros there): history starts at 0.
    let flux = 0;
    let total = 0;
    for (let b = 0; b < bands; b++) {
      total += bandsNow[b]!;
      let before = 0;
      for (let k = LAG; k < depth; k++)
        before = Math.max(before, history[(this.frames - k + depth) % depth]![b]!);
      flux += Math.max(0, bandsNow[b]! - before);
    }
    this.frames++;
    this.flux = flux;
    shift(this.novelty, total > 0 ? flux / total : 0);
    const threshold = DELTA + this.options.sensitivity * this.median();
    this.remember(flux);
    shift(this.odf, flux);
    shift(this.thr, threshold);
    shift(this.level, level);
    return this.pick(ring, end);
  }

  /** Forgets the stream (a new one starts). */
  reset(): void {
    for (const h of this.history) h.fill(0);
    this.frames = 0;
    this.flux = 0;
    this.past.fill(0);
    this.odf.fill(0);
    this.thr.fill(0);
    this.level.fill(0);
    this.novelty.fill(0);
    this.lastOnset = Number.NEGATIVE_INFINITY;
  }

  /**
   * Windowed frame → spectrum in re/im; returns the frame's peak level (a peak, not an RMS: a 2 ms
   * click at -40 dBFS is -60 dBFS RMS over the 21 ms frame, and it is a sound to report).
   */
  private spectrum(ring: SampleRing, end: number): number {
    const { frame, window, frameLength: n } = this;
    ring.copy(frame, end - n, n);
    let peak = 0;
    for (let i = 0; i < n; i++) {
      const v = frame[i]!;
      if (v > peak) peak = v;
      else if (-v > peak) peak = -v;
      frame[i] = v * window[i]!;
    }
    this.fft.forward(frame, this.re, this.im);
    return peak;
  }

  /** log(1 + γ·band magnitude), magnitudes scaled so a full-scale sine's peak bin is ~0.5. */
  private logBands(out: Float64Array): void {
    out.fill(0);
    const { re, im, bandOf } = this;
    const scale = 2 / this.frameLength;
    for (let k = 1; k < bandOf.length; k++) {
      const b = bandOf[k]!;
      // sqrt rather than Math.hypot: the same here (no overflow at these magnitudes), 5× faster in V8.
      if (b >= 0) out[b] = out[b]! + Math.sqrt(re[k]! * re[k]! + im[k]! * im[k]!) * scale;
    }
    for (let b = 0; b < out.length; b++) out[b] = Math.log1p(GAMMA * out[b]!);
  }

  private remember(flux: number): void {
    this.past[this.frames % this.past.length] = flux;
  }

  private median(): number {
    const count = Math.min(this.frames, this.past.length);
    if (count === 0) return 0;
    const full = count === this.past.length;
    const s = full ? this.sorted : this.sorted.subarray(0, count);
    s.set(full ? this.past : this.past.subarray(0, count));
    s.sort();
    return count % 2 === 1 ? s[count >> 1]! : 0.5 * (s[(count >> 1) - 1]! + s[count >> 1]!);
  }

  /** Peak picking at hop n-1 (Dixon 2006): a local maximum over n-4..n, above threshold and gate. */
  private pick(ring: SampleRing, end: number): OnsetEvent | undefined {
    const { odf, thr } = this;
    const f = odf[3]!;
    if (!(f > thr[3]! && f >= odf[4]! && f > odf[2]! && f >= odf[1]! && f >= odf[0]!)) return undefined;
    if (this.level[3]! < this.minLevel) return undefined;
    const peakEnd = end - this.hop;
    const strength = 1 - thr[3]! / f;
    const found = this.locate(ring, peakEnd, end);
    if (this.novelty[3]! < MIN_NOVELTY_JUMP) return undefined;
    // With no energy jump in the samples, only a clear spectral change counts (a legato note): a
    // steady noise floor or a low sawtooth's edges passing through the frame rise just above the
    // threshold now and then; and a sound cut off (energy falling) is an end, not a start.
    if (found.jump === false) {
      if (this.novelty[3]! < MIN_NOVELTY) return undefined;
      const n = this.frameLength;
      if (energy(ring, end - this.hop, end) < ENDING * energy(ring, peakEnd - n, peakEnd - n + this.hop))
        return undefined;
    }
    if (found.at - this.lastOnset < this.minInterval) return undefined;
    this.lastOnset = found.at;
    return {
      kind: 'onset',
      at: found.at / this.sampleRate,
      strength,
      detectedAt: end / this.sampleRate,
    };
  }

  /**
   * Where the sound started (a sample index, fractional when estimated from frames): searched in the
   * peak frame and the hop after it, after the previous onset.
   */
  private locate(ring: SampleRing, peakEnd: number, end: number): { at: number; jump: boolean } {
    const n = this.frameLength;
    // Not before the previous onset's shortest interval: an earlier start would be refused anyway.
    const from = Math.max(
      peakEnd - n,
      this.lastOnset + this.minInterval,
      end - ring.capacity + this.rise.lookBack,
    );
    const at = this.rise.find(ring, Math.ceil(from), end);
    // No energy jump: the centre of the frames the flux compared.
    return at === undefined
      ? { at: peakEnd - n / 2 - (LAG * this.hop) / 2, jump: false }
      : { at, jump: true };
  }
}

/** Drops the oldest value of a short history and appends `value`. */
function shift(a: Float64Array, value: number): void {
  a.copyWithin(0, 1);
  a[a.length - 1] = value;
}
