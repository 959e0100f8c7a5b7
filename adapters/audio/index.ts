/** The audio adapter's public surface: its part factory, the offline renderer and WAV files. */
import type { PartFactory } from '../../daemon/kernel/part.js';
import { AudioAdapter, type AudioAdapterOptions, type AudioSettings } from './audio-adapter.js';
import { registerAudioMetrics } from './metrics.js';

export {
  AudioAdapter,
  type AudioAdapterOptions,
  type AudioCounters,
  type AudioSettings,
} from './audio-adapter.js';
export type { ClockMappingState } from './clock-mapping.js';
export type { PlayEvent } from './events.js';
export { type BandSettings, INSTRUMENT_NAMES, type InstrumentName } from './instruments.js';
export {
  type InputInfo,
  type InputStats,
  ListenAdapter,
  type ListenChildOptions,
  type ListenEvent,
  type ListenSettings,
  listenParts,
  listenPartsWith,
} from './listen/index.js';
export {
  type RenderMessage,
  type RenderOptions,
  type RenderResult,
  renderOffline,
  renderToWav,
} from './render.js';
export { decodeWav, encodeWav, readWav, type WavFormat, type WavInfo, WavWriter, writeWav } from './wav.js';
export {
  mixToMono,
  openWavReader,
  type WavReader,
  type WavReaderOptions,
  type WavSampleFormat,
  type WavStreamInfo,
} from './wav-reader.js';

/**
 * Builds the audio adapter from `config.audio` (none when `audio.enabled` is false). `options` is for
 * tests and tools (how the audio child process is started).
 */
export function audioPartsWith(options: AudioAdapterOptions = {}): PartFactory {
  return (ctx) => {
    const cfg: AudioSettings & { enabled: boolean } = ctx.config.audio;
    if (!cfg.enabled) return [];
    const adapter = new AudioAdapter(
      cfg,
      ctx.bus,
      ctx.scheduler,
      ctx.logger.child({ component: 'adapter.audio' }),
      options,
    );
    registerAudioMetrics(ctx.metrics, adapter);
    return [adapter];
  };
}

/** The audio adapter on the configured output. */
export const audioParts: PartFactory = audioPartsWith();
