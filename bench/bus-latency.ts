/**
 * Latency figures: bus.critical_behind_flood_us (a CRITICAL message queued behind a LOW flood) and
 * bus.delivery_latency_p99_us (publish to handler under a steady offered load).
 */
import { MessageBus, Priority } from '../daemon/bus/index.js';
import { benchMessage, FourFifo, SingleFifo } from './bare-fifo.js';
import type { Figure, RunResult } from './types.js';
import { deferred, median, percentile, settle, until } from './util.js';

const PAYLOAD = { value: 1 };
const FLOOD = 100_000;
const FLOOD_REPEATS = 7;

/** One timing, µs from just after the CRITICAL publish: to its handler, and to the check phase. */
interface CriticalTiming {
  total: number;
  /** To an immediate queued before the flood: the event loop's own delay, GC work included. */
  loop: number;
}

/** Resolves with the time an immediate queued now runs: before any queue's immediate queued later. */
function checkPhaseProbe(): Promise<number> {
  return new Promise((resolve) => setImmediate(() => resolve(performance.now())));
}

/** One flood and its CRITICAL message through a contender that lives across repetitions. */
type CriticalOnce = () => Promise<CriticalTiming>;

/**
 * One bus for every repetition, as in the daemon, whose bus lives as long as the process: a fresh bus
 * per repetition measures V8 throwing away code tied to the previous bus's objects once they are
 * collected (~100 µs of deoptimization at the CRITICAL publish and its slice), not the bus.
 * Everything is published in one synchronous stretch on the running bus, so dispatch starts at the
 * next setImmediate, as for the baseline. The value is measured up to the handler's first line.
 */
async function busCritical(): Promise<CriticalOnce> {
  const bus = new MessageBus({ maxQueueSize: 2 * FLOOD });
  let alarm = deferred<number>();
  let drained = deferred<void>();
  let flooded = 0;
  bus.subscribe('flood', () => {
    if (++flooded === FLOOD) drained.resolve();
  });
  bus.subscribe('alarm', () => alarm.resolve(performance.now()));
  await bus.start();
  return async () => {
    alarm = deferred<number>();
    drained = deferred<void>();
    flooded = 0;
    const probe = checkPhaseProbe();
    for (let i = 0; i < FLOOD; i++) {
      bus.publish({ type: 'flood', from: 'bench', priority: Priority.LOW, payload: PAYLOAD });
    }
    bus.publish({ type: 'alarm', from: 'bench', priority: Priority.CRITICAL, payload: PAYLOAD });
    const t0 = performance.now();
    const t1 = await alarm.promise;
    const loop = (await probe) - t0;
    await drained.promise;
    return { total: (t1 - t0) * 1000, loop: loop * 1000 };
  };
}

/** The same through one FIFO: the CRITICAL message is dispatched after the whole flood. */
async function singleFifoCritical(): Promise<CriticalOnce> {
  let alarm = deferred<number>();
  const fifo = new SingleFifo((m) => {
    if (m.priority === Priority.CRITICAL) alarm.resolve(performance.now());
  });
  return async () => {
    alarm = deferred<number>();
    const probe = checkPhaseProbe();
    for (let i = 0; i < FLOOD; i++) fifo.push(benchMessage(i + 1, 'flood', Priority.LOW, PAYLOAD));
    fifo.push(benchMessage(FLOOD + 1, 'alarm', Priority.CRITICAL, PAYLOAD));
    const t0 = performance.now();
    const t1 = await alarm.promise;
    const loop = (await probe) - t0;
    return { total: (t1 - t0) * 1000, loop: loop * 1000 };
  };
}

/** Medians of FLOOD_REPEATS timings after one warm-up, each after a full collection. */
async function repeated(contender: () => Promise<CriticalOnce>): Promise<CriticalTiming> {
  const once = await contender();
  await once();
  const timings: CriticalTiming[] = [];
  for (let i = 0; i < FLOOD_REPEATS; i++) {
    await settle();
    timings.push(await once());
  }
  return { total: median(timings.map((t) => t.total)), loop: median(timings.map((t) => t.loop)) };
}

export const criticalBehindFlood: Figure = {
  name: 'bus.critical_behind_flood_us',
  unit: 'µs',
  baselineName: 'single FIFO',
  goal: '< 100 µs',
  met: (value) => value < 100,
  async run(): Promise<RunResult> {
    const bus = await repeated(busCritical);
    const fifo = await repeated(singleFifoCritical);
    return {
      value: bus.total,
      baseline: fifo.total,
      details: { event_loop_us: bus.loop, baseline_event_loop_us: fifo.loop },
    };
  },
};

