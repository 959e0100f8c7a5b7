/**
 * The `audio:` section of the config (issue #8, "Audio out"): the output device, how the band sounds,
 * and how the bus clock is kept in step with the audio clock.
 */
import Type from 'typebox';

const closed = { additionalProperties: false } as const;

/** The instruments a channel can be played by (adapters/audio/instruments.ts). */
const INSTRUMENTS = ['bass', 'pad', 'lead', 'kit'] as const;

/** One optional key per MIDI channel, so a channel out of range is an unknown key (config/problems.ts). */
const CHANNEL_INSTRUMENTS = Object.fromEntries(
  Array.from({ length: 16 }, (_, i) => [
    String(i + 1),
    Type.Optional(Type.Enum(INSTRUMENTS, { description: `The instrument of channel ${i + 1}.` })),
  ]),
);

const ClockSchema = Type.Object(
  {
    syncIntervalMs: Type.Integer({
      minimum: 50,
      maximum: 10000,
      default: 500,
      description:
        'How often the audio clock is read against the bus clock, to measure their offset and drift.',
    }),
    windowMs: Type.Integer({
      minimum: 1000,
      maximum: 600000,
      default: 60000,
      description: 'Readings of this long a span are fitted (least squares) for the offset and the drift.',
    }),
    slewMs: Type.Integer({
      minimum: 100,
      maximum: 60000,
      default: 1000,
      description:
        'A measured error is removed gradually within this time, so scheduled notes never jump; at least twice syncIntervalMs.',
    }),
    stepMs: Type.Number({
      exclusiveMinimum: 0,
      maximum: 1000,
      default: 10,
      description:
        'An error larger than this (a device stall) is corrected at once instead, and counted as a reset.',
    }),
  },
  { ...closed, default: {}, description: 'Keeping the bus clock → audio clock mapping in step.' },
);

/** The audio adapter's section of the config. */
export const AudioSchema = Type.Object(
  {
    enabled: Type.Boolean({
      default: true,
      description: 'Play play_note, play_chord and play_drums through the audio output.',
    }),
    sinkId: Type.String({
      minLength: 1,
      default: 'default',
      description:
        'Output device: `default`, a device id (as the audio device list shows it), or `none` (no device: the audio clock runs, nothing is heard).',
    }),
    latencyHint: Type.Enum(['interactive', 'balanced', 'playback'], {
      default: 'balanced',
      description:
        'Buffer size of the output: interactive (128 frames), balanced (512) or playback (1024). Small buffers crackle on some ALSA devices.',
    }),
    latencySeconds: Type.Optional(
      Type.Number({
        exclusiveMinimum: 0,
        maximum: 1,
        description: 'Output buffer in seconds; when set, it replaces latencyHint.',
      }),
    ),
    onMissingDevice: Type.Enum(['fallback', 'fail'], {
      default: 'fallback',
      description:
        'When the device cannot be opened: fallback plays on the `none` sink (degraded in /health, the device retried) or fail stops the daemon from starting.',
    }),
    retryMs: Type.Integer({
      minimum: 0,
      maximum: 3600000,
      default: 10000,
      description:
        'While on the fallback, how often the device is tried again (in a fresh audio process); 0 never.',
    }),
    isolation: Type.Enum(['auto', 'process', 'inline'], {
      default: 'auto',
      description:
        'Where the audio context runs. auto and process: in a child process, for a device, for `none` and for the fallback (the audio stack prints on stdout, which must hold only JSON log lines, and the child collects the nodes every voice leaves behind with a periodic GC). inline: in the daemon, for debugging and tests only: no periodic GC runs there (it would pause the bus), so the nodes of finished voices pile up until V8 happens to collect them, and memory and render cost grow with the voices played.',
    }),
    masterGain: Type.Number({
      minimum: 0,
      maximum: 1,
      default: 0.5,
      description: 'Gain of the whole band before the limiter.',
    }),
    maxVoices: Type.Integer({
      minimum: 1,
      maximum: 4096,
      default: 256,
      description:
        'Voices (a note of a chord, a drum hit) scheduled or sounding at once, at most; beyond it a voice is dropped and counted.',
    }),
    instruments: Type.Object(CHANNEL_INSTRUMENTS, {
      ...closed,
      default: { '2': 'bass', '3': 'pad' },
      description:
        'Instrument by MIDI channel (keys 1..16) for play_note and play_chord: bass, pad, lead, or kit (General MIDI drum notes).',
    }),
    otherChannels: Type.Enum(INSTRUMENTS, {
      default: 'lead',
      description: 'Instrument of a channel not in `instruments`.',
    }),
    seed: Type.Integer({
      minimum: 0,
      maximum: 4294967295,
      default: 1,
      description: 'Seed of the noise the drums are made of: the same seed sounds the same.',
    }),
    clock: ClockSchema,
  },
  { ...closed, default: {}, description: 'The audio output: device, band sound, clock.' },
);

/** The audio adapter's config. */
export type AudioConfig = Type.Static<typeof AudioSchema>;
