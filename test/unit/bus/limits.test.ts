import { afterEach, describe, expect, it } from 'vitest';
import { type BusEvents, hasCode, MessageBus, Priority } from '../../../daemon/index.js';
import { accounted, idle } from '../../helpers/bus.js';

let bus: MessageBus;
afterEach(async () => {
  await bus?.stop({ drain: false });
});

const invariantHolds = (b: MessageBus): boolean => {
  const s = b.getStats();
  return s.published === accounted(s);
};

describe('bounded queue', () => {
  it('evicts the oldest message of the least urgent lower lane, counts and emits it', async () => {
    bus = new MessageBus({ maxQueueSize: 4 });
    const evicted: BusEvents['evicted'][] = [];
    bus.on('evicted', (e) => evicted.push(e));
    const low1 = bus.publish({ type: 'x', from: 't', priority: Priority.LOW, payload: 'low1' });
    bus.publish({ type: 'x', from: 't', priority: Priority.LOW, payload: 'low2' });
    bus.publish({ type: 'x', from: 't', priority: Priority.NORMAL, payload: 'normal1' });
    bus.publish({ type: 'x', from: 't', priority: Priority.HIGH, payload: 'high1' });
    const crit = bus.publish({ type: 'x', from: 't', priority: Priority.CRITICAL, payload: 'crit' });
    expect(evicted).toHaveLength(1);
    expect(evicted[0]?.message).toBe(low1);
    expect(evicted[0]?.by).toBe(crit);
    const s = bus.getStats();
    expect(s.evicted).toBe(1);
    expect(s.byPriority.LOW.evicted).toBe(1);
    expect(s.pending).toBe(4);
    expect(invariantHolds(bus)).toBe(true);

    const got: string[] = [];
    bus.subscribe('x', (m) => {
      got.push(m.payload as string);
    });
    await bus.start();
    await idle(bus);
    expect(got).toEqual(['crit', 'high1', 'normal1', 'low2']);
  });

  it('evicts from LOW before NORMAL', () => {
    bus = new MessageBus({ maxQueueSize: 2 });
    bus.publish({ type: 'x', from: 't', priority: Priority.NORMAL, payload: 'n' });
    bus.publish({ type: 'x', from: 't', priority: Priority.LOW, payload: 'l' });
    bus.publish({ type: 'x', from: 't', priority: Priority.CRITICAL, payload: 'c' });
    expect(bus.getStats().byPriority.LOW.evicted).toBe(1);
    expect(bus.getStats().byPriority.NORMAL.evicted).toBe(0);
  });

  it('refuses with PFM_ERR_BUS_FULL when nothing of strictly lower priority is queued', () => {
    bus = new MessageBus({ maxQueueSize: 2 });
    bus.publish({ type: 'x', from: 't', priority: Priority.HIGH, payload: 1 });
    bus.publish({ type: 'x', from: 't', priority: Priority.NORMAL, payload: 2 });
    // NORMAL cannot evict NORMAL (not strictly lower) nor HIGH.
    let err: unknown;
    try {
      bus.publish({ type: 'fader', from: 't', priority: Priority.NORMAL, payload: 3 });
    } catch (e) {
      err = e;
    }
    expect(hasCode(err, 'PFM_ERR_BUS_FULL')).toBe(true);
    expect((err as Error).message).toMatch(/full \(2 messages\).*NORMAL.*"fader"/);
    const s = bus.getStats();
    expect(s.refused).toBe(1);
    expect(s.byPriority.NORMAL.refused).toBe(1);
    expect(s.evicted).toBe(0);
    expect(invariantHolds(bus)).toBe(true);
  });

  it('keeps published = delivered + refused + evicted + coalesced + discarded + pending at every moment', async () => {
    bus = new MessageBus({
      maxQueueSize: 50,
      coalesce: { control_change: { by: ['channel', 'controller'] } },
    });
    let checks = 0;
    let broken = 0;
    bus.subscribe('*', () => {
      checks++;
      if (!invariantHolds(bus)) broken++;
    });
    await bus.start();
    let refusedSeen = 0;
    // Deterministic pseudo-random mix of priorities and coalescable messages.
    let seed = 42;
    const rnd = (): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 100; i++) {
        const priority = Math.floor(rnd() * 4) as Priority;
        try {
          if (rnd() < 0.3) {
            bus.publish({
              type: 'control_change',
              from: 't',
              priority,
              payload: { channel: 1, controller: Math.floor(rnd() * 3), value: i },
            });
          } else {
            bus.publish({ type: 'x', from: 't', priority, payload: i });
          }
        } catch (e) {
          if (!hasCode(e, 'PFM_ERR_BUS_FULL')) throw e;
          refusedSeen++;
        }
        checks++;
        if (!invariantHolds(bus)) broken++;
      }
      await new Promise<void>((r) => setImmediate(r));
    }
    await idle(bus);
    const s = bus.getStats();
    expect(broken).toBe(0);
    expect(checks).toBeGreaterThan(2_000);
    expect(s.refused).toBe(refusedSeen);
    expect(s.published).toBe(2_000);
    expect(s.evicted + s.refused + s.coalesced).toBeGreaterThan(0);
    expect(s.published).toBe(accounted(s));
    await bus.stop();
    expect(invariantHolds(bus)).toBe(true);
  });
});

