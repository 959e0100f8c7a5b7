import { describe, expect, it } from 'vitest';
import { fitTempo } from '../../../../adapters/midi/clock-fit.js';
import { ClockFollower, type ClockFollowerEvent } from '../../../../adapters/midi/clock-follower.js';
import {
  CLOCKS_PER_BAR,
  clockTimes,
  lockBars,
  mulberry32,
  ticksToFollow,
} from '../../../../adapters/midi/clock-simulation.js';

const period = (bpm: number): number => 60_000 / (bpm * 24);

/** A follower that records its events, each with the number of clocks fed when it came. */
function recorder(options = {}) {
  const events: (ClockFollowerEvent & { at: number })[] = [];
  let fed = 0;
  const follower = new ClockFollower((e) => events.push({ ...e, at: fed }), options);
  const feed = (times: readonly number[], each?: (n: number) => void): void => {
    for (const t of times) {
      fed++;
      follower.tick(t);
      each?.(fed);
    }
  };
  return { follower, events, feed, kinds: () => events.map((e) => e.kind) };
}

/** Ideal clock times through tempo segments, plus seeded uniform ±jitter. */
function segments(parts: { bpm: number; ticks: number }[], jitterMs = 0, seed = 1, start = 0): number[] {
  const random = mulberry32(seed);
  const times: number[] = [];
  let t = start;
  for (const { bpm, ticks } of parts) {
    for (let n = 0; n < ticks; n++) {
      times.push(t + (2 * random() - 1) * jitterMs);
      t += period(bpm);
    }
  }
  return times;
}

