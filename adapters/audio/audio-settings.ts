/**
 * The audio adapter's settings (config `audio`), what it counts, and the engine a sink is played by:
 * in a child process, or in the daemon when `audio.isolation: inline` says so (engine.ts says why).
 */
import type { BusLogger } from '../../daemon/bus/index.js';
import { AudioDeviceError, hasCode } from '../../daemon/kernel/errors.js';
import { ChildEngine, type ChildEngineOptions } from './child-engine.js';
import { type AudioEngine, type EngineOptions, LocalEngine } from './engine.js';
import type { InstrumentName } from './instruments.js';

/** The adapter's settings (config `audio`). */
export interface AudioSettings {
  sinkId: string;
  latencyHint: 'interactive' | 'balanced' | 'playback';
  latencySeconds?: number | undefined;
  onMissingDevice: 'fallback' | 'fail';
  retryMs: number;
  isolation: 'auto' | 'process' | 'inline';
  masterGain: number;
  maxVoices: number;
  instruments: Readonly<Partial<Record<string, InstrumentName>>>;
  otherChannels: InstrumentName;
  seed: number;
  clock: { syncIntervalMs: number; windowMs: number; slewMs: number; stepMs: number };
}

/** What the adapter counted. */
export interface AudioCounters {
  /** play_* messages received. */
  received: number;
  /** Played at their `at`. */
  scheduled: number;
  /** Without `at`: played at once. */
  immediate: number;
  /** Their `at` had passed on arrival: played at once. */
  late: number;
  /** Malformed play_* payloads (logged rate-limited). */
  invalid: number;
  /** Received while no engine was ready (between a device failure and the fallback). */
  notReady: number;
  panics: number;
  /** Clock readings that failed (the audio process did not answer). */
  syncErrors: number;
  /** Device retries that failed. */
  retries: number;
}

/** Options for tests and tools: how the child engine is started. */
export interface AudioAdapterOptions {
  child?: ChildEngineOptions;
}

/** What an engine on `sinkId` is opened with. */
export function engineOptions(s: AudioSettings, sinkId: string): EngineOptions {
  return {
    sinkId,
    latencyHint: s.latencySeconds ?? s.latencyHint,
    band: {
      masterGain: s.masterGain,
      instruments: s.instruments,
      otherChannels: s.otherChannels,
      seed: s.seed,
      maxVoices: s.maxVoices,
    },
  };
}

/**
 * The engine for a sink: in a child process (`auto`, `process`), or in this process when config says
 * `inline` (tests, debugging: no periodic GC there, see engine.ts).
 */
export function engineFor(
  s: AudioSettings,
  sinkId: string,
  logger: BusLogger,
  child: ChildEngineOptions | undefined,
): AudioEngine {
  const options = engineOptions(s, sinkId);
  if (s.isolation === 'inline') return new LocalEngine(options);
  return new ChildEngine(options, logger, child);
}

/** `err` as PFM_ERR_AUDIO_DEVICE on the `none` sink (as it is when the engine raised it). */
export function deviceError(err: unknown): Error {
  if (hasCode(err, 'PFM_ERR_AUDIO_DEVICE')) return err as Error;
  return new AudioDeviceError('none', (err as Error).message, { cause: err });
}
