/**
 * Seeded randomness for the instruments: the same seed renders the same samples (issue #8), so nothing
 * here may call `Math.random`.
 */

/** A PRNG returning floats in [0, 1). Mulberry32: 32-bit state, fast, good enough for audio noise. */
export type Prng = () => number;

/** Mulberry32 (Tommy Ettinger, public domain), seeded with a 32-bit integer. */
export function mulberry32(seed: number): Prng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Seconds of noise in the shared buffer; a hit starts at a seeded offset into it, so hits differ. */
export const NOISE_SECONDS = 2;

/** `length` samples of white noise in [-1, 1) from `random`. */
export function noiseSamples(random: Prng, length: number): Float32Array {
  const data = new Float32Array(length);
  for (let i = 0; i < length; i++) data[i] = random() * 2 - 1;
  return data;
}
