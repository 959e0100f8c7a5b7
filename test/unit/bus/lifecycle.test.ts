import { describe, expect, it } from 'vitest';
import { type BusEvents, hasCode, MessageBus, Priority } from '../../../daemon/index.js';
import { accounted } from '../../helpers/bus.js';

describe('lifecycle', () => {
  it('drains the queue on stop by default', async () => {
    const bus = new MessageBus();
    let got = 0;
    bus.subscribe('x', () => {
      got++;
    });
    await bus.start();
    for (let i = 0; i < 5_000; i++) bus.publish({ type: 'x', from: 't', payload: i });
    const report = await bus.stop();
    expect(got).toBe(5_000);
    expect(report).toMatchObject({ drained: 5_000, discarded: 0, timedOut: false });
    expect(bus.status).toBe('stopped');
  });

  it('refuses publish after stop with PFM_ERR_BUS_STOPPED, counted as refused', async () => {
    const bus = new MessageBus();
    await bus.start();
    await bus.stop();
    let err: unknown;
    try {
      bus.publish({ type: 'late', from: 't', priority: Priority.HIGH, payload: null });
    } catch (e) {
      err = e;
    }
    expect(hasCode(err, 'PFM_ERR_BUS_STOPPED')).toBe(true);
    expect((err as Error).message).toContain('"late"');
    expect(bus.getStats().byPriority.HIGH.refused).toBe(1);
  });

  it('refuses publish while draining', async () => {
    const bus = new MessageBus();
    let inner: unknown;
    bus.subscribe('x', () => {
      try {
        bus.publish({ type: 'follow_up', from: 't', payload: null });
      } catch (e) {
        inner = e;
      }
    });
    await bus.start();
    bus.publish({ type: 'x', from: 't', payload: null });
    await bus.stop();
    expect(hasCode(inner, 'PFM_ERR_BUS_STOPPED')).toBe(true);
  });

  it('reports what a stop without drain discarded', async () => {
    const bus = new MessageBus();
    let got = 0;
    bus.subscribe('x', () => {
      got++;
    });
    const discarded: BusEvents['discarded'][] = [];
    bus.on('discarded', (e) => discarded.push(e));
    await bus.start();
    for (let i = 0; i < 10; i++)
      bus.publish({ type: 'x', from: 't', priority: (i % 4) as Priority, payload: i });
    const report = await bus.stop({ drain: false });
    expect(got).toBe(0);
    expect(report).toMatchObject({
      drained: 0,
      discarded: 10,
      discardedByPriority: [3, 3, 2, 2],
      timedOut: false,
    });
    expect(discarded).toEqual([{ count: 10, byPriority: [3, 3, 2, 2] }]);
    const s = bus.getStats();
    expect(s.discarded).toBe(10);
    expect(s.pending).toBe(0);
    expect(s.published).toBe(accounted(s));
  });

  it('discards what is left when a drain passes its deadline', async () => {
    const bus = new MessageBus({ sliceMs: 1 });
    bus.subscribe('x', () => {
      const end = performance.now() + 2;
      while (performance.now() < end) {
        // a handler of 2 ms: 1,000 of them cannot drain in 50 ms
      }
    });
    await bus.start();
    for (let i = 0; i < 1_000; i++) bus.publish({ type: 'x', from: 't', payload: i });
    const report = await bus.stop({ timeoutMs: 50 });
    expect(report.timedOut).toBe(true);
    expect(report.drained).toBeGreaterThan(0);
    expect(report.drained + report.discarded).toBe(1_000);
  });

  it('is idempotent: start twice, stop twice returns the same promise', async () => {
    const bus = new MessageBus();
    await bus.start();
    await bus.start();
    expect(bus.status).toBe('running');
    const a = bus.stop();
    const b = bus.stop({ drain: false });
    expect(a).toBe(b);
    await a;
    await expect(bus.start()).rejects.toMatchObject({ code: 'PFM_ERR_BUS_STOPPED' });
  });

  it('stops a bus that never started, discarding and reporting its queue', async () => {
    const bus = new MessageBus();
    bus.publish({ type: 'x', from: 't', payload: null });
    const report = await bus.stop();
    expect(report.discarded).toBe(1);
    expect(bus.status).toBe('stopped');
  });

  it('queues messages published before start and delivers them on start', async () => {
    const bus = new MessageBus();
    const got: number[] = [];
    bus.subscribe('x', (m) => {
      got.push(m.payload as number);
    });
    bus.publish({ type: 'x', from: 't', payload: 1 });
    await new Promise((r) => setTimeout(r, 5));
    expect(got).toEqual([]);
    await bus.start();
    await bus.stop();
    expect(got).toEqual([1]);
  });

  it('rejects malformed messages with PFM_ERR_BUS_INVALID_MESSAGE and counts them', () => {
    const bus = new MessageBus();
    const bad: unknown[] = [
      { type: '', from: 't', payload: null },
      { type: 'x', from: 't', priority: 4, payload: null },
      { type: 'x', from: 't', priority: 1.5, payload: null },
      { type: 'x', from: 't', to: '', payload: null },
      { type: 'x', from: 't', at: Number.NaN, payload: null },
      { type: 42, from: 't', payload: null },
    ];
    for (const input of bad) {
      expect(() => bus.publish(input as never)).toThrow(
        expect.objectContaining({ code: 'PFM_ERR_BUS_INVALID_MESSAGE' }),
      );
    }
    expect(bus.getStats().invalid).toBe(bad.length);
    expect(bus.getStats().published).toBe(0);
  });

  it('rejects invalid options with PFM_ERR_BUS_INVALID_OPTION naming the option', () => {
    expect(() => new MessageBus({ maxQueueSize: 0 })).toThrow(/maxQueueSize/);
    expect(() => new MessageBus({ sliceMs: -1 })).toThrow(/sliceMs/);
    expect(() => new MessageBus({ timingEvery: 1.5 })).toThrow(/timingEvery/);
  });
});
