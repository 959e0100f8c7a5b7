/** The MIDI adapter's public surface: its part factory. */
import { systemClock } from '../../daemon/bus/index.js';
import type { PartFactory } from '../../daemon/kernel/part.js';
import { registerMidiMetrics } from './metrics.js';
import { MidiAdapter } from './midi-adapter.js';
import { EasyMidiBackend, type PortBackend } from './os-ports.js';
import { RtpNetwork } from './rtp/network-midi.js';

export { MidiAdapter, type MidiSettings } from './midi-adapter.js';
export { EasyMidiBackend, type PortBackend, probeMidiSystem } from './os-ports.js';

/**
 * Builds the MIDI adapter from `config.midi` (none when `midi.enabled` is false). `backend` replaces
 * the OS ports (easymidi) for a machine or test that brings its own.
 */
export function midiPartsWith(backend?: () => PortBackend): PartFactory {
  return (ctx) => {
    const cfg = ctx.config.midi;
    if (!cfg.enabled) return [];
    const adapter = new MidiAdapter(
      cfg,
      ctx.bus,
      ctx.scheduler,
      ctx.logger.child({ component: 'adapter.midi' }),
      backend?.() ?? new EasyMidiBackend(),
      (events) => new RtpNetwork({ ...cfg.network, maxSysexBytes: cfg.maxSysexBytes }, events, systemClock),
    );
    registerMidiMetrics(ctx.metrics, adapter);
    return [adapter];
  };
}

/** The MIDI adapter on the OS's ports (easymidi) and network MIDI. */
export const midiParts: PartFactory = midiPartsWith();
