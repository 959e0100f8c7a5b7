/**
 * The `agents:` section of the config (issue #8): the band on the bus. The conductor keeps time and the
 * chord progression; bass, drums and harmony answer on the beat; analytics watches the bus.
 *
 * Chord symbols are checked here only by their shape (the walker names the key); the agents parse them
 * fully when they are built and name the symbol they cannot read (agents/music/theory.ts).
 */
import Type from 'typebox';

const closed = { additionalProperties: false } as const;

/** The drum names the band plays: General MIDI names the MIDI adapter's drum map knows. */
export const DRUM_NAMES = ['kick', 'snare', 'hat', 'openhat', 'clap', 'rim', 'tom', 'crash', 'ride'] as const;
/** A drum name. */
export type DrumName = (typeof DRUM_NAMES)[number];

/** The bass line between the bar's root notes. */
export const BASS_PATTERNS = ['root', 'walking', 'arpeggio'] as const;

const enabled = (what: string) => Type.Boolean({ default: true, description: `Run ${what}.` });
const channel = (defaultChannel: number, description: string) =>
  Type.Integer({ minimum: 1, maximum: 16, default: defaultChannel, description });
const velocity = (defaultVelocity: number, description: string) =>
  Type.Integer({ minimum: 1, maximum: 127, default: defaultVelocity, description });
const gate = (defaultGate: number, description: string) =>
  Type.Number({ exclusiveMinimum: 0, maximum: 1, default: defaultGate, description });

/** A chord symbol's shape: a root, any quality and extensions, an optional slash bass. */
export const CHORD_SYMBOL_PATTERN = '^[A-G][#b]?[^/\\s]*(/[A-G][#b]?)?$';

const FollowSchema = Type.Object(
  {
    tempo: Type.Boolean({
      default: false,
      description:
        "Follow the tempo the listening part hears (tempo_detected): the band takes the musician's tempo, folded to the octave nearest the tempo playing once it follows.",
    }),
    phase: Type.Boolean({
      default: true,
      description:
        "With `tempo`: also slide the beats onto the musician's beats, at most an eighth of a beat per estimate.",
    }),
    pitch: Type.Boolean({
      default: false,
      description:
        "The last note heard during a bar (pitch_detected) becomes the root of the next bar's chord, its quality kept from the progression (Am and a sung D: Dm); harmony and bass play that chord.",
    }),
    minConfidence: Type.Number({
      minimum: 0,
      maximum: 1,
      default: 0.6,
      description: 'Detections with less confidence are not followed.',
    }),
  },
  {
    ...closed,
    default: {},
    description: 'Following a live musician through the listening part (listen:); off by default.',
  },
);

const ConductorSchema = Type.Object(
  {
    enabled: enabled('the conductor (beats and chord changes)'),
    bpm: Type.Number({
      minimum: 20,
      maximum: 400,
      default: 120,
      description: 'Tempo at start, in beats per minute, until a tempo_change message sets another.',
    }),
    timeSignature: Type.Tuple(
      [
        Type.Integer({ minimum: 1, maximum: 32, description: 'Beats per bar.' }),
        Type.Enum([1, 2, 4, 8, 16], {
          description:
            'The note value of a beat. It names the meter only: every beat lasts 60/bpm seconds (6/8 at 120 BPM is six 500 ms beats per bar).',
        }),
      ],
      { default: [4, 4], description: 'Time signature, e.g. [4, 4], [3, 4], [6, 8].' },
    ),
    progression: Type.Array(
      Type.String({ pattern: CHORD_SYMBOL_PATTERN, description: 'A chord symbol: C, Am, F/A, G7, C#m7b5…' }),
      {
        minItems: 1,
        default: ['C', 'Am', 'F', 'G'],
        description:
          'Chord progression, one chord per bar, looping. A progression_change message replaces it from the next bar.',
      },
    ),
    lookaheadMs: Type.Number({
      minimum: 1,
      maximum: 1000,
      default: 100,
      description:
        'How long before its time each beat is published (with its exact time `at`), so outputs can schedule it precisely.',
    }),
    autoStart: Type.Boolean({
      default: true,
      description: 'Start the transport when the conductor starts; false waits for a transport start.',
    }),
    follow: FollowSchema,
  },
  { ...closed, default: {}, description: 'The conductor: tempo, time signature, progression, transport.' },
);

