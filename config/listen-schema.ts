/**
 * The `listen:` section of the config (issue #9, "Listening"): which audio input the daemon listens
 * to, what it detects there, and what it publishes. The bounds are the analyzer's own
 * (adapters/audio/analysis/types.ts): a value the analyzer would refuse is refused here first, naming
 * the key.
 */
import Type from 'typebox';

const closed = { additionalProperties: false } as const;

const PitchSchema = Type.Object(
  {
    minHz: Type.Number({ minimum: 20, maximum: 4000, default: 50, description: 'Lowest fundamental, Hz.' }),
    maxHz: Type.Number({
      minimum: 40,
      maximum: 8000,
      default: 2000,
      description: 'Highest fundamental, Hz.',
    }),
    minConfidence: Type.Number({
      minimum: 0,
      maximum: 1,
      default: 0.85,
      description: 'Least confidence (YIN 1 − d′) of a published pitch.',
    }),
    minLevelDb: Type.Number({
      minimum: -120,
      maximum: 0,
      default: -50,
      description: 'Quieter frames have no pitch, dBFS RMS.',
    }),
  },
  { ...closed, default: {}, description: 'Pitch detection (monophonic, YIN).' },
);

const OnsetSchema = Type.Object(
  {
    minIntervalMs: Type.Number({
      minimum: 10,
      maximum: 2000,
      default: 50,
      description: 'Shortest time between two onsets, ms: one sound gives one onset.',
    }),
    minLevelDb: Type.Number({
      minimum: -120,
      maximum: 0,
      default: -55,
      description: 'Frames whose peak is quieter have no onset, dBFS.',
    }),
    sensitivity: Type.Number({
      minimum: 1,
      maximum: 10,
      default: 1.5,
      description: 'Multiplier of the running median in the adaptive threshold; lower is more sensitive.',
    }),
  },
  { ...closed, default: {}, description: 'Onset detection (spectral flux, adaptive threshold).' },
);

const TempoSchema = Type.Object(
  {
    minBpm: Type.Number({ minimum: 30, maximum: 300, default: 60, description: 'Slowest tempo reported.' }),
    maxBpm: Type.Number({ minimum: 40, maximum: 400, default: 200, description: 'Fastest tempo reported.' }),
    windowSeconds: Type.Number({
      minimum: 2,
      maximum: 60,
      default: 8,
      description: 'Seconds of onsets each estimate looks back over.',
    }),
    updateSeconds: Type.Number({
      minimum: 0.1,
      maximum: 10,
      default: 0.5,
      description: 'Seconds between two estimates.',
    }),
    minConfidence: Type.Number({
      minimum: 0,
      maximum: 1,
      default: 0.5,
      description: 'Least confidence of a published tempo.',
    }),
  },
  { ...closed, default: {}, description: 'Tempo detection (from the onsets).' },
);

/** The listening part's section of the config. */
export const ListenSchema = Type.Object(
  {
    enabled: Type.Boolean({
      default: true,
      description:
        'Listen to the audio input and publish pitch_detected, onset_detected and tempo_detected. Without an input device the part shows degraded and retries; the rest of the daemon runs.',
    }),
    device: Type.String({
      minLength: 1,
      default: 'default',
      description:
        "The input: 'default', a device id, or a part of a device label; when it is not found, the reason in /health lists the inputs there are.",
    }),
    file: Type.String({
      default: '',
      description:
        'A WAV file listened to in real time instead of the device (rehearsing the follow settings with a recording, tests); empty: the device.',
    }),
    loop: Type.Boolean({ default: false, description: 'Play `file` again from its start when it ends.' }),
    channel: Type.Integer({
      minimum: 0,
      maximum: 32,
      default: 0,
      description: 'The input channel listened to, from 1; 0 mixes all channels.',
    }),
    blockFrames: Type.Enum([256, 512, 1024, 2048], {
      default: 256,
      description:
        'Samples per block the input delivers: smaller is sooner (256 at 48 kHz: 5.3 ms), larger costs less CPU.',
    }),
    publish: Type.Object(
      {
        pitch: Type.Boolean({ default: true, description: 'Publish pitch_detected (CRITICAL).' }),
        onset: Type.Boolean({ default: true, description: 'Publish onset_detected (CRITICAL).' }),
        tempo: Type.Boolean({ default: true, description: 'Publish tempo_detected (HIGH).' }),
      },
      { ...closed, default: {}, description: 'Which detections go on the bus.' },
    ),
    pitch: PitchSchema,
    onset: OnsetSchema,
    tempo: TempoSchema,
    retryMs: Type.Integer({
      minimum: 100,
      maximum: 600000,
      default: 2000,
      description:
        'First wait before a missing input is tried again; it doubles up to 60 s (or this, if larger) while the input stays missing.',
    }),
  },
  {
    ...closed,
    default: {},
    description: 'Listening (issue #9): a live input analyzed for pitch, onsets and tempo.',
  },
);
