import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type BusEvents, type BusLogger, MessageBus } from '../../../daemon/bus/index.js';
import { busyWait, idle } from '../../helpers/bus.js';

let bus: MessageBus;
afterEach(async () => {
  await bus?.stop({ drain: false });
});

function memoryLogger(): BusLogger & { lines: { level: string; obj: object; msg?: string }[] } {
  const lines: { level: string; obj: object; msg?: string }[] = [];
  const at = (level: string) => (obj: object, msg?: string) => {
    lines.push({ level, obj, msg });
  };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

describe('handler isolation', () => {
  it('counts and logs a throwing handler with the message id; the others still get the message', async () => {
    const logger = memoryLogger();
    bus = new MessageBus({ logger });
    const errors: BusEvents['handlerError'][] = [];
    bus.on('handlerError', (e) => errors.push(e));
    const got: string[] = [];
    bus.subscribe('x', () => {
      got.push('before');
    });
    bus.subscribe(
      'x',
      () => {
        throw new Error('boom');
      },
      { name: 'faulty' },
    );
    bus.subscribe('x', () => {
      got.push('after');
    });
    await bus.start();
    const m = bus.publish({ type: 'x', from: 't', payload: null });
    await idle(bus);
    expect(got).toEqual(['before', 'after']);
    expect(bus.getStats().handlerErrors).toBe(1);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.subscriber).toBe('faulty');
    expect(errors[0]?.message.id).toBe(m.id);
    expect(errors[0]?.error.message).toBe('boom');
    const line = logger.lines.find((l) => l.level === 'error');
    expect(line?.obj).toMatchObject({ code: 'PFM_ERR_BUS_HANDLER', messageId: m.id, subscriber: 'faulty' });
    expect(bus.getStats().subscribers.find((s) => s.name === 'faulty')?.errors).toBe(1);
  });

  it('counts a rejecting async handler without losing later messages', async () => {
    bus = new MessageBus();
    const got: number[] = [];
    bus.subscribe('x', async (m) => {
      await Promise.resolve();
      if (m.payload === 2) throw new Error('async boom');
    });
    bus.subscribe('x', (m) => {
      got.push(m.payload as number);
    });
    await bus.start();
    for (let i = 1; i <= 3; i++) bus.publish({ type: 'x', from: 't', payload: i });
    await idle(bus);
    await new Promise((r) => setTimeout(r, 5));
    expect(got).toEqual([1, 2, 3]);
    expect(bus.getStats().handlerErrors).toBe(1);
  });

  it('turns a non-Error throw into an Error', async () => {
    bus = new MessageBus();
    const errors: Error[] = [];
    bus.on('handlerError', (e) => errors.push(e.error));
    bus.subscribe('x', () => {
      throw 'a string';
    });
    await bus.start();
    bus.publish({ type: 'x', from: 't', payload: null });
    await idle(bus);
    expect(errors[0]).toBeInstanceOf(Error);
    expect(errors[0]?.message).toBe('a string');
  });

  it('rate-limits the error log of a handler that fails on every message', async () => {
    const logger = memoryLogger();
    bus = new MessageBus({ logger, logIntervalMs: 60_000 });
    bus.subscribe('x', () => {
      throw new Error('always');
    });
    await bus.start();
    for (let i = 0; i < 1_000; i++) bus.publish({ type: 'x', from: 't', payload: i });
    await idle(bus);
    expect(bus.getStats().handlerErrors).toBe(1_000);
    expect(logger.lines.filter((l) => l.level === 'error')).toHaveLength(1);
  });

  it('reports a handler slower than the budget, by name, and not the fast ones', async () => {
    const logger = memoryLogger();
    bus = new MessageBus({ logger, slowHandlerMs: 5, timingEvery: 1 });
    const slow: BusEvents['slowHandler'][] = [];
    bus.on('slowHandler', (e) => slow.push(e));
    bus.subscribe('x', () => {}, { name: 'fast' });
    bus.subscribe(
      'x',
      (m) => {
        if (m.payload === 2) busyWait(15);
      },
      { name: 'sluggish' },
    );
    await bus.start();
    for (let i = 1; i <= 3; i++) bus.publish({ type: 'x', from: 't', payload: i });
    await idle(bus);
    expect(bus.getStats().slowHandlers).toBe(1);
    expect(slow).toHaveLength(1);
    expect(slow[0]?.subscribers).toEqual(['sluggish']);
    expect(slow[0]?.elapsedMs).toBeGreaterThanOrEqual(15);
    expect(bus.getStats().subscribers.find((s) => s.name === 'sluggish')?.slow).toBe(1);
    expect(logger.lines.some((l) => l.level === 'warn' && /budget/.test(l.msg ?? ''))).toBe(true);
  });

  it('with timing sampled every 16 calls, names the subscribers of the slow block', async () => {
    bus = new MessageBus({ slowHandlerMs: 5, timingEvery: 16 });
    const slow: BusEvents['slowHandler'][] = [];
    bus.on('slowHandler', (e) => slow.push(e));
    bus.subscribe(
      'x',
      (m) => {
        if (m.payload === 5) busyWait(10);
      },
      { name: 'only' },
    );
    await bus.start();
    for (let i = 0; i < 40; i++) bus.publish({ type: 'x', from: 't', payload: i });
    await idle(bus);
    expect(slow).toHaveLength(1);
    expect(slow[0]?.subscribers).toEqual(['only']);
    expect(slow[0]?.calls).toBeLessThanOrEqual(16);
  });

  it('isolates a bus-event listener that throws', async () => {
    bus = new MessageBus();
    bus.on('handlerError', () => {
      throw new Error('listener bug');
    });
    const got: number[] = [];
    bus.subscribe('x', () => {
      throw new Error('h');
    });
    bus.subscribe('x', (m) => {
      got.push(m.payload as number);
    });
    await bus.start();
    bus.publish({ type: 'x', from: 't', payload: 1 });
    bus.publish({ type: 'x', from: 't', payload: 2 });
    await idle(bus);
    expect(got).toEqual([1, 2]);
  });
});

