/** The audio adapter's Prometheus metrics (`performia_audio_*`), read from its figures at scrape time. */
import { Gauge, type Registry } from 'prom-client';
import { mirrorCounter as mirror } from '../../daemon/kernel/metrics-mirror.js';
import type { AudioAdapter } from './audio-adapter.js';
import type { EngineProcessStats } from './engine.js';

/** Registers the adapter's metrics. */
export function registerAudioMetrics(registry: Registry, adapter: AudioAdapter): void {
  const details = () => (adapter.health().details ?? {}) as Record<string, unknown>;
  const num = (v: unknown) => (typeof v === 'number' ? v : 0);
  mirror(
    registry,
    'performia_audio_events_total',
    'Audio adapter events (messages, voices, late, dropped…)',
    ['event'],
    () => {
      const d = details();
      return [
        ...Object.entries(adapter.counters).map(([event, value]) => ({ labels: { event }, value })),
        { labels: { event: 'voices' }, value: num(d.voices) },
        { labels: { event: 'dropped' }, value: num(d.dropped) },
        { labels: { event: 'unknownHits' }, value: num(d.unknownHits) },
        { labels: { event: 'startedLate' }, value: num(d.startedLate) },
      ];
    },
  );
  new Gauge({
    name: 'performia_audio_voices_active',
    help: 'Voices scheduled or sounding',
    registers: [registry],
    collect() {
      this.set(num(details().voicesActive));
    },
  });
  new Gauge({
    name: 'performia_audio_clock_drift_ppm',
    help: 'Audio clock rate against the bus clock, ppm (positive: the audio clock runs fast)',
    registers: [registry],
    collect() {
      this.set(adapter.mapping.snapshot().driftPpm);
    },
  });
  new Gauge({
    name: 'performia_audio_clock_last_correction_ms',
    help: 'Error removed from the bus → audio clock mapping at its last correction, ms',
    registers: [registry],
    collect() {
      this.set(adapter.mapping.snapshot().lastCorrectionMs);
    },
  });
  const engineProcess = () => details().engineProcess as EngineProcessStats | null | undefined;
  new Gauge({
    name: 'performia_audio_engine_rss_bytes',
    help: 'Resident memory of the audio engine process, bytes (0: the engine runs in the daemon)',
    registers: [registry],
    collect() {
      this.set(engineProcess()?.rssBytes ?? 0);
    },
  });
  new Gauge({
    name: 'performia_audio_engine_gc_pause_max_ms',
    help: 'Longest pause of the audio engine process for its periodic GC, ms',
    registers: [registry],
    collect() {
      this.set(engineProcess()?.gc.maxPauseMs ?? 0);
    },
  });
  new Gauge({
    name: 'performia_audio_device_ok',
    help: 'Audio output on the configured sink (1) or not (0: fallback or failed)',
    registers: [registry],
    collect() {
      this.set(adapter.health().state === 'ok' ? 1 : 0);
    },
  });
}
