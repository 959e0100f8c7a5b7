/** Small helpers shared by the figures and the runner. */
import { execFileSync } from 'node:child_process';
import { applyRealtime } from '../daemon/realtime.js';
import type { RunResult } from './types.js';

/** Median of a non-empty list (mean of the two middle values for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of an empty list');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The p-th percentile (0..100, nearest rank) of a typed array; sorts it in place. */
export function percentile(values: Float64Array, p: number): number {
  if (values.length === 0) throw new Error('percentile of an empty array');
  values.sort();
  const rank = Math.min(values.length - 1, Math.max(0, Math.ceil((p / 100) * values.length) - 1));
  return values[rank]!;
}

/** Resolves after the current event-loop turn's immediates (lets a bus slice queued before it run). */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A promise with its resolve function (Promise.withResolvers is Node 22+). */
export function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Full collection, twice: the first pass can leave objects that only a second one frees. */
export function collect(): void {
  const gc = globalThis.gc;
  if (typeof gc !== 'function') {
    throw new Error('global.gc is missing: run the bench with `node --expose-gc` (npm run bench does)');
  }
  gc();
  gc();
}

/**
 * A full collection, then a pause: after gc() V8 queues follow-up work (sweeping, finalization) that
 * delays the next event-loop turn by ~100 µs here, which would be charged to whatever is timed next.
 */
export async function settle(): Promise<void> {
  collect();
  await new Promise((resolve) => setTimeout(resolve, 20));
}

/**
 * Polls `get` once per event-loop turn until it gives a time (0 = not yet). Handlers under measure
 * only note the time: resolving a promise made for the round from a handler would let V8 inline that
 * round's resolve function into the dispatch loop, and throw the loop's code away once the function is
 * collected.
 */
export async function until(get: () => number): Promise<number> {
  for (let t = get(); ; t = get()) {
    if (t !== 0) return t;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** |error| in µs, for percentiles (timing figures: errors in ms of each event against its ideal time). */
export function jitterUs(errorMs: Float64Array): Float64Array {
  return errorMs.map((e) => Math.abs(e) * 1000);
}

/**
 * Events later than `lateMs`, how many of those the scheduler reported a stall for (`stallMs`, per
 * event: the machine took the CPU away), and the longest stall reported.
 */
export function lateness(
  errorMs: Float64Array,
  stallMs: Float64Array,
  lateMs: number,
): { late: number; lateWithStall: number; maxStallMs: number } {
  let late = 0;
  let lateWithStall = 0;
  errorMs.forEach((e, i) => {
    if (e <= lateMs) return;
    late++;
    if (stallMs[i]! > 0) lateWithStall++;
  });
  return { late, lateWithStall, maxStallMs: stallMs.reduce((m, s) => Math.max(m, s), 0) };
}

/** What a run under real-time scheduling gave: its result, or why it could not run. */
export type RealtimeRun<T> = { result: T; problem?: undefined } | { result?: undefined; problem: string };

/**
 * Runs `work` with this process's event loop at SCHED_FIFO `priority`, as `daemon.realtimePriority`
 * does for the daemon (daemon/realtime.ts, the same call), and puts it back to normal priority after.
 * Where that is not permitted, `work` does not run and the problem says why.
 */
async function underRealtime<T>(priority: number, work: () => Promise<T>): Promise<RealtimeRun<T>> {
  const applied = applyRealtime(priority);
  if (applied.problem !== undefined) return { problem: applied.problem };
  try {
    return { result: await work() };
  } finally {
    execFileSync('chrt', ['--other', '--pid', '0', String(process.pid)], { stdio: 'ignore' });
  }
}

/**
 * The figures of a timing run made under real-time priority ({@link underRealtime}), as `rt_*` details:
 * p99 and p50 of |error|, the last event's signed error and how many came over `lateMs` late; only
 * `rt_available: 0` when the machine refused it. `what` names the events (`beat`, `tick`).
 */
function realtimeDetails(
  run: { errorMs: Float64Array; stallMs: Float64Array } | undefined,
  lateMs: number,
  what: string,
): Record<string, number> {
  if (run === undefined) return { rt_available: 0 };
  const us = jitterUs(run.errorMs);
  return {
    rt_available: 1,
    rt_p99_us: percentile(us, 99),
    rt_p50_us: percentile(us, 50),
    [`rt_last_${what}_error_us`]: run.errorMs[run.errorMs.length - 1]! * 1000,
    [`rt_${what}s_late_over_${lateMs}ms`]: lateness(run.errorMs, run.stallMs, lateMs).late,
  };
}

/** One run of a timing figure: each event's error (ms), the stall the scheduler saw, the CPU it cost. */
export interface TimingRun {
  errorMs: Float64Array;
  stallMs: Float64Array;
  cpuPct: number;
}

/**
 * The run of a timing figure (clock out, beats): the value's events, then the naive baseline's, then the
 * value's again under real-time priority, one after the other (each would delay the other's timers).
 * Returns the runs, and the figure with the details both figures report (`what` names the events).
 */
export async function timingFigure<T extends TimingRun, B extends TimingRun>(
  measure: () => Promise<T>,
  naive: () => Promise<B>,
  options: { what: string; lateMs: number; rtPriority: number },
): Promise<{ value: T; base: B; result: RunResult & { details: Record<string, number> } }> {
  await settle();
  const value = await measure();
  await settle();
  const base = await naive();
  await settle();
  const rt = await underRealtime(options.rtPriority, measure);
  const { what, lateMs } = options;
  const v = jitterUs(value.errorMs);
  const b = jitterUs(base.errorMs);
  const { late, lateWithStall, maxStallMs } = lateness(value.errorMs, value.stallMs, lateMs);
  const last = (run: TimingRun) => run.errorMs[run.errorMs.length - 1]! * 1000;
  const result = {
    value: percentile(v, 99),
    baseline: percentile(b, 99),
    details: {
      p50_us: percentile(v, 50),
      max_us: percentile(v, 100),
      [`last_${what}_error_us`]: last(value),
      baseline_p50_us: percentile(b, 50),
      [`baseline_last_${what}_error_us`]: last(base),
      [`${what}s`]: value.errorMs.length,
      [`${what}s_late_over_${lateMs}ms`]: late,
      [`${what}s_late_with_stall_seen`]: lateWithStall,
      max_stall_ms: maxStallMs,
      cpu_pct: value.cpuPct,
      baseline_cpu_pct: base.cpuPct,
      ...realtimeDetails(rt.result, lateMs, what),
    },
  };
  return { value, base, result };
}
