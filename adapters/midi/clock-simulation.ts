/**
 * A simulated MIDI clock source for measuring {@link ClockFollower}: seeded jitter, so a test or a
 * benchmark run is repeatable. Used by the clock follower's tests and by the `midi.clock_in_lock_bars`
 * benchmark (bars until the followed tempo is within ±0.1 BPM of the source; goal ≤ 2).
 */
import { BPM_PER_PERIOD, CLOCKS_PER_BEAT } from './clock-fit.js';
import { ClockFollower, type ClockFollowerOptions } from './clock-follower.js';

/** Clocks in a bar of 4/4. */
export const CLOCKS_PER_BAR = 4 * CLOCKS_PER_BEAT;

/** A seeded PRNG (mulberry32): uniform in [0, 1), the same sequence for the same seed. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A steady source: `ticks` clocks at `bpm` from `start` ms, each moved by uniform ±`jitterMs`. */
export interface ClockSource {
  bpm: number;
  ticks: number;
  jitterMs?: number;
  /** Jitter seed. Default 1. */
  seed?: number;
  /** Ideal time of the first clock, ms. Default 0. */
  start?: number;
}

/** Arrival times of a simulated clock (ideal time n·period + independent uniform jitter). */
export function clockTimes(source: ClockSource): number[] {
  const period = BPM_PER_PERIOD / source.bpm;
  const jitter = source.jitterMs ?? 0;
  const random = mulberry32(source.seed ?? 1);
  const start = source.start ?? 0;
  const times: number[] = [];
  for (let n = 0; n < source.ticks; n++) times.push(start + n * period + (2 * random() - 1) * jitter);
  return times;
}

/**
 * Clocks fed to a fresh follower until its `bpm` is within `tolerance` of `bpm` and stays there to
 * the end of `times` (Infinity when it never settles).
 */
export function ticksToFollow(
  times: readonly number[],
  bpm: number,
  tolerance = 0.1,
  options: ClockFollowerOptions = {},
): number {
  const follower = new ClockFollower(() => {}, options);
  let lastBad = -1;
  times.forEach((t, i) => {
    follower.tick(t);
    const estimate = follower.bpm;
    if (estimate === undefined || !(Math.abs(estimate - bpm) < tolerance)) lastBad = i;
  });
  return lastBad === times.length - 1 ? Number.POSITIVE_INFINITY : lastBad + 2;
}

/**
 * Bars of 4/4 (fractional: clocks / 96) until the followed tempo is within ±0.1 BPM of a steady
 * `bpm` source with uniform ±`jitterMs` jitter, and stays there over a run of `bars` bars.
 */
export function lockBars(bpm: number, jitterMs: number, seed: number, bars = 16): number {
  const times = clockTimes({ bpm, ticks: bars * CLOCKS_PER_BAR, jitterMs, seed });
  return ticksToFollow(times, bpm) / CLOCKS_PER_BAR;
}
