/** The OSC adapter's Prometheus metrics, read from its counters at scrape time. */
import { Gauge, type Registry } from 'prom-client';
import { mirrorCounter as mirror } from '../../daemon/kernel/metrics-mirror.js';
import type { OscAdapter } from './osc-adapter.js';

/** Registers the adapter's metrics: per listener, per target, and adapter-wide. */
export function registerOscMetrics(registry: Registry, adapter: OscAdapter): void {
  const perListener = (field: 'packetsIn' | 'decodeErrors' | 'droppedAllowlist' | 'droppedOversize') => () =>
    adapter
      .listenerStats()
      .map((l) => ({ labels: { listener: `${l.protocol}://${l.host}:${l.port}` }, value: l[field] }));
  mirror(
    registry,
    'performia_osc_packets_in_total',
    'OSC packets received',
    ['listener'],
    perListener('packetsIn'),
  );
  mirror(
    registry,
    'performia_osc_decode_errors_total',
    'Malformed OSC packets',
    ['listener'],
    perListener('decodeErrors'),
  );
  mirror(
    registry,
    'performia_osc_dropped_allowlist_total',
    'OSC packets from sources outside osc.allow',
    ['listener'],
    perListener('droppedAllowlist'),
  );
  mirror(
    registry,
    'performia_osc_dropped_oversize_total',
    'OSC packets over osc.maxDatagramBytes',
    ['listener'],
    perListener('droppedOversize'),
  );
  const perTarget = (field: 'packetsOut' | 'sendErrors') => () =>
    adapter.targetStats().map((t) => ({ labels: { target: t.name }, value: t[field] }));
  mirror(
    registry,
    'performia_osc_packets_out_total',
    'OSC packets sent',
    ['target'],
    perTarget('packetsOut'),
  );
  mirror(
    registry,
    'performia_osc_send_errors_total',
    'OSC sends that failed',
    ['target'],
    perTarget('sendErrors'),
  );
  mirror(registry, 'performia_osc_events_total', 'OSC adapter events', ['event'], () =>
    Object.entries(adapter.counters).map(([event, value]) => ({ labels: { event }, value })),
  );
  new Gauge({
    name: 'performia_osc_listener_bound',
    help: 'OSC listener bound (1) or not (0)',
    labelNames: ['listener'],
    registers: [registry],
    collect() {
      this.reset();
      for (const l of adapter.listenerStats())
        this.set({ listener: `${l.protocol}://${l.host}:${l.port}` }, l.state === 'bound' ? 1 : 0);
    },
  });
}