describe('fitTempo', () => {
  it('finds the exact tempo of perfect clocks, with no error', () => {
    const fit = fitTempo(clockTimes({ bpm: 137, ticks: 10 }));
    expect(fit.bpm).toBeCloseTo(137, 9);
    expect(fit.stderrBpm).toBeLessThan(1e-6);
  });

  it('has no tempo below two clocks and no error estimate below three', () => {
    expect(fitTempo([5]).bpm).toBeNaN();
    expect(fitTempo([0, 20]).stderrBpm).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('ClockFollower: locking', () => {
  // Two bars = 192 clocks at any tempo. The counts are deterministic (seeded jitter); measured over
  // seeds 1..5: 60 → 5..9 clocks, 90 → 8..25, 120 → 26..31, 128 → 26..31, 174 → 30..64, 240 → 39..99.
  it.each([40, 60, 90, 120, 128, 174, 240, 300])(
    'follows %d BPM with ±1 ms jitter to ±0.1 BPM within two bars',
    (bpm) => {
      for (let seed = 1; seed <= 5; seed++) {
        const times = clockTimes({ bpm, ticks: 8 * CLOCKS_PER_BAR, jitterMs: 1, seed });
        expect(ticksToFollow(times, bpm)).toBeLessThanOrEqual(2 * CLOCKS_PER_BAR);
      }
    },
  );

  it.each([60, 90, 120, 128, 174, 240])(
    'locks at %d BPM within two bars, and the lock is within ±0.1 BPM',
    (bpm) => {
      const { follower, events, feed } = recorder();
      let lockedAt = 0;
      feed(clockTimes({ bpm, ticks: 8 * CLOCKS_PER_BAR, jitterMs: 1, seed: 3 }), (n) => {
        if (follower.locked && lockedAt === 0) lockedAt = n;
        if (follower.locked) expect(Math.abs(follower.bpm! - bpm)).toBeLessThan(0.1);
      });
      expect(lockedAt).toBeGreaterThan(0);
      expect(lockedAt).toBeLessThanOrEqual(2 * CLOCKS_PER_BAR);
      expect(events.filter((e) => e.kind === 'lock')).toHaveLength(1);
      expect(events.some((e) => e.kind === 'unlock')).toBe(false);
      const first = events.find((e) => e.kind === 'tempo');
      expect(first).toMatchObject({ at: lockedAt });
    },
  );

  it('lockBars measures the benchmark: at most two bars at 128 BPM with ±1 ms jitter', () => {
    for (let seed = 1; seed <= 10; seed++) expect(lockBars(128, 1, seed)).toBeLessThanOrEqual(2);
    expect(lockBars(128, 0, 1)).toBeLessThan(0.05);
  });

  it('is exact without jitter, locks after one beat and reports the tempo once', () => {
    const { follower, events, feed } = recorder();
    feed(clockTimes({ bpm: 120, ticks: 2 }));
    expect(follower.bpm).toBeCloseTo(120, 9);
    feed(clockTimes({ bpm: 120, ticks: 4 * CLOCKS_PER_BAR, start: 2 * period(120) }));
    expect(Math.abs(follower.bpm! - 120)).toBeLessThan(1e-9);
    expect(events.map((e) => [e.kind, e.at])).toEqual([
      ['lock', 24],
      ['tempo', 24],
    ]);
  });

  it('keeps sub-µs precision on epoch-sized bus times', () => {
    const { follower, feed } = recorder();
    feed(clockTimes({ bpm: 128, ticks: CLOCKS_PER_BAR, start: 1.7e12 }));
    expect(Math.abs(follower.bpm! - 128)).toBeLessThan(1e-3);
    expect(follower.locked).toBe(true);
  });
});

describe('ClockFollower: tempo changes', () => {
  const change = 4 * CLOCKS_PER_BAR;

  it('follows 120 → 128 BPM with ±1 ms jitter within two beats, then locks again', () => {
    const { follower, events, feed } = recorder();
    const times = segments(
      [
        { bpm: 120, ticks: change },
        { bpm: 128, ticks: 4 * CLOCKS_PER_BAR },
      ],
      1,
      11,
    );
    let settled = 0;
    feed(times, (n) => {
      const near = Math.abs(follower.bpm! - 128) < 0.5;
      if (n > change && near && settled === 0) settled = n;
      if (n > change && !near) settled = 0;
    });
    expect(settled - change).toBeLessThanOrEqual(48);
    const after = events.filter((e) => e.at > change);
    const unlock = after.find((e) => e.kind === 'unlock')!;
    const tempo = after.find((e) => e.kind === 'tempo')!;
    const relock = after.find((e) => e.kind === 'lock')!;
    expect(unlock.at - change).toBeLessThanOrEqual(8);
    expect(tempo.at - change).toBeLessThanOrEqual(48);
    expect(tempo.kind === 'tempo' && Math.abs(tempo.bpm - 128)).toBeLessThan(0.5);
    expect(relock.at - change).toBeLessThanOrEqual(2 * CLOCKS_PER_BAR);
    expect(follower.locked).toBe(true);
    expect(Math.abs(follower.bpm! - 128)).toBeLessThan(0.1);
  });

  it('follows 120 → 128 BPM without jitter to ±0.1 BPM within a beat', () => {
    const { follower, feed } = recorder();
    const times = segments([
      { bpm: 120, ticks: change },
      { bpm: 128, ticks: 2 * CLOCKS_PER_BAR },
    ]);
    feed(times.slice(0, change + 24));
    expect(Math.abs(follower.bpm! - 128)).toBeLessThan(0.1);
  });

  it.each([60, 240])(
    'follows 120 → %d BPM (runs of gaps or duplicates) and keeps the position right',
    (bpm) => {
      const { follower, feed } = recorder();
      follower.start(-1);
      const ticks = 4 * CLOCKS_PER_BAR;
      feed(
        segments(
          [
            { bpm: 120, ticks: change },
            { bpm, ticks },
          ],
          1,
          5,
        ),
      );
      expect(Math.abs(follower.bpm! - bpm)).toBeLessThan(0.1);
      expect(follower.locked).toBe(true);
      expect(follower.position).toBe((change + ticks) / 24);
    },
  );
});

describe('ClockFollower: missing and doubled clocks', () => {
  it('neither unlocks nor moves beyond ±0.1 BPM, and counts the position right', () => {
    const { follower, events, feed } = recorder();
    follower.start(-1);
    const times = clockTimes({ bpm: 120, ticks: 4 * CLOCKS_PER_BAR, jitterMs: 1, seed: 2 });
    feed(times.slice(0, 200));
    expect(follower.locked).toBe(true);
    const before = follower.bpm!;
    // Clock 200 is lost; clock 260 arrives twice (the copy 0.2 ms later).
    const rest = [...times.slice(201, 261), times[260]! + 0.2, ...times.slice(261)];
    feed(rest, () => {
      expect(follower.locked).toBe(true);
      expect(Math.abs(follower.bpm! - 120)).toBeLessThan(0.1);
      expect(Math.abs(follower.bpm! - before)).toBeLessThan(0.1);
    });
    expect(events.filter((e) => e.kind === 'unlock')).toEqual([]);
    expect(follower.position).toBe(times.length / 24);
  });
});

describe('ClockFollower: the clock stops', () => {
  const p = period(120);

  it('drops the lock after ~3 periods without a clock (check), and locks again when clocks resume', () => {
    const { follower, events, feed } = recorder();
    const times = clockTimes({ bpm: 120, ticks: CLOCKS_PER_BAR });
    feed(times);
    const last = times[times.length - 1]!;
    expect(follower.deadline).toBeCloseTo(last + 3.5 * p, 6);
    expect(follower.check(last + 3 * p)).toBe(true);
    expect(follower.check(last + 3.6 * p)).toBe(false);
    expect(events.at(-1)).toMatchObject({ kind: 'unlock', time: last + 3.6 * p });
    expect(follower.deadline).toBeUndefined();
    expect(follower.bpm).toBeCloseTo(120, 6); // the last estimate stays readable
    const before = events.length;
    feed(clockTimes({ bpm: 100, ticks: CLOCKS_PER_BAR, start: last + 1000 }));
    expect(follower.locked).toBe(true);
    expect(follower.bpm).toBeCloseTo(100, 6);
    // The new tempo is reported as soon as it is known (half a beat), the lock after a beat.
    expect(events.slice(before).map((e) => [e.kind, e.at - CLOCKS_PER_BAR])).toEqual([
      ['tempo', 12],
      ['lock', 24],
    ]);
  });

  it('notices the stop on the next clock when nobody called check', () => {
    const { follower, kinds, feed } = recorder();
    const times = clockTimes({ bpm: 120, ticks: CLOCKS_PER_BAR });
    feed(times);
    feed([times[times.length - 1]! + 5 * p]);
    expect(kinds()).toEqual(['lock', 'tempo', 'unlock']);
    expect(follower.locked).toBe(false);
  });

  it('takes two missing clocks in a row as a gap, not a stop', () => {
    const { follower, kinds, feed } = recorder();
    const times = clockTimes({ bpm: 120, ticks: CLOCKS_PER_BAR, jitterMs: 1, seed: 4 });
    feed([...times.slice(0, 60), ...times.slice(62)]);
    expect(kinds()).toEqual(['lock', 'tempo']);
    expect(follower.locked).toBe(true);
  });
});

describe('ClockFollower: transport', () => {
  it('reports start, stop, song position and continue with the right positions', () => {
    const { follower, events, feed } = recorder();
    const times = clockTimes({ bpm: 120, ticks: 200 });
    feed(times.slice(0, 10)); // clocks before Start move nothing
    expect(follower.position).toBe(0);
    follower.start(times[10]! - 1);
    expect(follower.running).toBe(true);
    feed(times.slice(10, 58)); // 48 clocks: two beats
    expect(follower.position).toBe(2);
    follower.stop(times[58]! - 1);
    feed(times.slice(58, 70)); // clocks go on while stopped: the tempo is followed, the position stays
    expect(follower.position).toBe(2);
    follower.songPosition(16); // sixteenth notes: beat 4
    expect(follower.position).toBe(4);
    follower.continue(times[70]! - 1);
    feed(times.slice(70, 76));
    expect(follower.position).toBe(4.25);
    follower.start(times[76]! - 1);
    expect(
      events
        .filter((e) => e.kind === 'transport')
        .map((e) => e.kind === 'transport' && [e.state, e.position]),
    ).toEqual([
      ['start', 0],
      ['stop', 2],
      ['continue', 4],
      ['start', 0],
    ]);
    expect(follower.running).toBe(true);
  });

  it('refuses a song position outside 0..16383 and bad options, with codes', () => {
    const follower = new ClockFollower();
    expect(() => follower.songPosition(16384)).toThrow(
      expect.objectContaining({ code: 'PFM_ERR_MIDI_DECODE' }),
    );
    expect(() => follower.songPosition(1.5)).toThrow(
      expect.objectContaining({ code: 'PFM_ERR_MIDI_DECODE' }),
    );
    expect(() => new ClockFollower(undefined, { tempoStep: 0 })).toThrow(
      expect.objectContaining({ code: 'PFM_ERR_MIDI_CONFIG' }),
    );
  });

  it('reports a tempo move larger than tempoStep while locked, and not a smaller one', () => {
    const { events, feed } = recorder({ tempoStep: 0.5 });
    feed(
      segments([
        { bpm: 120, ticks: 192 },
        { bpm: 120.3, ticks: 192 },
        { bpm: 121, ticks: 192 },
      ]),
    );
    const tempos = events.filter((e) => e.kind === 'tempo').map((e) => e.kind === 'tempo' && e.bpm);
    expect(tempos[0]).toBeCloseTo(120, 6);
    expect(tempos.at(-1)).toBeCloseTo(121, 6);
    expect(tempos.some((b) => b !== false && Math.abs(b - 120.3) < 0.05)).toBe(false);
  });
});
