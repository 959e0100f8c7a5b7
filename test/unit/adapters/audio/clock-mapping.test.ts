import { describe, expect, it } from 'vitest';
import { ClockMapping, type ClockSample } from '../../../../adapters/audio/clock-mapping.js';
import { mulberry32 } from '../../../../adapters/audio/noise.js';

const QUANTUM = 128 / 48_000;
const T0 = 1.7e12; // a bus time as systemClock gives: ms since the epoch

/**
 * An audio clock that started at bus time `startMs`, runs `ppm` fast, and advances a render quantum at
 * a time (what `currentTime` reads): readings every `everyMs`, with seeded jitter in the read time.
 */
function audioClock(startMs: number, ppm: number) {
  const rate = (1 + ppm * 1e-6) / 1000;
  const continuous = (bus: number) => (bus - startMs) * rate;
  const read = (bus: number): ClockSample => ({
    busTime: bus,
    audioTime: Math.floor(continuous(bus) / QUANTUM) * QUANTUM,
    rttMs: 0.01,
  });
  return { continuous, read, rate };
}

function feed(
  m: ClockMapping,
  clock: ReturnType<typeof audioClock>,
  from: number,
  to: number,
  everyMs: number,
): void {
  const random = mulberry32(7);
  for (let t = from; t < to; t += everyMs) m.add(clock.read(t + random() * everyMs * 0.5));
}

