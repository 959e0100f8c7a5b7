/**
 * MIDI output rules (issue #7), pure: a bus message → the MIDI messages to send and when. `note`
 * plans a note on at `at` (or now) and its note off `duration` seconds later; `chord` the same for
 * each note; `drums` each hit through the drum map on the drum channel; the other sends one message;
 * `tempo` gives the clock out a tempo. Every field is checked before anything is planned, so a bad
 * payload sends nothing rather than half a chord. Filters (`where`) and payload paths are the shared
 * field engine's (adapters/shared/fields.ts).
 */

import type { AnyMessage } from '../../daemon/bus/index.js';
import { MidiConfigError, MidiEncodeError } from '../../daemon/kernel/errors.js';
import { pick, whereFilter } from '../shared/fields.js';
import { encodeMidi } from './codec.js';
import type { MidiMessage } from './types.js';

/** What an output rule sends (config/midi-schema.ts `MIDI_SEND_KINDS`). */
export type MidiSend =
  | 'note'
  | 'chord'
  | 'drums'
  | 'noteon'
  | 'noteoff'
  | 'cc'
  | 'program'
  | 'pitchbend'
  | 'channelaftertouch'
  | 'sysex'
  | 'tempo';

/** An output rule as the config gives it. */
export interface MidiOutputRule {
  type: string;
  where?: Readonly<Record<string, unknown>>;
  to?: readonly string[];
  send: MidiSend;
  fields?: Readonly<Record<string, { from?: string; value?: unknown }>>;
}

/** One MIDI message to send, encoded, and its time on the bus clock (undefined: at once). */
export interface PlannedSend {
  message: MidiMessage;
  bytes: Uint8Array;
  at: number | undefined;
}

/** What one bus message becomes. */
export interface OutputPlan {
  sends: PlannedSend[];
  /** A tempo for the clock out (send `tempo`). */
  tempo?: number;
}

/** A compiled output rule. */
export interface CompiledMidiOutput {
  readonly rule: MidiOutputRule;
  accepts(m: AnyMessage): boolean;
  /** The plan, or a reason (the payload does not fit: nothing is sent). */
  plan(m: AnyMessage): OutputPlan | string;
}

/** Drum hits' note off, when the message gives no duration: drum sounds ring out on their own. */
const DRUM_DURATION_S = 0.1;

/** Options every rule shares. */
export interface OutputOptions {
  drumMap: Readonly<Record<string, number>>;
  drumChannel: number;
}

/** Compiles the rules; `endpoints` are the output endpoint ids a rule's `to` may name. */
export function compileMidiOutputs(
  rules: readonly MidiOutputRule[],
  options: OutputOptions,
  endpoints: ReadonlySet<string>,
): CompiledMidiOutput[] {
  return rules.map((rule, i) => {
    const where = `midi.outputs[${i}] (${rule.type} → ${rule.send})`;
    for (const id of rule.to ?? []) {
      if (!endpoints.has(id)) {
        throw new MidiConfigError(
          `${where}: "${id}" is not an output endpoint (known: ${[...endpoints].join(', ')})`,
        );
      }
    }
    const filter = whereFilter(rule.where);
    return {
      rule,
      accepts: (m) => filter(m.payload),
      plan: (m) => {
        try {
          return planOf(rule, m, options);
        } catch (err) {
          return `${where}: ${(err as Error).message}`;
        }
      },
    };
  });
}

/** Reads a MIDI field: the rule's source for it, else the payload field of the same name. */
function reader(rule: MidiOutputRule, m: AnyMessage): (field: string, fallback?: unknown) => unknown {
  return (field, fallback) => {
    const spec = rule.fields?.[field];
    const v =
      spec === undefined
        ? pick(m.payload, field)
        : spec.value !== undefined
          ? spec.value
          : pick(m.payload, spec.from ?? field);
    if (v !== undefined) return v;
    if (fallback !== undefined) return fallback;
    throw new MidiEncodeError(`payload has no "${spec?.from ?? field}"`);
  };
}

