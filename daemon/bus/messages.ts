/**
 * The bus message contract (DESIGN.md, "The bus contract" and "Message catalog").
 *
 * Message types and their payloads are declared once, in {@link MessageMap}, so a wrong payload for a
 * known type fails `tsc`. Types that come from the wire under names of their own (a mapping rule's
 * target) go through the untyped escape hatch: any type name not in the map, with an `unknown` payload.
 * Messages stay plain serializable data (no functions, no class instances): record/replay and the
 * WebSocket stream depend on it.
 */

/** Message priorities: lower is more urgent. Dispatch is strictly by priority, FIFO within one. */
export const Priority = { CRITICAL: 0, HIGH: 1, NORMAL: 2, LOW: 3 } as const;
/** A priority value, 0 (CRITICAL) … 3 (LOW). */
export type Priority = (typeof Priority)[keyof typeof Priority];
/** Priority names by value, for stats, logs and errors. */
export const PRIORITY_NAMES = ['CRITICAL', 'HIGH', 'NORMAL', 'LOW'] as const;
/** A priority's name. */
export type PriorityName = (typeof PRIORITY_NAMES)[number];

/** A time on the bus clock: milliseconds, monotonic, offset to the Unix epoch (see `systemClock`). */
export type BusTime = number;

/** An OSC argument after decoding, as plain data. */
export type OscValue = number | string | boolean | null | Uint8Array | OscValue[] | { [k: string]: unknown };

/** Payloads of the catalog types. */
export interface MessageMap {
  beat_event: { beat: number; bar: number; bpm: number; at: BusTime };
  transport: { state: 'start' | 'stop' | 'continue'; position: number };
  chord_change: { chord: string; bar: number; at: BusTime };
  tempo_change: { bpm: number };
  /** A new chord progression for the conductor, one chord symbol per bar, from the next bar on. */
  progression_change: { chords: string[] };
  /**
   * A confident pitch of the live input that differs from the last one (issue #9): `midi` the nearest
   * note, `note` its name (`A4`), `cents` the offset from it, `at` when the sound began.
   */
  pitch_detected: { hz: number; midi: number; note: string; cents: number; confidence: number; at: BusTime };
  /** The start of a sound in the live input: `at` when it began (not when it was detected). */
  onset_detected: { at: BusTime; strength: number };
  /** The live input's tempo (issue #9); `beat`: the time of one of its beats, its phase, when known. */
  tempo_detected: { bpm: number; confidence: number; beat?: BusTime };
  play_note: { note: number; velocity: number; duration: number; channel: number; at?: BusTime };
  play_chord: { notes: number[]; velocity: number; duration: number; channel: number; at?: BusTime };
  play_drums: { hits: string[]; velocity: number; at?: BusTime };
  /** A continuous controller (fader, knob): the one catalog type made to be coalesced. */
  control_change: { channel: number; controller: number; value: number };
  /** A MIDI message no route claimed: its endpoint (`port`), kind and fields. */
  midi_in: { port: string; kind: string; [field: string]: unknown };
  /** A MIDI port or network session appeared, went away, or failed. */
  midi_device: {
    port: string;
    direction: 'in' | 'out' | 'both';
    state: string;
    name?: string;
    reason?: string;
  };
  /** Silence now: every held note gets its note off (MIDI outputs; later the audio out). */
  panic: { reason?: string };
  /** An OSC message no route claimed: its address, type tags (`types`, e.g. `ifs`) and arguments. */
  osc_in: { address: string; args: OscValue[]; types?: string; source?: string };
  analytics_report: { [metric: string]: unknown };
}

/** A catalog message type. */
export type MessageType = keyof MessageMap;

/** The usual priority of each catalog type, used when `publish` is not given one. */
export const DEFAULT_PRIORITY: { readonly [K in MessageType]: Priority } = {
  beat_event: Priority.CRITICAL,
  transport: Priority.CRITICAL,
  chord_change: Priority.HIGH,
  tempo_change: Priority.HIGH,
  progression_change: Priority.HIGH,
  pitch_detected: Priority.CRITICAL,
  onset_detected: Priority.CRITICAL,
  tempo_detected: Priority.HIGH,
  play_note: Priority.NORMAL,
  play_chord: Priority.NORMAL,
  play_drums: Priority.NORMAL,
  control_change: Priority.NORMAL,
  midi_in: Priority.NORMAL,
  midi_device: Priority.HIGH,
  panic: Priority.CRITICAL,
  osc_in: Priority.NORMAL,
  analytics_report: Priority.LOW,
};

/**
 * Types whose every message is an event that must arrive (a note on/off, a beat, a transport change):
 * the bus refuses to coalesce them. `midi_in` carries note on/off, so it is discrete too; faders and
 * knobs belong in `control_change` or a mapped type of their own.
 */
export const DISCRETE_TYPES: ReadonlySet<string> = new Set<string>([
  'beat_event',
  'transport',
  'chord_change',
  'pitch_detected',
  'onset_detected',
  'play_note',
  'play_chord',
  'play_drums',
  'midi_in',
  'midi_device',
  'panic',
]);

/** The payload type of a message type: declared for catalog types, `unknown` for any other name. */
export type PayloadOf<T extends string> = T extends MessageType ? MessageMap[T] : unknown;

/** A message on the bus. Plain data; `id` and `timestamp` are filled in by `publish`. */
export interface Message<T extends string = string> {
  /** Unique per bus, increasing in publish order. */
  readonly id: number;
  readonly type: T;
  /** Who published it: an agent id, an adapter name, `api`. */
  readonly from: string;
  /** An agent id, or `"broadcast"`. */
  readonly to: string;
  readonly priority: Priority;
  readonly payload: PayloadOf<T>;
  /** When it was published, on the bus clock. */
  readonly timestamp: BusTime;
  /** Target time of a scheduled musical event, on the bus clock; absent means "at once". */
  readonly at?: BusTime | undefined;
}

/** Any message, typed or not: what `'*'` observers receive. */
export type AnyMessage = Message<string>;

/** The recipient that reaches every subscriber of a type. */
export const BROADCAST = 'broadcast';

/** What a caller gives `publish`. */
export interface PublishInput<T extends string> {
  type: T;
  payload: PayloadOf<T>;
  from?: string;
  to?: string;
  priority?: Priority;
  at?: BusTime | undefined;
}