describe('clock mapping: bus clock (ms) → audio clock (s)', () => {
  it('is not ready before its first pair', () => {
    const m = new ClockMapping();
    expect(m.ready).toBe(false);
    expect(() => m.toAudio(T0)).toThrow(/before its first sample/);
  });

  it('finds the offset within a render quantum from the first pairs', () => {
    const clock = audioClock(T0 - 5000, 0);
    const m = new ClockMapping();
    feed(m, clock, T0, T0 + 30, 3.7);
    for (const t of [T0 + 40, T0 + 200]) {
      expect(Math.abs(m.toAudio(t) - clock.continuous(t))).toBeLessThan(QUANTUM);
    }
    expect(m.toBus(m.toAudio(T0 + 100))).toBeCloseTo(T0 + 100, 6);
  });

  it('measures a drift of +80 ppm within 5 ppm, and then maps within a quarter quantum', () => {
    const clock = audioClock(T0 - 1000, 80);
    const m = new ClockMapping({ windowMs: 60_000, minSpanMs: 5_000 });
    feed(m, clock, T0, T0 + 60_000, 500);
    const s = m.snapshot();
    // Readings are quantized to 2.67 ms: over 60 s of 120 pairs the slope's standard error is ~4 ppm.
    expect(Math.abs(s.driftPpm - 80)).toBeLessThan(5);
    expect(s.resets).toBe(0);
    // The mapping is the staircase's upper envelope: the continuous clock, within a fraction of a step.
    const later = T0 + 61_000;
    expect(Math.abs(m.toAudio(later) - clock.continuous(later))).toBeLessThan(QUANTUM / 4);
    expect(s.audioZeroAtMs).toBeGreaterThan(T0 - 1000 - 5);
    expect(s.audioZeroAtMs).toBeLessThan(T0 - 1000 + 5);
  });

  it('takes a small error out smoothly: never a jump, gone within a few seconds', () => {
    const m = new ClockMapping({ slewMs: 1000, stepMs: 10, minSpanMs: 1e9 });
    let clock = audioClock(T0, 0);
    feed(m, clock, T0, T0 + 10_000, 100);
    // The audio clock steps 4 ms ahead (e.g. a driver's timestamp correction): below stepMs.
    clock = audioClock(T0 - 4, 0);
    let previous = m.toAudio(T0 + 10_000);
    const steps: number[] = [];
    for (let t = T0 + 10_000; t < T0 + 14_000; t += 100) {
      m.add(clock.read(t));
      const now = m.toAudio(t + 100);
      steps.push((now - previous) * 1000); // ms of audio per 100 ms of bus time
      previous = now;
    }
    // Each step stays near 100 ms: the mapping bends, it does not jump by 4 ms.
    for (const d of steps) expect(Math.abs(d - 100)).toBeLessThan(3);
    expect(Math.abs(m.toAudio(T0 + 14_000) - clock.continuous(T0 + 14_000))).toBeLessThan(QUANTUM);
    expect(m.snapshot().resets).toBe(0);
    expect(m.snapshot().corrections).toBeGreaterThan(0);
  });

  it('jumps, and counts a reset, when the error is beyond stepMs (a device stall)', () => {
    const m = new ClockMapping({ stepMs: 10 });
    feed(m, audioClock(T0, 0), T0, T0 + 2_000, 100);
    const stalled = audioClock(T0 + 50, 0); // the audio clock lost 50 ms (an xrun)
    m.add(stalled.read(T0 + 2_000));
    m.add(stalled.read(T0 + 2_100));
    expect(m.snapshot().resets).toBe(0); // behind: a late render thread looks the same, for a while
    m.add(stalled.read(T0 + 2_200));
    const s = m.snapshot();
    expect(s.resets).toBeGreaterThan(0);
    expect(Math.abs(s.lastCorrectionMs)).toBeGreaterThan(10);
    expect(Math.abs(m.toAudio(T0 + 2_300) - stalled.continuous(T0 + 2_300))).toBeLessThan(0.02);
  });

  it('follows the schedule, not the hiccups: readings late by a stalled render thread do not pull it', () => {
    const clock = audioClock(T0, 0);
    const m = new ClockMapping();
    const random = mulberry32(3);
    for (let t = T0; t < T0 + 10_000; t += 100) {
      const s = clock.read(t);
      // One reading in three is late by 2 to 12 ms (the thread had not caught up yet).
      const late = random() < 0.33 ? (2 + 10 * random()) / 1000 : 0;
      m.add({ ...s, audioTime: Math.max(0, s.audioTime - late) });
    }
    expect(Math.abs(m.toAudio(T0 + 10_000) - clock.continuous(T0 + 10_000))).toBeLessThan(QUANTUM / 4);
    expect(m.snapshot().resets).toBe(0);
  });

  it('does not take a late render thread (readings behind for a while, then back) for a step', () => {
    const m = new ClockMapping({ stepMs: 10 });
    const clock = audioClock(T0, 0);
    feed(m, clock, T0, T0 + 2_000, 100);
    const before = m.toAudio(T0 + 2_500);
    // Two readings 30 and 22 ms late, then the thread has caught up.
    m.add({ ...clock.read(T0 + 2_000), audioTime: clock.read(T0 + 2_000).audioTime - 0.03 });
    m.add({ ...clock.read(T0 + 2_100), audioTime: clock.read(T0 + 2_100).audioTime - 0.022 });
    m.add(clock.read(T0 + 2_200));
    expect(m.snapshot().resets).toBe(0);
    expect(Math.abs(m.toAudio(T0 + 2_500) - before)).toBeLessThan(0.0005);
  });

  it('takes a step ahead (the audio clock jumped forward) from two readings', () => {
    const m = new ClockMapping({ stepMs: 10 });
    feed(m, audioClock(T0, 0), T0, T0 + 2_000, 100);
    const ahead = audioClock(T0 - 40, 0);
    m.add(ahead.read(T0 + 2_000));
    m.add(ahead.read(T0 + 2_100));
    expect(m.snapshot().resets).toBe(1);
    expect(Math.abs(m.toAudio(T0 + 2_200) - ahead.continuous(T0 + 2_200))).toBeLessThan(QUANTUM);
  });

  it('settle() puts the mapping on its estimate at once (before it is used)', () => {
    const m = new ClockMapping();
    const clock = audioClock(T0 - 3000, 0);
    m.add({ ...clock.read(T0), audioTime: clock.read(T0).audioTime - 0.004 }); // a late first reading
    for (let t = T0 + 3; t < T0 + 60; t += 3.3) m.add(clock.read(t));
    m.settle();
    expect(Math.abs(m.toAudio(T0 + 60) - clock.continuous(T0 + 60))).toBeLessThan(QUANTUM / 2);
  });

  it('skips pairs read across a slow round trip', () => {
    const m = new ClockMapping();
    const clock = audioClock(T0, 0);
    for (let i = 0; i < 8; i++) expect(m.add({ ...clock.read(T0 + i * 10), rttMs: 0.2 })).toBe(true);
    expect(m.add({ busTime: T0 + 100, audioTime: 5, rttMs: 8 })).toBe(false);
    expect(m.snapshot().skipped).toBe(1);
    expect(Math.abs(m.toAudio(T0 + 100) - clock.continuous(T0 + 100))).toBeLessThan(QUANTUM);
  });

  it('ignores an impossible slope (a suspended clock) instead of following it', () => {
    const m = new ClockMapping({ minSpanMs: 1000, stepMs: 1e6 });
    for (let t = T0; t < T0 + 5000; t += 100) m.add({ busTime: t, audioTime: 1, rttMs: 0.01 });
    expect(m.snapshot().driftPpm).toBe(0);
  });
});
