/** The MIDI adapter's Prometheus metrics (`performia_midi_*`), read from its counters at scrape time. */
import { Gauge, type Registry } from 'prom-client';
import { mirrorCounter as mirror } from '../../daemon/kernel/metrics-mirror.js';
import type { MidiAdapter } from './midi-adapter.js';

/** Registers the adapter's metrics: per endpoint (port or session) and adapter-wide. */
export function registerMidiMetrics(registry: Registry, adapter: MidiAdapter): void {
  const perEndpoint = (field: 'messagesIn' | 'messagesOut' | 'errors') => () =>
    Object.entries(adapter.endpointCounters()).map(([endpoint, c]) => ({
      labels: { endpoint },
      value: c[field],
    }));
  mirror(
    registry,
    'performia_midi_messages_in_total',
    'MIDI messages received',
    ['endpoint'],
    perEndpoint('messagesIn'),
  );
  mirror(
    registry,
    'performia_midi_messages_out_total',
    'MIDI messages sent',
    ['endpoint'],
    perEndpoint('messagesOut'),
  );
  mirror(
    registry,
    'performia_midi_errors_total',
    'Malformed MIDI or RTP-MIDI input',
    ['endpoint'],
    perEndpoint('errors'),
  );
  mirror(registry, 'performia_midi_events_total', 'MIDI adapter events', ['event'], () =>
    Object.entries(adapter.allCounters()).map(([event, value]) => ({ labels: { event }, value })),
  );
  new Gauge({
    name: 'performia_midi_held_notes',
    help: 'Notes sent and not yet released, per output endpoint',
    labelNames: ['endpoint'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [endpoint, n] of Object.entries(adapter.heldByEndpoint())) this.set({ endpoint }, n);
    },
  });
  new Gauge({
    name: 'performia_midi_port_open',
    help: 'MIDI port open (1) or not (0)',
    labelNames: ['port', 'direction'],
    registers: [registry],
    collect() {
      this.reset();
      for (const p of adapter.portStats())
        this.set({ port: p.id, direction: p.direction }, p.state === 'open' ? 1 : 0);
    },
  });
  new Gauge({
    name: 'performia_midi_sessions',
    help: 'Network MIDI sessions open',
    registers: [registry],
    collect() {
      this.set(adapter.sessionCount());
    },
  });
  new Gauge({
    name: 'performia_midi_clock_in_bpm',
    help: 'Tempo followed from an incoming MIDI clock, per endpoint (NaN before an estimate)',
    labelNames: ['endpoint', 'locked'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [endpoint, f] of Object.entries(adapter.clockIn())) {
        this.set({ endpoint, locked: f.locked ? 'true' : 'false' }, f.bpm ?? Number.NaN);
      }
    },
  });
}