describe('a stats observer that throws', () => {
  it('is counted and logged; every message is still delivered', async () => {
    const logger = memoryLogger();
    bus = new MessageBus({
      logger,
      timingEvery: 1,
      publishCostSampleEvery: 1,
      observer: {
        deliveryLatencyMs: () => {
          throw new Error('histogram broke');
        },
        publishCostMs: () => {
          throw new Error('histogram broke');
        },
      },
    });
    const got: number[] = [];
    bus.subscribe('tick', (m) => {
      got.push((m.payload as { n: number }).n);
    });
    await bus.start();
    for (let n = 0; n < 20; n++) bus.publish({ type: 'tick', payload: { n } });
    await idle(bus);
    expect(got).toEqual([...Array(20).keys()]);
    expect(bus.observerErrors).toBeGreaterThanOrEqual(20);
    expect(logger.lines.some((l) => l.msg === 'bus stats observer failed')).toBe(true);
  });
});

describe('a bus slice that throws (a bug in the bus itself, planted in its router)', () => {
  it('surfaces as an uncaught exception and leaves the bus consistent and delivering', async () => {
    const script = join(import.meta.dirname, '..', '..', 'fixtures', 'bus-slice-throws.mjs');
    const out = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, [script], { timeout: 20_000 }, (err, stdout) =>
        err ? reject(err) : resolve(stdout),
      );
    });
    const r = JSON.parse(out) as {
      uncaught: string[];
      got: number[];
      pending: number;
      published: number;
      report: { discarded: number; timedOut: boolean };
    };
    // Both errors surfaced: the regular slice's and the urgent slice's.
    expect(r.uncaught).toEqual(['bug at 2', 'bug at 100']);
    // The messages being routed when the bug struck are gone; everything around them arrived.
    expect(r.got).toEqual([0, 1, 3, 4, 5, 6, 7, 8, 9]);
    expect(r.pending).toBe(0);
    expect(r.published).toBe(11);
    expect(r.report).toMatchObject({ discarded: 0, timedOut: false });
  });
});