const BassSchema = Type.Object(
  {
    enabled: enabled('the bass'),
    channel: channel(2, 'MIDI channel of the bass notes (play_note).'),
    velocity: velocity(96, 'Velocity of the bass notes.'),
    pattern: Type.Enum(BASS_PATTERNS, {
      default: 'root',
      description:
        'Between chord changes: root repeats the root, walking walks up the chord (root, third, fifth, sixth or seventh), arpeggio plays the chord tones (root, third, fifth, seventh or octave).',
    }),
    gate: gate(0.9, 'Length of a bass note as a fraction of the beat.'),
  },
  { ...closed, default: {}, description: 'The bass: the chord roots, in MIDI 40..51 (E2..Eb3).' },
);

const StepsSchema = Type.String({
  pattern: '^[xX.]{1,64}$',
  description: 'Steps that divide the bar evenly: x a hit, X an accented hit, . a rest (1..64 steps).',
});

const DrumPatternSchema = Type.Record(Type.String({ pattern: `^(${DRUM_NAMES.join('|')})$` }), StepsSchema, {
  ...closed,
  description: `Step strings by drum (${DRUM_NAMES.join(', ')}).`,
});

const DrumsSchema = Type.Object(
  {
    enabled: enabled('the drums'),
    velocity: velocity(90, "Velocity of a hit ('x')."),
    accentVelocity: velocity(120, "Velocity of an accented hit ('X')."),
    swing: Type.Number({
      minimum: 0,
      maximum: 0.5,
      default: 0,
      description: 'Delays every odd step by this fraction of a step (0 straight, 0.33 triplet feel).',
    }),
    patterns: Type.Record(Type.String({ pattern: '^[1-9][0-9]?/(1|2|4|8|16)$' }), DrumPatternSchema, {
      ...closed,
      default: {
        '4/4': { kick: 'X...x...', snare: '..X...X.', hat: 'xxxxxxxx' },
        '3/4': { kick: 'X.....', snare: '..x.x.', hat: 'xxxxxx' },
        '6/8': { kick: 'X.....', snare: '...X..', hat: 'xxxxxx' },
      },
      description:
        "Patterns by time signature ('4/4', '3/4', '6/8'…); the conductor's time signature picks one.",
    }),
  },
  { ...closed, default: {}, description: 'The drums: step patterns per time signature.' },
);

const HarmonySchema = Type.Object(
  {
    enabled: enabled('the harmony (chord pad)'),
    channel: channel(3, 'MIDI channel of the chords (play_chord).'),
    velocity: velocity(70, 'Velocity of the chords.'),
    register: Type.Tuple(
      [
        Type.Integer({ minimum: 0, maximum: 127, description: 'Lowest MIDI note of a voicing.' }),
        Type.Integer({ minimum: 0, maximum: 127, description: 'Highest MIDI note of a voicing.' }),
      ],
      {
        default: [52, 76],
        description: 'Range of the voicings, MIDI notes [low, high] (at least an octave and a half apart).',
      },
    ),
    voices: Type.Enum([3, 4], {
      default: 4,
      description:
        'Notes per voicing. Chords with more tones keep the most telling ones (third, seventh, extensions, root, then fifth); triads in 4 voices double a tone.',
    }),
    gate: gate(0.95, 'Length of a chord as a fraction of the rest of its bar.'),
  },
  { ...closed, default: {}, description: 'The harmony: voiced chords with smooth voice leading.' },
);

const AnalyticsSchema = Type.Object(
  {
    enabled: enabled('the analytics observer'),
    intervalMs: Type.Integer({
      minimum: 10,
      maximum: 3600000,
      default: 5000,
      description: 'Interval of the analytics_report messages (rates and latency over each interval), ms.',
    }),
  },
  { ...closed, default: {}, description: 'Analytics: message rates and publish → handler latency.' },
);

/** The `agents:` section of the config. */
export const AgentsSchema = Type.Object(
  {
    enabled: Type.Boolean({ default: true, description: 'Run the band; false builds no agent at all.' }),
    conductor: ConductorSchema,
    bass: BassSchema,
    drums: DrumsSchema,
    harmony: HarmonySchema,
    analytics: AnalyticsSchema,
  },
  { ...closed, default: {}, description: 'The musical agents: conductor, bass, drums, harmony, analytics.' },
);

/** The agents' config. */
export type AgentsConfig = Type.Static<typeof AgentsSchema>;
/** The conductor's config. */
export type ConductorConfig = Type.Static<typeof ConductorSchema>;
/** The bass's config. */
export type BassConfig = Type.Static<typeof BassSchema>;
/** The drums' config. */
export type DrumsConfig = Type.Static<typeof DrumsSchema>;
/** The harmony's config. */
export type HarmonyConfig = Type.Static<typeof HarmonySchema>;
/** The analytics' config. */
export type AnalyticsConfig = Type.Static<typeof AnalyticsSchema>;