const RATE_PER_MS = 100; // 100,000 msg/s offered
const LOAD_MS = 2_000;
const WARM_MS = 200;

interface SeqPayload {
  seq: number;
}

/**
 * One offered-load run: publish times and latencies in ms, indexed by sequence number. A class, so
 * that the handler's call target (`record`) is the same function in every run: a closure made per run
 * would be inlined into the dispatch loop and its code thrown away once the run is collected.
 */
class LoadRun {
  readonly publishedAt: Float64Array;
  readonly latency: Float64Array;
  private got = 0;
  /** When the last message was handled (0 until then). */
  finishedAt = 0;

  constructor(readonly total: number) {
    this.publishedAt = new Float64Array(total);
    this.latency = new Float64Array(total);
  }

  /** Called by the handler: records the latency of message `seq`. */
  record(seq: number): void {
    const now = performance.now();
    this.latency[seq] = now - this.publishedAt[seq]!;
    if (++this.got === this.total) this.finishedAt = now;
  }
}

/**
 * Offers RATE_PER_MS messages per ms for `ms`: a timer re-armed every ms sends however many messages
 * are due by now on an absolute schedule, so timer lateness does not lower the offered rate.
 */
function offer(ms: number, send: (seq: number) => void): Promise<void> {
  const total = ms * RATE_PER_MS;
  const done = deferred<void>();
  const start = performance.now();
  let sent = 0;
  const tick = (): void => {
    const due = Math.min(total, Math.floor((performance.now() - start) * RATE_PER_MS));
    while (sent < due) send(sent++);
    if (sent < total) setTimeout(tick, 1);
    else done.resolve();
  };
  setTimeout(tick, 1);
  return done.promise;
}

/** Offers `ms` of load to a contender and returns the latencies, ms by sequence number. */
type Load = (ms: number) => Promise<Float64Array>;

/**
 * Publish-to-handler latencies through the bus; the bench reads both times. One bus serves the warm-up
 * and the timed run, as in the daemon: a fresh bus for the timed run spent its first ~30 ms being
 * re-optimized (V8 drops code tied to the collected warm-up bus), which alone was 1.5 % of the
 * messages, enough to set the p99.
 */
async function busContender(): Promise<Load> {
  const bus = new MessageBus();
  let run = new LoadRun(0);
  bus.subscribe('tick', (m) => run.record((m.payload as SeqPayload).seq));
  await bus.start();
  return async (ms) => {
    const current = new LoadRun(ms * RATE_PER_MS);
    run = current;
    await offer(ms, (seq) => {
      current.publishedAt[seq] = performance.now();
      bus.publish({ type: 'tick', from: 'bench', priority: Priority.NORMAL, payload: { seq } });
    });
    await until(() => current.finishedAt);
    return current.latency;
  };
}

/** The same through the bare 4-FIFO, which lives across runs the same way. */
async function fifoContender(): Promise<Load> {
  let run = new LoadRun(0);
  const fifo = new FourFifo((m) => run.record((m.payload as SeqPayload).seq));
  return async (ms) => {
    const current = new LoadRun(ms * RATE_PER_MS);
    run = current;
    await offer(ms, (seq) => {
      current.publishedAt[seq] = performance.now();
      fifo.push(benchMessage(seq + 1, 'tick', Priority.NORMAL, { seq }));
    });
    await until(() => current.finishedAt);
    return current.latency;
  };
}

/** Warm-up run, full collection, timed run, on one contender; p50/p99/max in µs. */
async function loadPercentiles(contender: () => Promise<Load>): Promise<number[]> {
  const load = await contender();
  await load(WARM_MS);
  await settle();
  const latency = await load(LOAD_MS);
  return [50, 99, 100].map((p) => percentile(latency, p) * 1000);
}

export const deliveryLatencyP99: Figure = {
  name: 'bus.delivery_latency_p99_us',
  unit: 'µs',
  baselineName: 'bare 4-FIFO',
  goal: '< 200 µs',
  met: (value) => value < 200,
  async run(): Promise<RunResult> {
    const [p50 = NaN, p99 = NaN, max = NaN] = await loadPercentiles(busContender);
    const [baseP50 = NaN, baseP99 = NaN, baseMax = NaN] = await loadPercentiles(fifoContender);
    return {
      value: p99,
      baseline: baseP99,
      details: { p50_us: p50, max_us: max, baseline_p50_us: baseP50, baseline_max_us: baseMax },
    };
  },
};
