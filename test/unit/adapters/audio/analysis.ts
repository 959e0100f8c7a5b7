/**
 * Signal analysis for the audio tests, written here so what is measured is plain: an FFT, a pitch
 * estimate, onset detection, peaks and levels. Samples are Float32Arrays at `rate` Hz.
 */

/** In-place iterative radix-2 FFT of (re, im); length a power of two. */
export function fft(re: Float64Array, im: Float64Array): void {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j]!, re[i]!];
      [im[i], im[j]] = [im[j]!, im[i]!];
    }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const ang = (-2 * Math.PI) / len;
    const wr = Math.cos(ang);
    const wi = Math.sin(ang);
    for (let i = 0; i < n; i += len) {
      let cr = 1;
      let ci = 0;
      for (let k = 0; k < len / 2; k++) {
        const a = i + k;
        const b = a + len / 2;
        const tr = re[b]! * cr - im[b]! * ci;
        const ti = re[b]! * ci + im[b]! * cr;
        re[b] = re[a]! - tr;
        im[b] = im[a]! - ti;
        re[a] = re[a]! + tr;
        im[a] = im[a]! + ti;
        const ncr = cr * wr - ci * wi;
        ci = cr * wi + ci * wr;
        cr = ncr;
      }
    }
  }
}

/** Magnitude spectrum of `size` samples from `start` (Hann window); bin k is k·rate/size Hz. */
export function spectrum(x: Float32Array, start: number, size: number): Float64Array {
  const re = new Float64Array(size);
  const im = new Float64Array(size);
  for (let i = 0; i < size; i++) {
    const w = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (size - 1));
    re[i] = (x[start + i] ?? 0) * w;
  }
  fft(re, im);
  const mag = new Float64Array(size / 2);
  for (let k = 0; k < size / 2; k++) mag[k] = Math.hypot(re[k]!, im[k]!);
  return mag;
}

/**
 * The fundamental (Hz) of `size` samples from `start`: the spectrum's strongest peak in [lo, hi] Hz,
 * refined by parabolic interpolation of the log magnitudes, then lowered to a subharmonic when one at
 * 1/2 or 1/3 of it is strong too (a bright tone's harmonics can outweigh its fundamental).
 */
export function fundamental(
  x: Float32Array,
  rate: number,
  start: number,
  size = 32768,
  lo = 30,
  hi = 2000,
): number {
  const mag = spectrum(x, start, size);
  const binHz = rate / size;
  const peakNear = (hz: number, width: number): { k: number; m: number } => {
    let best = { k: 0, m: 0 };
    const from = Math.max(1, Math.floor((hz - width) / binHz));
    const to = Math.min(mag.length - 2, Math.ceil((hz + width) / binHz));
    for (let k = from; k <= to; k++) if (mag[k]! > best.m) best = { k, m: mag[k]! };
    return best;
  };
  let peak = peakNear((lo + hi) / 2, (hi - lo) / 2);
  for (const div of [2, 3]) {
    const sub = peakNear((peak.k * binHz) / div, (peak.k * binHz) / div / 20);
    if (sub.m > peak.m * 0.3 && sub.k * binHz >= lo) peak = sub;
  }
  const { k } = peak;
  const [a, b, c] = [Math.log(mag[k - 1]! + 1e-12), Math.log(mag[k]! + 1e-12), Math.log(mag[k + 1]! + 1e-12)];
  const shift = (0.5 * (a - c)) / (a - 2 * b + c);
  return (k + (Number.isFinite(shift) ? shift : 0)) * binHz;
}

/** Largest |sample| over every channel. */
export function peak(channels: readonly Float32Array[]): number {
  let p = 0;
  for (const ch of channels) for (let i = 0; i < ch.length; i++) p = Math.max(p, Math.abs(ch[i]!));
  return p;
}

/** Largest |sample| of `x` in frames [from, to). */
export function peakIn(x: Float32Array, from: number, to: number): number {
  let p = 0;
  for (let i = Math.max(0, from); i < Math.min(x.length, to); i++) p = Math.max(p, Math.abs(x[i]!));
  return p;
}

/** 20·log10 of a linear level. */
export const dbfs = (level: number): number => 20 * Math.log10(level);

/**
 * Onsets: frames where |x| first exceeds `threshold` after at least `quietMs` with every sample below
 * `threshold / 10` (a new sound after a quiet stretch).
 */
export function onsets(x: Float32Array, rate: number, threshold = 0.01, quietMs = 20): number[] {
  const quietFrames = Math.round((quietMs / 1000) * rate);
  const found: number[] = [];
  let quietRun = quietFrames; // the start of the file counts as quiet
  let armed = true;
  for (let i = 0; i < x.length; i++) {
    const a = Math.abs(x[i]!);
    if (a < threshold / 10) {
      quietRun++;
      if (quietRun >= quietFrames) armed = true;
    } else quietRun = 0;
    if (armed && a >= threshold) {
      // The onset is where the sound leaves silence, not where it crosses the threshold.
      let j = i;
      while (j > 0 && Math.abs(x[j - 1]!) > 0) j--;
      found.push(j);
      armed = false;
    }
  }
  return found;
}
