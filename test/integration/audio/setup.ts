/** Settings and the child-engine launch shared by the audio integration tests. */
import { fileURLToPath } from 'node:url';
import type { AudioSettings } from '../../../adapters/audio/audio-adapter.js';

/** A file next to this one. */
export const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url));

/** The module hooks a child `node` needs to run the TypeScript sources (ts-hooks.mjs). */
export const TS_REGISTER = here('./ts-register.mjs');

/** The child engine from the TypeScript sources (the daemon runs the built engine-host.js). */
export const CHILD = {
  hostScript: new URL('../../../adapters/audio/engine-host.ts', import.meta.url),
  execArgv: ['--import', TS_REGISTER],
};

/** The adapter on the `none` sink, in this process, its clock read every 100 ms. */
export const SETTINGS: AudioSettings = {
  sinkId: 'none',
  latencyHint: 'interactive',
  onMissingDevice: 'fallback',
  retryMs: 0,
  isolation: 'inline',
  masterGain: 0.5,
  maxVoices: 64,
  instruments: { '2': 'bass', '3': 'pad' },
  otherChannels: 'lead',
  seed: 1,
  clock: { syncIntervalMs: 100, windowMs: 60_000, slewMs: 1000, stepMs: 10 },
};
