import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../../../daemon/bus/index.js';
import { Scheduler } from '../../../../daemon/kernel/scheduler.js';

let s: Scheduler | undefined;

/** Runs the scheduler probe in a process of its own: how late each of 30 entries ran, and the stall. */
async function probe(env: Record<string, string> = {}): Promise<{ late: number; stall: number }[]> {
  const file = join(import.meta.dirname, '..', '..', '..', 'fixtures', 'scheduler-probe.mjs');
  const out = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, [file], { timeout: 20_000, env: { ...process.env, ...env } }, (err, stdout) =>
      err ? reject(err) : resolve(stdout),
    );
  });
  return JSON.parse(out) as { late: number; stall: number }[];
}
afterEach(() => s?.stop());

describe('Scheduler', () => {
  it('runs every entry at its time on the bus clock, never before', async () => {
    s = new Scheduler({ clock: systemClock });
    const t0 = systemClock();
    const offsets = [40, 5, 25, 12, 33, 8, 60, 18, 3, 50];
    const ran: { due: number; at: number }[] = [];
    await new Promise<void>((resolve) => {
      for (const off of offsets) {
        const due = t0 + off + 0.37; // fractional ms on purpose
        s?.at(due, () => {
          ran.push({ due, at: systemClock() });
          if (ran.length === offsets.length) resolve();
        });
      }
    });
    expect(ran.map((r) => r.due)).toEqual([...ran.map((r) => r.due)].sort((a, b) => a - b));
    for (const r of ran) expect(r.at).toBeGreaterThanOrEqual(r.due);
  });

  // A VM can take the CPU away for a few ms at any moment (measured here: gaps of 1-5 ms in a busy-wait,
  // several a second at times), and no code in the process can help that. So: never early, every time;
  // on time when the process runs, shown by the median (the busy-wait's work: timers alone run ~0.6 ms
  // late at the median, SPIN_MS=0 below); and within 2 ms for 27 of 30 entries (a quiet run has none
  // late, a noisy one 1-2 over 2 ms). A retry tells a burst of stalls from a scheduler late every time.
  it('runs never early, at the median within 0.1 ms, and 27 of 30 within 2 ms (in a process of its own)', {
    retry: 2,
  }, async () => {
    const runs = await probe();
    expect(runs).toHaveLength(30);
    for (const r of runs) expect(r.late).toBeGreaterThanOrEqual(0);
    const sorted = runs.map((r) => r.late).sort((a, b) => a - b);
    expect(sorted[15]).toBeLessThan(0.1);
    expect(sorted[26]).toBeLessThan(2);
  });

  it('tells timers alone apart: without the busy-wait the median is late by far more', async () => {
    const runs = await probe({ SPIN_MS: '0' });
    for (const r of runs) expect(r.late).toBeGreaterThanOrEqual(0);
    const sorted = runs.map((r) => r.late).sort((a, b) => a - b);
    expect(sorted[15]).toBeGreaterThan(0.1);
  });

  // The jump must fall inside the busy-wait: a runner that delays the timer past it makes a retry.
  it('measures a stall of the machine during the busy-wait, and counts it', { retry: 2 }, async () => {
    // A clock that jumps 3 ms once inside the busy-wait: what a VM's host taking the CPU looks like.
    let extra = 0;
    let due = Number.POSITIVE_INFINITY;
    const clock = () => {
      const t = systemClock() + extra;
      if (extra > 0 || t <= due - 1) return t;
      extra = 3;
      return t + 3;
    };
    // A wide busy-wait window, so that the jump falls inside it even when the test runner delays timers.
    s = new Scheduler({ clock, spinMs: 8 });
    due = clock() + 10;
    const seen = await new Promise<{ late: number; stall: number }>((resolve) =>
      s?.at(due, () => resolve({ late: (s as Scheduler).now() - due, stall: (s as Scheduler).stallMs })),
    );
    expect(seen.stall).toBeGreaterThanOrEqual(2.9);
    expect(seen.late - seen.stall).toBeLessThan(0.5);
    expect(s.stalls).toBe(1);
    expect(s.maxStallMs).toBeGreaterThanOrEqual(2.9);
    expect(s.stallMs).toBe(0);
  });

  it('keeps the latest lateness of the last 10–20 s apart from the since-start maximum', async () => {
    // A clock the test moves: an entry runs 30 ms late at 1 s, then on time; the recent figure lets
    // the 30 ms go after two 10 s windows, the since-start one keeps it.
    let now = 1_000;
    s = new Scheduler({ clock: () => now, spinMs: 0 });
    const ran: number[] = [];
    s.at(970, () => ran.push(now));
    await new Promise((r) => setTimeout(r, 20));
    expect(ran).toEqual([1_000]);
    expect(s.maxLateMs).toBe(30);
    expect(s.recentMaxLateMs).toBe(30);
    now = 12_000;
    expect(s.recentMaxLateMs).toBe(30);
    now = 31_500;
    expect(s.recentMaxLateMs).toBe(0);
    expect(s.maxLateMs).toBe(30);
  });

  it('does not call its own event loop hog a stall of the machine', async () => {
    s = new Scheduler({ clock: systemClock });
    const due = systemClock() + 20;
    // Our own code holds the event loop from before the timer's wake-up until well after the time.
    setTimeout(() => {
      while (systemClock() < due + 5);
    }, 5);
    const seen = await new Promise<{ late: number; stall: number }>((resolve) =>
      s?.at(due, () => resolve({ late: systemClock() - due, stall: (s as Scheduler).stallMs })),
    );
    expect(seen.late).toBeGreaterThanOrEqual(4.9);
    expect(seen.stall).toBe(0);
    expect(s.stalls).toBe(0);
  });

  it('handles input while it waits for an entry close at hand, and still runs the entry on time', async () => {
    // A wide window: the scheduler waits for the entry on the CPU from ~12 ms before it.
    s = new Scheduler({ clock: systemClock, spinMs: 12 });
    const due = systemClock() + 20;
    let inputAt = Number.POSITIVE_INFINITY;
    // Input that arrives ~6 ms into the wait (a timer stands in for a datagram: both are event-loop I/O).
    setTimeout(() => {
      inputAt = systemClock();
    }, 14);
    const ranAt = await new Promise<number>((resolve) => s?.at(due, () => resolve(systemClock())));
    // A wait that held the event loop would run the input only after the entry.
    expect(inputAt).toBeLessThan(due);
    expect(ranAt).toBeGreaterThanOrEqual(due);
  });

  it('runs equal times in the order they were scheduled, and a past time at once', async () => {
    s = new Scheduler({ clock: systemClock });
    const order: number[] = [];
    const t = systemClock() + 5;
    await new Promise<void>((resolve) => {
      for (let i = 0; i < 5; i++) s?.at(t, () => order.push(i));
      s?.at(t, resolve);
    });
    expect(order).toEqual([0, 1, 2, 3, 4]);
    const past = await new Promise<number>((resolve) =>
      s?.at(systemClock() - 1_000, () => resolve(systemClock())),
    );
    expect(past).toBeGreaterThan(0);
  });

  it('gives the event loop back between entries of a dense series (no spinning from one to the next)', async () => {
    s = new Scheduler({ clock: systemClock });
    const t0 = systemClock() + 5;
    let ran = 0;
    const done = new Promise<void>((resolve) => {
      for (let i = 0; i < 200; i++) {
        s?.at(t0 + i * 3, () => {
          if (++ran === 200) resolve();
        });
      }
    });
    let turns = 0;
    const tick = setInterval(() => {
      turns++;
    }, 1);
    await done;
    clearInterval(tick);
    // 600 ms of entries 3 ms apart: a timer of the event loop's own ran many times meanwhile.
    expect(turns).toBeGreaterThan(50);
  });

  it('cancels, isolates a throwing callback, and refuses beyond maxPending', async () => {
    s = new Scheduler({ clock: systemClock, maxPending: 3 });
    const errors: unknown[] = [];
    s.onError = (e) => errors.push(e);
    let cancelledRan = false;
    const cancel = s.at(systemClock() + 2, () => {
      cancelledRan = true;
    });
    cancel?.();
    s.at(systemClock() + 3, () => {
      throw new Error('boom');
    });
    const done = new Promise<void>((resolve) => s?.at(systemClock() + 6, resolve));
    expect(s.at(systemClock() + 1, () => {})).toBeUndefined();
    await done;
    expect(cancelledRan).toBe(false);
    expect(errors).toHaveLength(1);
    s.stop();
    expect(s.at(systemClock() + 1, () => {})).toBeUndefined();
  });
});