function num(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw new MidiEncodeError(`${field} must be a number, got ${JSON.stringify(v)}`);
  return v;
}

function planOf(rule: MidiOutputRule, m: AnyMessage, options: OutputOptions): OutputPlan {
  const get = reader(rule, m);
  const at = m.at;
  const sends: PlannedSend[] = [];
  const add = (message: MidiMessage, time: number | undefined): void => {
    sends.push({ message, bytes: encodeMidi(message), at: time });
  };
  const later = (seconds: number): number | undefined => {
    const base = at ?? m.timestamp;
    return base + seconds * 1000;
  };
  const notes = (list: readonly number[], channel: number, velocity: number, duration: number): void => {
    for (const note of list) add({ kind: 'noteon', channel, note, velocity }, at);
    for (const note of list) add({ kind: 'noteoff', channel, note, velocity: 0 }, later(duration));
  };
  switch (rule.send) {
    case 'note':
      notes(
        [num(get('note'), 'note')],
        num(get('channel'), 'channel'),
        num(get('velocity'), 'velocity'),
        durationOf(get),
      );
      break;
    case 'chord': {
      const list = get('notes');
      if (!Array.isArray(list))
        throw new MidiEncodeError(`notes must be a list, got ${JSON.stringify(list)}`);
      notes(
        list.map((n) => num(n, 'notes[]')),
        num(get('channel'), 'channel'),
        num(get('velocity'), 'velocity'),
        durationOf(get),
      );
      break;
    }
    case 'drums': {
      const hits = get('hits');
      if (!Array.isArray(hits)) throw new MidiEncodeError(`hits must be a list, got ${JSON.stringify(hits)}`);
      const list = hits.map((h) => {
        const note = typeof h === 'number' ? h : options.drumMap[String(h)];
        if (note === undefined) throw new MidiEncodeError(`drum "${String(h)}" is not in midi.drumMap`);
        return note;
      });
      const channel = num(get('channel', options.drumChannel), 'channel');
      notes(
        list,
        channel,
        num(get('velocity'), 'velocity'),
        num(get('duration', DRUM_DURATION_S), 'duration'),
      );
      break;
    }
    case 'noteon':
    case 'noteoff':
      add(
        {
          kind: rule.send,
          channel: num(get('channel'), 'channel'),
          note: num(get('note'), 'note'),
          velocity: num(get('velocity', 0), 'velocity'),
        },
        at,
      );
      break;
    case 'cc':
      add(
        {
          kind: 'cc',
          channel: num(get('channel'), 'channel'),
          controller: num(get('controller'), 'controller'),
          value: num(get('value'), 'value'),
        },
        at,
      );
      break;
    case 'program':
      add(
        { kind: 'program', channel: num(get('channel'), 'channel'), program: num(get('program'), 'program') },
        at,
      );
      break;
    case 'pitchbend':
      add(
        { kind: 'pitchbend', channel: num(get('channel'), 'channel'), value: num(get('value'), 'value') },
        at,
      );
      break;
    case 'channelaftertouch':
      add(
        {
          kind: 'channelaftertouch',
          channel: num(get('channel'), 'channel'),
          pressure: num(get('pressure'), 'pressure'),
        },
        at,
      );
      break;
    case 'sysex': {
      const data = get('data');
      if (!Array.isArray(data) && !(data instanceof Uint8Array))
        throw new MidiEncodeError('data must be a list of bytes');
      add({ kind: 'sysex', data: Uint8Array.from(data as ArrayLike<number>) }, at);
      break;
    }
    case 'tempo': {
      const bpm = num(get('bpm'), 'bpm');
      if (bpm < 20 || bpm > 400) throw new MidiEncodeError(`bpm ${bpm} is outside 20..400`);
      return { sends, tempo: bpm };
    }
  }
  return { sends };
}

function durationOf(get: (field: string, fallback?: unknown) => unknown): number {
  const d = num(get('duration'), 'duration');
  if (d < 0) throw new MidiEncodeError(`duration ${d} is negative`);
  return d;
}
