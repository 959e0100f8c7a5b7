/**
 * The shape of `MessageBus.getStats()`: numeric totals, the same per priority, queue depth per lane,
 * handler trouble, and publish cost / delivery latency percentiles (microseconds, sliding window).
 */
import type { LatencySummary } from './latency-window.js';
import { PRIORITY_NAMES, type PriorityName } from './messages.js';
import type { SubscriberInfo } from './router.js';

/** One counter per priority, indexed by priority value. */
export type PriorityCounters = [number, number, number, number];

/** Message counts of one priority (or of all). */
export interface MessageCounts {
  published: number;
  delivered: number;
  refused: number;
  evicted: number;
  coalesced: number;
  discarded: number;
  pending: number;
}

/** Everything the bus measures. */
export interface BusStats extends MessageCounts {
  state: string;
  /** Messages refused as malformed before they had a priority (PFM_ERR_BUS_INVALID_MESSAGE). */
  invalid: number;
  maxQueueSize: number;
  byPriority: Record<PriorityName, MessageCounts>;
  /** Queued messages per lane. */
  queueDepth: Record<PriorityName, number>;
  handlerCalls: number;
  handlerErrors: number;
  slowHandlers: number;
  /** Delivered messages that no subscriber took. */
  unrouted: number;
  subscribers: SubscriberInfo[];
  /** Cost of one publish call (sampled), µs. */
  publishCostUs: LatencySummary;
  /** Publish to handler start (sampled at the loop's clock reads), µs. */
  deliveryLatencyUs: LatencySummary;
}

/** The raw figures the bus hands over. */
export interface RawStats {
  state: string;
  maxQueueSize: number;
  published: PriorityCounters;
  delivered: PriorityCounters;
  refused: PriorityCounters;
  evicted: PriorityCounters;
  coalesced: PriorityCounters;
  discarded: PriorityCounters;
  depth: number[];
  invalid: number;
  handlerCalls: number;
  handlerErrors: number;
  slowHandlers: number;
  unrouted: number;
  subscribers: SubscriberInfo[];
  publishCost: LatencySummary;
  deliveryLatency: LatencySummary;
}

function countsAt(raw: RawStats, p: number): MessageCounts {
  return {
    published: raw.published[p]!,
    delivered: raw.delivered[p]!,
    refused: raw.refused[p]!,
    evicted: raw.evicted[p]!,
    coalesced: raw.coalesced[p]!,
    discarded: raw.discarded[p]!,
    pending: raw.depth[p]!,
  };
}

export function buildStats(raw: RawStats): BusStats {
  const per = PRIORITY_NAMES.map((_, p) => countsAt(raw, p));
  const sum = (k: keyof MessageCounts): number => per.reduce((a, c) => a + c[k], 0);
  return {
    state: raw.state,
    published: sum('published'),
    delivered: sum('delivered'),
    refused: sum('refused'),
    evicted: sum('evicted'),
    coalesced: sum('coalesced'),
    discarded: sum('discarded'),
    pending: sum('pending'),
    invalid: raw.invalid,
    maxQueueSize: raw.maxQueueSize,
    byPriority: Object.fromEntries(PRIORITY_NAMES.map((n, p) => [n, per[p]])) as Record<
      PriorityName,
      MessageCounts
    >,
    queueDepth: Object.fromEntries(PRIORITY_NAMES.map((n, p) => [n, raw.depth[p]])) as Record<
      PriorityName,
      number
    >,
    handlerCalls: raw.handlerCalls,
    handlerErrors: raw.handlerErrors,
    slowHandlers: raw.slowHandlers,
    unrouted: raw.unrouted,
    subscribers: raw.subscribers,
    publishCostUs: raw.publishCost,
    deliveryLatencyUs: raw.deliveryLatency,
  };
}
