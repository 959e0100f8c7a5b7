import { afterEach, describe, expect, it } from 'vitest';
import { MessageBus, Priority } from '../../../daemon/bus/index.js';
import { idle, virtualClock } from '../../helpers/bus.js';

let bus: MessageBus;
afterEach(async () => {
  await bus?.stop({ drain: false });
});

describe('stats', () => {
  it('computes delivery latency percentiles from the bus clock (known inputs)', async () => {
    const clock = virtualClock();
    bus = new MessageBus({ clock: clock.now, timingEvery: 1, clockReuse: 1, slowHandlerMs: 1e9 });
    // 100 messages published at the same instant; each handler call takes 1 ms of virtual time, so
    // message k waits k ms: latencies 0..99 ms.
    bus.subscribe('x', () => clock.advance(1));
    for (let i = 0; i < 100; i++) bus.publish({ type: 'x', from: 't', payload: i });
    await bus.start();
    await idle(bus);
    const lat = bus.getStats().deliveryLatencyUs;
    expect(lat.count).toBe(100);
    // HdrHistogram with 3 significant digits: within 0.1 %.
    expect(lat.p50).toBeGreaterThanOrEqual(49_000 * 0.999);
    expect(lat.p50).toBeLessThanOrEqual(50_000 * 1.001);
    expect(lat.p99).toBeGreaterThanOrEqual(98_000 * 0.999);
    expect(lat.p99).toBeLessThanOrEqual(99_000 * 1.001);
    expect(lat.max).toBeGreaterThanOrEqual(99_000 * 0.999);
    expect(lat.max).toBeLessThanOrEqual(99_000 * 1.001);
  });

  it('measures publish cost (a clock that moves 2 µs per read)', () => {
    let t = 5_000;
    bus = new MessageBus({
      clock: () => {
        t += 0.002;
        return t;
      },
      publishCostSampleEvery: 1,
    });
    for (let i = 0; i < 10; i++) bus.publish({ type: 'x', from: 't', payload: i });
    const cost = bus.getStats().publishCostUs;
    expect(cost.count).toBe(10);
    expect(cost.p50).toBeCloseTo(2, 1);
    expect(cost.max).toBeCloseTo(2, 1);
  });

  it('keeps only the recent window of latencies', async () => {
    const clock = virtualClock();
    bus = new MessageBus({
      clock: clock.now,
      timingEvery: 1,
      clockReuse: 1,
      statsWindowMs: 1_000,
      slowHandlerMs: 1e9,
    });
    bus.subscribe('x', () => {});
    await bus.start();
    bus.publish({ type: 'x', from: 't', payload: 1 });
    clock.advance(500); // delivered 500 ms late
    await idle(bus);
    expect(bus.getStats().deliveryLatencyUs.max).toBeGreaterThanOrEqual(499_000);
    clock.advance(5_000); // two windows later the old value is gone
    bus.publish({ type: 'x', from: 't', payload: 2 });
    await idle(bus);
    const lat = bus.getStats().deliveryLatencyUs;
    expect(lat.count).toBe(1);
    expect(lat.max).toBe(0);
  });

  it('reports totals, per-priority counts and queue depth per lane', () => {
    bus = new MessageBus();
    bus.publish({ type: 'x', from: 't', priority: Priority.CRITICAL, payload: null });
    bus.publish({ type: 'x', from: 't', priority: Priority.LOW, payload: null });
    bus.publish({ type: 'x', from: 't', priority: Priority.LOW, payload: null });
    const s = bus.getStats();
    expect(s).toMatchObject({ published: 3, delivered: 0, pending: 3, refused: 0, evicted: 0, coalesced: 0 });
    expect(s.queueDepth).toEqual({ CRITICAL: 1, HIGH: 0, NORMAL: 0, LOW: 2 });
    expect(s.byPriority.LOW).toMatchObject({ published: 2, pending: 2 });
    expect(s.state).toBe('idle');
    // Stats are plain data, served as JSON by the API.
    expect(JSON.parse(JSON.stringify(s))).toEqual(s);
  });
});
