/**
 * midi.clock_in_lock_bars (issue #7): bars of 4/4 until the followed tempo is within ±0.1 BPM of a
 * steady 128 BPM MIDI clock with uniform ±1 ms jitter per clock, and stays there to the end of a
 * 16-bar run: `lockBars` (adapters/midi/clock-simulation.ts) over SEEDS jitter seeds, the median. The
 * simulation is seeded and pure, so every run gives the same figure; the seeds give the spread
 * (details: the worst seed).
 *
 * The baseline: the naive follower most MIDI software uses, the tempo from the mean of the last 24
 * clock intervals (one beat), fed the same clock times and judged the same way. Its error does not
 * shrink with time: the mean of 24 intervals is (t[n] − t[n−24]) / 24, so ±1 ms on each end gives up to
 * ±0.083 ms on a 19.5 ms period, ±0.55 BPM, and it never stays within ±0.1 BPM. A run in which it never
 * settles counts as the run's length (16 bars: a lower bound, so the ratio flatters it); the details
 * say in how many seeds that happened and how far off it still is after bar 2 (p99 |error|).
 */
import { BPM_PER_PERIOD } from '../adapters/midi/clock-fit.js';
import { CLOCKS_PER_BAR, clockTimes, lockBars } from '../adapters/midi/clock-simulation.js';
import type { Figure, RunResult } from './types.js';
import { median, percentile } from './util.js';

const BPM = 128;
const JITTER_MS = 1;
const TOLERANCE_BPM = 0.1;
const BARS = 16;
const SEEDS = [1, 2, 3, 4, 5, 6, 7, 8, 9];
/** Intervals the naive follower averages: one beat. */
const NAIVE_INTERVALS = 24;

/** The naive follower's tempo after each clock (NaN before the second clock). */
function naiveTempi(times: readonly number[]): Float64Array {
  return Float64Array.from(times, (t, i) => {
    const k = Math.min(i, NAIVE_INTERVALS);
    return k === 0 ? Number.NaN : BPM_PER_PERIOD / ((t - times[i - k]!) / k);
  });
}

/** Bars (clocks / 96) until the tempo is within tolerance and stays there to the end; Infinity if never. */
function barsToSettle(tempi: Float64Array): number {
  let lastBad = -1;
  tempi.forEach((bpm, i) => {
    if (!(Math.abs(bpm - BPM) < TOLERANCE_BPM)) lastBad = i;
  });
  return lastBad === tempi.length - 1 ? Number.POSITIVE_INFINITY : (lastBad + 2) / CLOCKS_PER_BAR;
}

export const clockInLockBars: Figure = {
  name: 'midi.clock_in_lock_bars',
  unit: 'bars',
  baselineName: 'naive mean of 24 intervals',
  goal: '<= 2 bars',
  met: (value) => value <= 2,
  async run(): Promise<RunResult> {
    const followed: number[] = [];
    const naive: number[] = [];
    let naiveNever = 0;
    const naiveErrors: number[] = [];
    for (const seed of SEEDS) {
      followed.push(lockBars(BPM, JITTER_MS, seed, BARS));
      const tempi = naiveTempi(
        clockTimes({ bpm: BPM, ticks: BARS * CLOCKS_PER_BAR, jitterMs: JITTER_MS, seed }),
      );
      const bars = barsToSettle(tempi);
      if (!Number.isFinite(bars)) naiveNever++;
      naive.push(Math.min(bars, BARS));
      for (let i = 2 * CLOCKS_PER_BAR; i < tempi.length; i++) naiveErrors.push(Math.abs(tempi[i]! - BPM));
    }
    const never = followed.filter((b) => !Number.isFinite(b)).length;
    return {
      // A seed that never settles (Infinity, which JSON cannot carry) counts as the run's length.
      value: median(followed.map((b) => Math.min(b, BARS))),
      baseline: median(naive),
      details: {
        worst_seed_bars: Math.min(Math.max(...followed), BARS),
        seeds: SEEDS.length,
        seeds_never_locked: never,
        baseline_seeds_never_locked: naiveNever,
        baseline_p99_error_after_bar2_bpm: percentile(Float64Array.from(naiveErrors), 99),
        run_bars: BARS,
      },
    };
  },
};