describe('coalescing', () => {
  it('replaces a still-queued message with the same key in place and counts it', async () => {
    bus = new MessageBus({ coalesce: { control_change: { by: ['channel', 'controller'] } } });
    const got: string[] = [];
    bus.subscribe('*', (m) => {
      const p = m.payload as { controller?: number; value?: number; n?: number };
      got.push(m.type === 'control_change' ? `cc${p.controller}=${p.value}` : `x${p.n}`);
    });
    const cc = (controller: number, value: number) =>
      bus.publish({ type: 'control_change', from: 'fader', payload: { channel: 1, controller, value } });
    cc(7, 10);
    bus.publish({ type: 'x', from: 't', payload: { n: 1 } });
    cc(7, 20);
    cc(8, 5);
    cc(7, 30);
    expect(bus.getStats().coalesced).toBe(2);
    expect(bus.getStats().pending).toBe(3);
    await bus.start();
    await idle(bus);
    // The newest value takes the oldest one's place in the queue.
    expect(got).toEqual(['cc7=30', 'x1', 'cc8=5']);
    const s = bus.getStats();
    expect(s.byPriority.NORMAL.coalesced).toBe(2);
    expect(s.published).toBe(accounted(s));
  });

  it('does not coalesce across recipients, priorities, or after delivery', async () => {
    bus = new MessageBus({ coalesce: { control_change: { by: ['controller'] } } });
    const got: number[] = [];
    bus.subscribe('*', (m) => {
      got.push((m.payload as { value: number }).value);
    });
    await bus.start();
    const cc = (value: number, extra: { to?: string; priority?: Priority } = {}) =>
      bus.publish({
        type: 'control_change',
        from: 'f',
        ...extra,
        payload: { channel: 1, controller: 1, value },
      });
    cc(1);
    cc(2, { to: 'bass' });
    cc(3, { priority: Priority.HIGH });
    await idle(bus);
    cc(4);
    await idle(bus);
    expect(got.sort()).toEqual([1, 2, 3, 4]);
    expect(bus.getStats().coalesced).toBe(0);
  });

  it('supports a key function, and leaves messages alone when it returns undefined', () => {
    bus = new MessageBus({
      coalesce: {
        osc_in: {
          key: (m) =>
            (m.payload as { address: string }).address.startsWith('/fader')
              ? (m.payload as { address: string }).address
              : undefined,
        },
      },
    });
    bus.publish({ type: 'osc_in', from: 'osc', payload: { address: '/fader/1', args: [0.1] } });
    bus.publish({ type: 'osc_in', from: 'osc', payload: { address: '/fader/1', args: [0.2] } });
    bus.publish({ type: 'osc_in', from: 'osc', payload: { address: '/button/1', args: [1] } });
    bus.publish({ type: 'osc_in', from: 'osc', payload: { address: '/button/1', args: [0] } });
    expect(bus.getStats().coalesced).toBe(1);
    expect(bus.getStats().pending).toBe(3);
  });

  it('refuses a coalescing rule for a discrete type such as notes or beats', () => {
    for (const type of ['play_note', 'beat_event', 'midi_in', 'transport']) {
      expect(() => new MessageBus({ coalesce: { [type]: { by: ['note'] } } })).toThrow(
        expect.objectContaining({ code: 'PFM_ERR_BUS_INVALID_OPTION' }),
      );
    }
  });
});
