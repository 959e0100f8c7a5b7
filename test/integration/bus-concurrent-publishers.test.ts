import { describe, expect, it } from 'vitest';
import { MessageBus, type Priority } from '../../daemon/bus/index.js';

// A port of the seed's validation-suite intent (seed/message-bus-implementation-summary.md:
// "0% message loss … all message IDs accounted for"), with concurrent async publishers.
describe('concurrent publishers', () => {
  it('accounts for every id of 10,000 messages from 10 concurrent publishers', async () => {
    const bus = new MessageBus();
    const received = new Map<number, string>();
    const perPublisherOrder = new Map<string, number[]>();
    bus.subscribe('*', (m) => {
      received.set(m.id, m.from);
      const seq = (m.payload as { seq: number }).seq;
      const list = perPublisherOrder.get(`${m.from}:${m.priority}`) ?? [];
      list.push(seq);
      perPublisherOrder.set(`${m.from}:${m.priority}`, list);
    });
    await bus.start();
    const publishedIds = new Set<number>();
    const publisher = async (n: number): Promise<void> => {
      for (let seq = 0; seq < 1_000; seq++) {
        const m = bus.publish({
          type: 'work',
          from: `publisher${n}`,
          priority: (n % 4) as Priority,
          payload: { seq },
        });
        publishedIds.add(m.id);
        // Interleave with the other publishers and with dispatch.
        if (seq % 7 === n % 7) await new Promise<void>((r) => setImmediate(r));
        else if (seq % 3 === 0) await Promise.resolve();
      }
    };
    await Promise.all(Array.from({ length: 10 }, (_, n) => publisher(n)));
    await bus.stop();
    expect(publishedIds.size).toBe(10_000);
    expect(received.size).toBe(10_000);
    for (const id of publishedIds) expect(received.has(id)).toBe(true);
    // FIFO within one priority holds per publisher.
    for (const order of perPublisherOrder.values()) expect(order).toEqual([...order].sort((a, b) => a - b));
    const s = bus.getStats();
    expect(s).toMatchObject({ published: 10_000, delivered: 10_000, refused: 0, evicted: 0, pending: 0 });
  });
});
