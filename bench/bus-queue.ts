/**
 * What publishing and queueing cost: bus.publish_ns (time of one publish with a shallow queue) and
 * bus.bytes_per_queued_message (heap held by a queued message).
 */
import { MessageBus, Priority } from '../daemon/bus/index.js';
import { type BenchMessage, benchMessage } from './bare-fifo.js';
import type { Figure, RunResult } from './types.js';
import { collect, median, nextTurn } from './util.js';

const PAYLOAD = { value: 1 };
const PUBLISH_BATCH = 1_000;
const WARM_BATCHES = 100;
const TIMED_BATCHES = 500;
const QUEUED = 100_000;

/** ns per publish: batches of PUBLISH_BATCH timed together, the bus draining between batches. */
async function busPublishNs(): Promise<number> {
  const bus = new MessageBus();
  bus.subscribe('tick', () => undefined);
  await bus.start();
  const samples: number[] = [];
  for (let b = 0; b < WARM_BATCHES + TIMED_BATCHES; b++) {
    const t0 = performance.now();
    for (let i = 0; i < PUBLISH_BATCH; i++) {
      bus.publish({ type: 'tick', from: 'bench', priority: Priority.NORMAL, payload: PAYLOAD });
    }
    const t1 = performance.now();
    if (b >= WARM_BATCHES) samples.push(((t1 - t0) * 1e6) / PUBLISH_BATCH);
    // The bus queued its slice at the first publish, before this immediate: it drains first.
    await nextTurn();
  }
  await bus.stop();
  return median(samples);
}

/** The same shape of loop: build the message and push it into a plain array, emptied between batches. */
async function arrayPushNs(): Promise<number> {
  const queue: BenchMessage[] = [];
  const samples: number[] = [];
  let id = 0;
  for (let b = 0; b < WARM_BATCHES + TIMED_BATCHES; b++) {
    const t0 = performance.now();
    for (let i = 0; i < PUBLISH_BATCH; i++) queue.push(benchMessage(++id, 'tick', Priority.NORMAL, PAYLOAD));
    const t1 = performance.now();
    if (b >= WARM_BATCHES) samples.push(((t1 - t0) * 1e6) / PUBLISH_BATCH);
    queue.length = 0;
    await nextTurn();
  }
  return median(samples);
}

export const publishNs: Figure = {
  name: 'bus.publish_ns',
  unit: 'ns',
  baselineName: 'create + array push',
  goal: '< 150 ns',
  met: (value) => value < 150,
  async run(): Promise<RunResult> {
    const value = await busPublishNs();
    const baseline = await arrayPushNs();
    return { value, baseline };
  },
};

function heapUsed(): number {
  collect();
  return process.memoryUsage().heapUsed;
}

/**
 * Heap per message queued in a bus that is not started, so everything stays queued. Each message has
 * its own small payload `{ seq }`, and the payload counts: a queued message holds its payload alive.
 * The bus is built (and publish compiled on a throwaway bus) before the first reading, so only the
 * queued messages and the lane's growth are measured.
 */
function busBytes(): number {
  const warm = new MessageBus({ maxQueueSize: 10_000 });
  for (let i = 0; i < 5_000; i++) warm.publish({ type: 'tick', from: 'bench', payload: { seq: i } });
  const bus = new MessageBus({ maxQueueSize: 2 * QUEUED });
  const before = heapUsed();
  for (let i = 0; i < QUEUED; i++) {
    bus.publish({ type: 'tick', from: 'bench', priority: Priority.NORMAL, payload: { seq: i } });
  }
  const after = heapUsed();
  const pending = bus.getStats().pending;
  if (pending !== QUEUED) throw new Error(`expected ${QUEUED} queued messages, the bus has ${pending}`);
  return (after - before) / QUEUED;
}

/** The same messages (numeric id, own payload) kept in a plain array. */
function arrayBytes(): number {
  const before = heapUsed();
  const queue: BenchMessage[] = [];
  for (let i = 0; i < QUEUED; i++) queue.push(benchMessage(i + 1, 'tick', Priority.NORMAL, { seq: i }));
  const after = heapUsed();
  if (queue.length !== QUEUED) throw new Error('array lost messages');
  return (after - before) / QUEUED;
}

export const bytesPerQueuedMessage: Figure = {
  name: 'bus.bytes_per_queued_message',
  unit: 'B',
  baselineName: 'messages in a plain array',
  goal: '< 256 B',
  met: (value) => value < 256,
  async run(): Promise<RunResult> {
    const value = busBytes();
    const baseline = arrayBytes();
    return { value, baseline };
  },
};
