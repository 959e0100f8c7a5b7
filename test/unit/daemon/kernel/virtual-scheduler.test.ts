import { describe, expect, it } from 'vitest';
import { VirtualScheduler } from '../../../../daemon/kernel/virtual-scheduler.js';

describe('VirtualScheduler', () => {
  it('runs entries in time order, each seeing its own time as now', () => {
    const t = new VirtualScheduler(1_000);
    const seen: [string, number][] = [];
    t.at(1_030, () => seen.push(['c', t.now()]));
    t.at(1_010, () => seen.push(['a', t.now()]));
    t.at(1_010, () => seen.push(['b', t.now()]));
    t.advanceTo(1_020);
    expect(seen).toEqual([
      ['a', 1_010],
      ['b', 1_010],
    ]);
    expect(t.now()).toBe(1_020);
    t.advance(100);
    expect(seen.at(-1)).toEqual(['c', 1_030]);
    expect(t.now()).toBe(1_120);
  });

  it('runs entries that entries add when they are due, and never moves time backwards', () => {
    const t = new VirtualScheduler();
    const times: number[] = [];
    const tick = (n: number): void => {
      times.push(t.now());
      if (n < 4) t.at(t.now() + 10, () => tick(n + 1));
    };
    t.at(0, () => tick(0));
    t.at(-50, () => times.push(-1)); // in the past: runs now, at the current time
    t.runUntilIdle();
    expect(times).toEqual([0, -1, 10, 20, 30, 40]);
    expect(t.now()).toBe(40);
  });

  it('cancels, refuses after stop, and stops an endless series at a limit', () => {
    const t = new VirtualScheduler();
    let ran = 0;
    const cancel = t.at(5, () => ran++);
    cancel?.();
    t.advance(10);
    expect(ran).toBe(0);
    const loop = (): void => {
      ran++;
      t.at(t.now() + 1, loop);
    };
    t.at(11, loop);
    t.runUntilIdle(20);
    expect(ran).toBe(10);
    t.stop();
    expect(t.at(30, () => ran++)).toBeUndefined();
    expect(t.pending).toBe(0);
  });
});
