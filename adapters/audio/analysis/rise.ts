/**
 * Where a sound starts, found in the samples: the detectors' frames (21-43 ms) say only that a sound
 * started somewhere within them, and issue #9 wants `at` to be when it started.
 *
 * The search: short sub-blocks (~1.3 ms at 48 kHz); the one whose energy jumps most over the mean of
 * the ~21 ms before it (at least {@link JUMP}×, 6 dB, and {@link OVER_MAX}× their loudest); then its
 * first sample that stands 3× (in amplitude) above that mean. The reference spans a period of the
 * lowest pitch (50 Hz), so a steady low tone's energy swinging within its period (a 55 Hz sawtooth's
 * ramp) is no jump.
 */
import type { SampleRing } from './sample-ring.js';

/** The least energy ratio over the preceding mean that marks a start. */
const JUMP = 4;
/**
 * And over the loudest preceding sub-block: brown or pink noise wanders slowly through zero, so a
 * sub-block after a quiet stretch can be 4× the mean of the 21 ms before it, but not 2× their maximum.
 */
const OVER_MAX = 2;

/** Sum of squares of the ring's samples [from, to). */
export function energy(ring: SampleRing, from: number, to: number): number {
  let e = 0;
  for (let s = from; s < to; s++) e += ring.at(s) ** 2;
  return e;
}

/** Settings of a {@link RiseFinder}. */
export interface RiseOptions {
  sampleRate: number;
  /** Level below which nothing counts as sound (linear RMS). */
  minLevel: number;
}

/** Finds the start of a sound in the ring's samples. */
export class RiseFinder {
  private readonly sub: number;
  private readonly context: number;
  private readonly floor: number;
  private energies = new Float64Array(0);

  constructor(options: RiseOptions) {
    let sub = 8;
    while (sub * 2 <= options.sampleRate * 0.0014) sub <<= 1;
    this.sub = sub; // 64 samples at 44.1 and 48 kHz
    this.context = Math.ceil((options.sampleRate * 0.02) / sub);
    // 1 % of the quietest sound's energy: keeps a ratio over digital silence finite.
    this.floor = options.minLevel ** 2 * sub * 0.01;
  }

  /** Samples before `from` the search reads: keep them in the ring. */
  get lookBack(): number {
    return this.context * this.sub;
  }

  /** The sample index where a sound starts within [from, to), or undefined when nothing jumps. */
  find(ring: SampleRing, from: number, to: number): number | undefined {
    const { sub, context } = this;
    const count = Math.floor((to - from) / sub);
    if (count <= 0) return undefined;
    if (this.energies.length < context + count) this.energies = new Float64Array(context + count);
    const e = this.energies;
    for (let i = 0; i < context + count; i++) {
      const start = from + (i - context) * sub;
      e[i] = energy(ring, start, start + sub);
    }
    let best = -1;
    let bestRatio = JUMP;
    let prev = 0;
    for (let j = 0; j < context; j++) prev += e[j]!;
    for (let i = context; i < context + count; i++) {
      const ratio = e[i]! / (prev / context + this.floor);
      if (ratio > bestRatio && e[i]! > OVER_MAX * this.maxBefore(i)) {
        bestRatio = ratio;
        best = i;
      }
      prev += e[i]! - e[i - context]!;
    }
    if (best < 0) return undefined;
    prev = 0;
    for (let j = best - context; j < best; j++) prev += e[j]!;
    const start = from + (best - context) * sub;
    const stand = 9 * (prev / context / sub) + this.floor / sub; // 3× the preceding RMS, squared
    for (let s = start; s < start + sub; s++) if (ring.at(s) ** 2 > stand) return s;
    return start;
  }

  /** The loudest of the `context` sub-blocks before sub-block `i`. */
  private maxBefore(i: number): number {
    let m = 0;
    for (let j = i - this.context; j < i; j++) m = Math.max(m, this.energies[j]!);
    return m;
  }
}
