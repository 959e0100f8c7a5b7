/** The OSC adapter's Prometheus metrics, read from its counters at scrape time. */
import { Gauge, type Registry } from 'prom-client';
import { mirrorCounter as mirror } from '../../daemon/kernel/metrics-mirror.js';
import { PACKET_OUTCOMES } from './listeners.js';
import type { OscAdapter } from './osc-adapter.js';

/** Registers the adapter's metrics: per listener, per target, and adapter-wide. */
export function registerOscMetrics(registry: Registry, adapter: OscAdapter): void {
  const label = (l: { protocol: string; host: string; port: number }) =>
    `${l.protocol}://${l.host}:${l.port}`;
  const perListener = (field: 'packetsIn' | 'decodeErrors' | 'droppedAllowlist' | 'droppedOversize') => () =>
    adapter.listenerStats().map((l) => ({ labels: { listener: label(l) }, value: l[field] }));
  mirror(
    registry,
    'performia_osc_packets_in_total',
    'OSC packets received',
    ['listener'],
    perListener('packetsIn'),
  );
  mirror(registry, 'performia_osc_bytes_in_total', 'OSC bytes received', ['listener'], () =>
    adapter.listenerStats().map((l) => ({ labels: { listener: label(l) }, value: l.bytesIn })),
  );
  // Every packet in performia_osc_packets_in_total ends in exactly one outcome (issue #10). A TCP
  // listener's droppedAllowlist counts refused connections, which bring no packet: left out here.
  mirror(
    registry,
    'performia_osc_packet_outcomes_total',
    'OSC packets received, by how they ended (they sum to performia_osc_packets_in_total)',
    ['listener', 'outcome'],
    () =>
      adapter.listenerStats().flatMap((l) =>
        PACKET_OUTCOMES.filter((o) => l.protocol === 'udp' || o !== 'droppedAllowlist').map((outcome) => ({
          labels: { listener: label(l), outcome },
          value: l[outcome],
        })),
      ),
  );
  mirror(
    registry,
    'performia_osc_kernel_drops_total',
    'Datagrams the kernel dropped for a UDP listener, its receive buffer full (Linux /proc/net/udp; absent when unknown)',
    ['listener'],
    () =>
      adapter
        .listenerStats()
        .flatMap((l) =>
          typeof l.kernelDrops === 'number' ? [{ labels: { listener: label(l) }, value: l.kernelDrops }] : [],
        ),
  );
  mirror(
    registry,
    'performia_osc_tcp_connections_closed_total',
    'OSC TCP connections closed by the listener: their stream could not be read',
    ['listener'],
    () =>
      adapter
        .listenerStats()
        .flatMap((l) =>
          l.connectionsClosed === undefined
            ? []
            : [{ labels: { listener: label(l) }, value: l.connectionsClosed }],
        ),
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
      for (const l of adapter.listenerStats()) this.set({ listener: label(l) }, l.state === 'bound' ? 1 : 0);
    },
  });
}
