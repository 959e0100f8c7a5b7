/** The listening part's Prometheus metrics (`performia_listen_*`). */
import { Gauge, Histogram, type Registry } from 'prom-client';
import { mirrorCounter } from '../../../daemon/kernel/metrics-mirror.js';
import type { ListenAdapter } from './listen-adapter.js';

/** Buckets of the sound-in → bus latency, seconds: the analysis window puts most between 10 and 40 ms. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.015, 0.02, 0.025, 0.03, 0.04, 0.05, 0.075, 0.1, 0.2, 0.5];

/** Registers the part's metrics. */
export function registerListenMetrics(registry: Registry, adapter: ListenAdapter): void {
  mirrorCounter(
    registry,
    'performia_listen_events_total',
    'Listening: detections published (pitch, onset, tempo), refused by the bus, input failures',
    ['event'],
    () => Object.entries(adapter.counters).map(([event, value]) => ({ labels: { event }, value })),
  );
  const latency = new Histogram({
    name: 'performia_listen_latency_seconds',
    help: 'Sound in → message on the bus, by detection (tempo: from its last onset decided)',
    labelNames: ['kind'],
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  adapter.onLatency = (kind, ms) => latency.observe({ kind }, ms / 1000);
  new Gauge({
    name: 'performia_listen_input_peak_dbfs',
    help: 'Loudest sample of the audio input over the last second, dBFS (-120: silence or no input)',
    registers: [registry],
    collect() {
      const level = adapter.health().details?.level as { peakDb: number | null } | null | undefined;
      this.set(level?.peakDb ?? -120);
    },
  });
  new Gauge({
    name: 'performia_listen_up',
    help: '1 while the audio input is being listened to, 0 while it is missing (or a file input ended)',
    registers: [registry],
    collect() {
      this.set(adapter.listening ? 1 : 0);
    },
  });
}
