/**
 * bus.throughput: publish + deliver, streamed. A producer publishes BATCH messages per event-loop turn
 * (then setImmediate for the next batch) while the queue dispatches; the clock runs from the first
 * publish to the last handler call. Three contenders in the same process: the bus, a bare 4-FIFO and
 * Node's EventEmitter. Each producer loop is written out on its own (no shared callback) so V8 inlines
 * each one the same way.
 */
import { EventEmitter } from 'node:events';
import { MessageBus, Priority } from '../daemon/bus/index.js';
import { type BenchMessage, benchMessage, FourFifo } from './bare-fifo.js';
import type { Figure, RunResult } from './types.js';
import { settle, until } from './util.js';

const TOTAL = 1_000_000;
const WARMUP = 200_000;
const BATCH = 1_000;
const ROUNDS = 3;
const PAYLOAD = { value: 1 };

/** Messages per second over `n` messages through one contender (which lives across calls). */
type Rate = (n: number) => Promise<number>;

/**
 * The bus (default options, stats on). One bus serves every round, as in the daemon, whose bus lives
 * as long as the process: a fresh bus per round, collected by the full GC between rounds, makes V8
 * throw away the optimized code tied to its objects (~16 deoptimizations, "weak objects"), and the
 * round measures re-optimization rather than the bus. The baselines live across rounds the same way.
 */
async function busContender(): Promise<Rate> {
  const bus = new MessageBus({ maxQueueSize: 2_000_000 });
  let got = 0;
  let want = 0;
  let endedAt = 0;
  bus.subscribe('tick', () => {
    if (++got === want) endedAt = performance.now();
  });
  await bus.start();
  return async (n) => {
    got = 0;
    want = n;
    endedAt = 0;
    let sent = 0;
    const produce = (): void => {
      const end = Math.min(sent + BATCH, n);
      for (; sent < end; sent++) {
        bus.publish({ type: 'tick', from: 'bench', priority: Priority.NORMAL, payload: PAYLOAD });
      }
      if (sent < n) setImmediate(produce);
    };
    const t0 = performance.now();
    produce();
    const t1 = await until(() => endedAt);
    return (n / (t1 - t0)) * 1000;
  };
}

/** The same through the bare 4-FIFO. */
async function fifoContender(): Promise<Rate> {
  let got = 0;
  let want = 0;
  let endedAt = 0;
  const fifo = new FourFifo((_m: BenchMessage) => {
    if (++got === want) endedAt = performance.now();
  });
  let id = 0;
  return async (n) => {
    got = 0;
    want = n;
    endedAt = 0;
    const last = id + n;
    const produce = (): void => {
      const end = Math.min(id + BATCH, last);
      while (id < end) fifo.push(benchMessage(++id, 'tick', Priority.NORMAL, PAYLOAD));
      if (id < last) setImmediate(produce);
    };
    const t0 = performance.now();
    produce();
    const t1 = await until(() => endedAt);
    return (n / (t1 - t0)) * 1000;
  };
}

/** The same through an EventEmitter with one listener: dispatch happens inside emit, no queue. */
async function emitterContender(): Promise<Rate> {
  const emitter = new EventEmitter();
  let got = 0;
  let want = 0;
  let endedAt = 0;
  emitter.on('tick', (_m: BenchMessage) => {
    if (++got === want) endedAt = performance.now();
  });
  let id = 0;
  return async (n) => {
    got = 0;
    want = n;
    endedAt = 0;
    const last = id + n;
    const produce = (): void => {
      const end = Math.min(id + BATCH, last);
      while (id < end) emitter.emit('tick', benchMessage(++id, 'tick', Priority.NORMAL, PAYLOAD));
      if (id < last) setImmediate(produce);
    };
    const t0 = performance.now();
    produce();
    const t1 = await until(() => endedAt);
    return (n / (t1 - t0)) * 1000;
  };
}

/** Median of a few numbers. */
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
};

/**
 * Every contender is warmed up first (JIT, and the young generation grown to its working size), then
 * timed ROUNDS times in turn, so none profits from running after the others; the median of its rounds.
 */
async function timeAll(factories: (() => Promise<Rate>)[]): Promise<number[]> {
  const contenders: Rate[] = [];
  for (const make of factories) contenders.push(await make());
  for (const rate of contenders) await rate(WARMUP);
  const rates: number[][] = contenders.map(() => []);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, rate] of contenders.entries()) {
      await settle();
      rates[i]?.push(await rate(TOTAL));
    }
  }
  return rates.map(median);
}

/**
 * Two baselines: the figure's baseline is the bare 4-FIFO (the goal's ratio is against it); the
 * EventEmitter rate goes in `extraBaselines` (printed and in the JSON's `extraBaselines`).
 */
export const throughput: Figure = {
  name: 'bus.throughput',
  unit: 'msg/s',
  baselineName: 'bare 4-FIFO',
  goal: '>= 5 M msg/s and ratio >= 0.5',
  met: (value, ratio) => value >= 5_000_000 && ratio >= 0.5,
  async run(): Promise<RunResult> {
    const [value, baseline, emitter] = (await timeAll([busContender, fifoContender, emitterContender])) as [
      number,
      number,
      number,
    ];
    return { value, baseline, extraBaselines: { EventEmitter: emitter } };
  },
};
