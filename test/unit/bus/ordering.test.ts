import { afterEach, describe, expect, it } from 'vitest';
import { type AnyMessage, MessageBus, Priority } from '../../../daemon/bus/index.js';
import { idle } from '../../helpers/bus.js';

let bus: MessageBus;
afterEach(async () => {
  await bus?.stop({ drain: false });
});

describe('dispatch order', () => {
  it('dispatches strictly by priority, FIFO within one priority', async () => {
    bus = new MessageBus();
    const seen: string[] = [];
    bus.subscribe('*', (m) => {
      seen.push(`${m.priority}:${(m.payload as { n: number }).n}`);
    });
    // Interleave priorities before start so the whole set is queued at once.
    const order = [3, 1, 2, 0, 3, 0, 2, 1, 3, 0] as const;
    order.forEach((p, n) => {
      bus.publish({ type: 'x', from: 'test', priority: p, payload: { n } });
    });
    await bus.start();
    await idle(bus);
    expect(seen).toEqual(['0:3', '0:5', '0:9', '1:1', '1:7', '2:2', '2:6', '3:0', '3:4', '3:8']);
  });

  it('keeps FIFO order within a priority across 10,000 messages and lane growth', async () => {
    bus = new MessageBus();
    const ids: number[] = [];
    bus.subscribe('seq', (m) => {
      ids.push(m.id);
    });
    await bus.start();
    const published: number[] = [];
    for (let i = 0; i < 10_000; i++) published.push(bus.publish({ type: 'seq', from: 't', payload: i }).id);
    await idle(bus);
    expect(ids).toEqual(published);
  });

  it('dispatches a CRITICAL message published behind 100,000 queued LOW ones next', async () => {
    bus = new MessageBus({ maxQueueSize: 200_000 });
    const seen: AnyMessage[] = [];
    let lowBefore = -1;
    let low = 0;
    bus.subscribe('flood', () => {
      low++;
    });
    bus.subscribe('alarm', (m) => {
      seen.push(m);
      lowBefore = low;
    });
    for (let i = 0; i < 100_000; i++)
      bus.publish({ type: 'flood', from: 't', priority: Priority.LOW, payload: i });
    bus.publish({ type: 'alarm', from: 't', priority: Priority.CRITICAL, payload: null });
    await bus.start();
    await idle(bus);
    expect(seen).toHaveLength(1);
    expect(lowBefore).toBe(0);
    expect(low).toBe(100_000);
  });

  it('dispatches a CRITICAL message published by a timer before the event loop turns, even during a flood', async () => {
    bus = new MessageBus({ maxQueueSize: 200_000 });
    const events: string[] = [];
    let lows = 0;
    bus.subscribe('flood', () => {
      lows++;
    });
    bus.subscribe('beat', () => {
      events.push('beat');
    });
    await bus.start();
    for (let i = 0; i < 100_000; i++)
      bus.publish({ type: 'flood', from: 't', priority: Priority.LOW, payload: i });
    const seen = await new Promise<{ lows: number; beatDone: boolean }>((resolve) => {
      setTimeout(() => {
        const before = lows;
        bus.publish({ type: 'beat', from: 'conductor', priority: Priority.CRITICAL, payload: null });
        setImmediate(() => events.push('next turn'));
        // Runs after the bus's own microtask: the beat must be delivered by then, within this task.
        queueMicrotask(() => resolve({ lows: before, beatDone: events.includes('beat') }));
      }, 0);
    });
    await idle(bus);
    expect(seen.beatDone).toBe(true);
    expect(events.slice(0, 2)).toEqual(['beat', 'next turn']);
    expect(seen.lows).toBeLessThan(100_000);
    expect(lows).toBe(100_000);
  });

  it('leaves a CRITICAL flood beyond one slice to the regular slices, so I/O still runs', async () => {
    bus = new MessageBus({ maxQueueSize: 300_000, sliceMs: 1 });
    let n = 0;
    bus.subscribe('urgent', () => {
      n++;
    });
    await bus.start();
    let atTimer = -1;
    setTimeout(() => {
      atTimer = n;
    }, 0);
    for (let i = 0; i < 200_000; i++)
      bus.publish({ type: 'urgent', from: 't', priority: Priority.CRITICAL, payload: i });
    await idle(bus);
    expect(n).toBe(200_000);
    expect(atTimer).toBeGreaterThan(0);
    expect(atTimer).toBeLessThan(200_000);
  });

  it('does not starve I/O when async CRITICAL handlers publish CRITICAL from their continuations', async () => {
    bus = new MessageBus({ maxQueueSize: 10_000 });
    let n = 0;
    let atTimer = -1;
    bus.subscribe('ping', async () => {
      await Promise.resolve();
      if (++n < 50_000) bus.publish({ type: 'ping', from: 't', priority: Priority.CRITICAL, payload: null });
    });
    await bus.start();
    setTimeout(() => {
      atTimer = n;
    }, 0);
    bus.publish({ type: 'ping', from: 't', priority: Priority.CRITICAL, payload: null });
    const end = Date.now() + 20_000;
    while (n < 50_000 && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
    expect(n).toBe(50_000);
    expect(atTimer).toBeGreaterThan(0);
    expect(atTimer).toBeLessThan(50_000);
  });

  it('lets a CRITICAL published by a handler overtake queued LOW messages', async () => {
    bus = new MessageBus();
    const seen: string[] = [];
    bus.subscribe('low', (m) => {
      seen.push(`low${m.payload as number}`);
      if (m.payload === 0)
        bus.publish({ type: 'urgent', from: 't', priority: Priority.CRITICAL, payload: null });
    });
    bus.subscribe('urgent', () => {
      seen.push('urgent');
    });
    for (let i = 0; i < 3; i++) bus.publish({ type: 'low', from: 't', priority: Priority.LOW, payload: i });
    await bus.start();
    await idle(bus);
    expect(seen).toEqual(['low0', 'urgent', 'low1', 'low2']);
  });

  it('uses the catalog priority when none is given, NORMAL for unknown types', () => {
    bus = new MessageBus();
    expect(
      bus.publish({ type: 'beat_event', from: 'c', payload: { beat: 1, bar: 1, bpm: 120, at: 5 } }).priority,
    ).toBe(Priority.CRITICAL);
    expect(
      bus.publish({ type: 'chord_change', from: 'c', payload: { chord: 'Am', bar: 2, at: 1 } }).priority,
    ).toBe(Priority.HIGH);
    expect(bus.publish({ type: 'analytics_report', from: 'a', payload: {} }).priority).toBe(Priority.LOW);
    expect(bus.publish({ type: 'my_wire_type', from: 'osc', payload: [1, 2] }).priority).toBe(
      Priority.NORMAL,
    );
  });

  it('fills id, timestamp, to and keeps at; ids increase', () => {
    bus = new MessageBus();
    const before = performance.timeOrigin + performance.now();
    const a = bus.publish({
      type: 'play_note',
      from: 'bass',
      payload: { note: 40, velocity: 90, duration: 0.5, channel: 1 },
      at: 123.5,
    });
    const b = bus.publish({ type: 'x', from: 'y', to: 'drums', payload: null });
    const after = performance.timeOrigin + performance.now();
    expect(b.id).toBeGreaterThan(a.id);
    expect(a.to).toBe('broadcast');
    expect(b.to).toBe('drums');
    expect(a.at).toBe(123.5);
    expect(a.timestamp).toBeGreaterThanOrEqual(before);
    expect(a.timestamp).toBeLessThanOrEqual(after);
    // Plain serializable data (record/replay, the WebSocket stream).
    expect(JSON.parse(JSON.stringify(a))).toEqual({ ...a });
  });
});
