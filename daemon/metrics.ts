/**
 * Prometheus metrics (`GET /metrics`, prom-client): bus counters and queue depth read from the bus's
 * stats at scrape time, latency histograms fed with the bus's own latency samples, the state of every
 * part, and Node's process metrics. One registry per daemon (never prom-client's global one), so two
 * daemons in one test process do not collide.
 */
import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { MessageBus } from './bus/index.js';
import { PRIORITY_NAMES, type SampleObserver } from './bus/index.js';
import { mirrorCounter } from './kernel/metrics-mirror.js';
import type { PartState } from './kernel/part.js';

/** What the metrics read at scrape time. */
export interface MetricsSources {
  bus: () => MessageBus | undefined;
  parts: () => { name: string; kind: string; state: PartState }[];
  stream: () => {
    clients: number;
    dropped: number;
    /** Clients refused at each cap (issue #10); absent until the stream route creates it. */
    refused?: { maxClients: number; maxClientsPerAddress: number };
  };
  scheduler: () => { pending: number; ran: number; stalls: number; maxLateMs: number; maxStallMs: number };
}

const OUTCOMES = ['published', 'delivered', 'refused', 'evicted', 'coalesced', 'discarded'] as const;
const STATES: PartState[] = ['idle', 'starting', 'ok', 'degraded', 'failed', 'stopping', 'stopped'];
/** Seconds: 5 µs … 100 ms, where bus latency lives; slower goes to +Inf. */
const LATENCY_BUCKETS = [5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2, 0.1];

/** Builds the registry; give `observer` to the bus so its latency samples reach the histograms. */
export function createMetrics(sources: MetricsSources): { registry: Registry; observer: SampleObserver } {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'performia_' });
  const stats = () => sources.bus()?.getStats();

  mirrorCounter(
    registry,
    'performia_bus_messages_total',
    'Bus messages by priority and outcome',
    ['priority', 'outcome'],
    () => {
      const s = stats();
      if (s === undefined) return [];
      return PRIORITY_NAMES.flatMap((priority) =>
        OUTCOMES.map((outcome) => ({
          labels: { priority, outcome },
          value: s.byPriority[priority][outcome],
        })),
      );
    },
  );
  mirrorCounter(registry, 'performia_bus_handler_errors_total', 'Handlers that threw or rejected', [], () => {
    const s = stats();
    return s === undefined ? [] : [{ labels: {}, value: s.handlerErrors }];
  });
  mirrorCounter(
    registry,
    'performia_bus_slow_handlers_total',
    'Handler calls over the slow budget',
    [],
    () => {
      const s = stats();
      return s === undefined ? [] : [{ labels: {}, value: s.slowHandlers }];
    },
  );
  mirrorCounter(registry, 'performia_bus_invalid_total', 'Malformed messages refused at publish', [], () => {
    const s = stats();
    return s === undefined ? [] : [{ labels: {}, value: s.invalid }];
  });
  new Gauge({
    name: 'performia_bus_queue_depth',
    help: 'Queued messages per priority lane',
    labelNames: ['priority'],
    registers: [registry],
    collect() {
      const s = stats();
      if (s !== undefined) for (const p of PRIORITY_NAMES) this.set({ priority: p }, s.queueDepth[p]);
    },
  });
  new Gauge({
    name: 'performia_part_state',
    help: 'State of each adapter and agent (1 for the current state)',
    labelNames: ['part', 'kind', 'state'],
    registers: [registry],
    collect() {
      this.reset();
      for (const part of sources.parts()) {
        for (const state of STATES)
          this.set({ part: part.name, kind: part.kind, state }, part.state === state ? 1 : 0);
      }
    },
  });
  new Gauge({
    name: 'performia_stream_clients',
    help: 'Connected WebSocket /stream clients',
    registers: [registry],
    collect() {
      this.set(sources.stream().clients);
    },
  });
  mirrorCounter(
    registry,
    'performia_stream_dropped_total',
    'WebSocket clients dropped for being too slow',
    [],
    () => [{ labels: {}, value: sources.stream().dropped }],
  );
  mirrorCounter(
    registry,
    'performia_stream_refused_total',
    'WebSocket clients refused at a cap (close code 1013), by the cap: api.stream.<limit>',
    ['limit'],
    () => {
      const refused = sources.stream().refused;
      return [
        { labels: { limit: 'maxClients' }, value: refused?.maxClients ?? 0 },
        { labels: { limit: 'maxClientsPerAddress' }, value: refused?.maxClientsPerAddress ?? 0 },
      ];
    },
  );
  mirrorCounter(registry, 'performia_scheduler_runs_total', 'Timed events run by the scheduler', [], () => [
    { labels: {}, value: sources.scheduler().ran },
  ]);
  mirrorCounter(
    registry,
    'performia_scheduler_stalls_total',
    'Scheduler timer turns in which the machine kept the process from running',
    [],
    () => [{ labels: {}, value: sources.scheduler().stalls }],
  );
  new Gauge({
    name: 'performia_scheduler_max_late_seconds',
    help: 'Latest a timed event has run after its time, since start',
    registers: [registry],
    collect() {
      this.set(sources.scheduler().maxLateMs / 1000);
    },
  });
  new Gauge({
    name: 'performia_scheduler_pending',
    help: 'Timed events waiting',
    registers: [registry],
    collect() {
      this.set(sources.scheduler().pending);
    },
  });
  const delivery = new Histogram({
    name: 'performia_bus_delivery_latency_seconds',
    help: 'Publish to handler start (sampled at the dispatch loop clock reads)',
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const cost = new Histogram({
    name: 'performia_bus_publish_cost_seconds',
    help: 'Cost of one publish call (sampled)',
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const observer: SampleObserver = {
    deliveryLatencyMs: (ms) => delivery.observe(ms / 1000),
    publishCostMs: (ms) => cost.observe(ms / 1000),
  };
  return { registry, observer };
}
