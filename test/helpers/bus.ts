/** Helpers shared by the bus tests. */
import type { BusStats, MessageBus } from '../../daemon/bus/index.js';

/** Resolves once the bus has nothing pending (polled between event-loop turns), or rejects on timeout. */
export async function idle(bus: MessageBus, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (bus.getStats().pending > 0) {
    if (Date.now() > deadline) throw new Error(`bus still has ${bus.getStats().pending} pending`);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  // Let the slice that delivered the last message finish.
  await new Promise<void>((resolve) => setImmediate(resolve));
}

/** The accounting invariant of DESIGN.md: every published message is in exactly one bucket. */
export function accounted(
  s: Pick<BusStats, 'delivered' | 'refused' | 'evicted' | 'coalesced' | 'discarded' | 'pending'>,
): number {
  return s.delivered + s.refused + s.evicted + s.coalesced + s.discarded + s.pending;
}

/** A clock the test moves by hand. */
export function virtualClock(start = 1_000): {
  now: () => number;
  advance: (ms: number) => void;
  set: (t: number) => void;
} {
  let t = start;
  return {
    now: () => t,
    advance: (ms) => {
      t += ms;
    },
    set: (v) => {
      t = v;
    },
  };
}

/** Blocks the thread for `ms` (a handler that is slow on purpose). */
export function busyWait(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // spin
  }
}
