/**
 * The newest samples of the stream, addressed by their absolute index (0 = the first sample fed), so
 * the detectors read frames and look back within them without copying the stream.
 */
export class SampleRing {
  /** Samples written since the start: the index of the next one. */
  total = 0;
  private readonly buffer: Float32Array;
  private readonly mask: number;

  /** Keeps at least `minCapacity` samples (rounded up to a power of two). */
  constructor(minCapacity: number) {
    let capacity = 8;
    while (capacity < minCapacity) capacity <<= 1;
    this.buffer = new Float32Array(capacity);
    this.mask = capacity - 1;
  }

  /** How many samples back can be read. */
  get capacity(): number {
    return this.buffer.length;
  }

  /**
   * Appends `block[from, to)`. A sample that is not a finite number (a driver's NaN or ±Infinity) is
   * stored as 0: one would otherwise poison every spectrum and sum that contains it.
   */
  write(block: ArrayLike<number>, from: number, to: number): void {
    const { buffer, mask } = this;
    let t = this.total;
    for (let i = from; i < to; i++) {
      const v = block[i]!;
      buffer[t++ & mask] = Number.isFinite(v) ? v : 0;
    }
    this.total = t;
  }

  /**
   * Sample `index` of the stream; 0 before the stream's start (a frame reaching back before the
   * first sample reads silence). The caller keeps `index` within the last {@link capacity} samples.
   */
  at(index: number): number {
    return index < 0 ? 0 : this.buffer[index & this.mask]!;
  }

  /**
   * Copies samples [from, from + n) into `out` (newest last), or newest first when `reversed`;
   * silence before the stream's start, as {@link at}.
   */
  copy(out: Float64Array, from: number, n: number, reversed = false): void {
    const { buffer, mask } = this;
    for (let i = 0; i < n; i++) {
      const s = from + i;
      out[reversed ? n - 1 - i : i] = s < 0 ? 0 : buffer[s & mask]!;
    }
  }

  /** Forgets every sample (a new stream). */
  clear(): void {
    this.total = 0;
    this.buffer.fill(0);
  }
}
