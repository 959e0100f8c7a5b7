/**
 * When the audio engine's process collects (gc-pacer.ts), on a virtual clock: after every N voices, or
 * T ms after the first voice since the last collection, never while nothing plays; the pauses timed.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_GC_PACING, GcPacer } from '../../../../adapters/audio/gc-pacer.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** A pacer whose collections each take `pauseMs` on its clock, and the count of them. */
function pacer(everyVoices: number, everyMs: number, pauseMs = 3) {
  const collected = { n: 0 };
  let paused = 0;
  const p = new GcPacer(
    { everyVoices, everyMs },
    () => {
      collected.n++;
      paused += pauseMs;
    },
    () => paused,
  );
  return { p, collected };
}

describe('the engine process’s periodic GC', () => {
  it('collects once every N voices, on the next turn, and times the pause', () => {
    const { p, collected } = pacer(10, 60_000, 4);
    p.played(9);
    vi.advanceTimersByTime(1);
    expect(collected.n).toBe(0);
    p.played(1);
    expect(collected.n).toBe(0); // not inside the message handler
    vi.advanceTimersByTime(1);
    expect(collected.n).toBe(1);
    // A chord of 12 in one message: one collection, not two.
    p.played(12);
    vi.advanceTimersByTime(1);
    expect(collected.n).toBe(2);
    expect(p.stats()).toEqual({ enabled: true, count: 2, lastPauseMs: 4, maxPauseMs: 4 });
  });

  it('collects T after the first voice since the last collection, and not while nothing plays', () => {
    const { p, collected } = pacer(1000, 5000);
    p.played(1);
    vi.advanceTimersByTime(2000);
    p.played(1); // does not push the deadline back
    vi.advanceTimersByTime(2999);
    expect(collected.n).toBe(0);
    vi.advanceTimersByTime(2);
    expect(collected.n).toBe(1);
    vi.advanceTimersByTime(60_000);
    expect(collected.n).toBe(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a count collection resets the time one', () => {
    const { p, collected } = pacer(5, 5000);
    p.played(1);
    vi.advanceTimersByTime(1000);
    p.played(4);
    vi.advanceTimersByTime(1);
    expect(collected.n).toBe(1);
    vi.advanceTimersByTime(10_000);
    expect(collected.n).toBe(1);
  });

  it('without a gc function (no --expose-gc) it counts nothing and never throws', () => {
    const p = new GcPacer(DEFAULT_GC_PACING, undefined);
    p.played(DEFAULT_GC_PACING.everyVoices * 3);
    vi.advanceTimersByTime(DEFAULT_GC_PACING.everyMs * 2);
    expect(p.stats()).toEqual({ enabled: false, count: 0, lastPauseMs: 0, maxPauseMs: 0 });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('collects nothing more once stopped', () => {
    const { p, collected } = pacer(2, 100);
    p.played(1);
    p.stop();
    p.played(5);
    vi.advanceTimersByTime(1000);
    expect(collected.n).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });
});
