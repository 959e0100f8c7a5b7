/**
 * The bus's options, lifecycle types and clock (split from message-bus.ts, which keeps the queue and
 * the dispatch loop).
 */
import { BusInvalidOptionError } from '../kernel/errors.js';
import type { CoalesceRule } from './coalesce.js';
import type { BusLogger } from './rate-limited-log.js';

/** Options of a {@link MessageBus}. Every one has a default suited to live use. */
export interface MessageBusOptions {
  /** Most messages queued at once, all lanes together. Default 100,000. */
  maxQueueSize?: number;
  /** Longest stretch of dispatching before yielding to the event loop, in ms. Default 1. */
  sliceMs?: number;
  /** A handler call longer than this is reported as slow, in ms. Default 2. */
  slowHandlerMs?: number;
  /** Handler calls between two clock reads in the dispatch loop. Default 64; 1 times every call. */
  timingEvery?: number;
  /** Publishes that share one clock read for their timestamps (see `stamp`). Default 64; 1 = exact. */
  clockReuse?: number;
  /** Publish cost is measured on one publish in this many. Default 256; 1 measures every publish. */
  publishCostSampleEvery?: number;
  /** Sliding window of the latency percentiles, in ms. Default 10,000. */
  statsWindowMs?: number;
  /** Coalescing rules by message type (never for discrete types such as notes and beats). */
  coalesce?: Readonly<Record<string, CoalesceRule>>;
  /** Default deadline of `stop({ drain: true })`, in ms. Default 5,000. */
  stopTimeoutMs?: number;
  /** Least interval between two warnings of the same kind, in ms. Default 1,000. */
  logIntervalMs?: number;
  /**
   * Called with every latency sample the bus takes (the same samples as the stats), e.g. to feed
   * Prometheus histograms. Must be cheap: it runs inside the dispatch loop.
   */
  observer?: SampleObserver;
  /** The bus clock, in ms. Default {@link systemClock}; tests inject a virtual one. */
  clock?: () => number;
  /** Where warnings go (a pino child logger). Default: nowhere. */
  logger?: BusLogger;
}

/** Receives the bus's latency samples, in ms. */
export interface SampleObserver {
  deliveryLatencyMs?(ms: number): void;
  publishCostMs?(ms: number): void;
}

/** Options of `stop`. */
export interface StopOptions {
  /** Deliver what is queued before stopping (default), or discard it. */
  drain?: boolean;
  /** Deadline of the drain, in ms; what is still queued then is discarded. */
  timeoutMs?: number;
}

/** What `stop` did with the queue. */
export interface StopReport {
  /** Messages delivered between the call to stop and its end. */
  drained: number;
  /** Messages discarded (no drain, a drain past its deadline, or a bus never started). */
  discarded: number;
  /** Discarded messages by priority (index = priority). */
  discardedByPriority: number[];
  /** True when a drain ran out of time. */
  timedOut: boolean;
}

/** A bus's lifecycle state. */
export type BusState = 'idle' | 'running' | 'stopping' | 'stopped';

/** The default bus clock: `performance.now()` offset to the Unix epoch, so one clock serves both
 * measuring and scheduling (PERFORMANCE-NOTES.md: never mix it with `process.hrtime`). */
const origin = performance.timeOrigin;
export const systemClock = (): number => origin + performance.now();

/** An option that must be an integer >= 1 (its default when absent). */
export function positiveInt(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) {
    throw new BusInvalidOptionError(`${name} must be an integer >= 1, got ${String(value)}`);
  }
  return value;
}

/** An option that must be a finite number > 0 (its default when absent). */
export function positiveNumber(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) {
    throw new BusInvalidOptionError(`${name} must be a number > 0, got ${String(value)}`);
  }
  return value;
}
