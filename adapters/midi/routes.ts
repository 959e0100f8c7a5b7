/**
 * MIDI routes (issue #7), pure: an incoming MIDI message → a bus message. Matching is MIDI's own (the
 * endpoint it came from, the kind, the channel, a note or controller range); the payload is made by
 * the field engine every adapter shares (adapters/shared/fields.ts), `name` taking a field of the
 * message. A message no route claims becomes `midi_in` with its endpoint, kind and fields.
 */
import { MIDI_FIELD_NAMES } from '../../config/midi-rules.js';
import { MidiConfigError } from '../../daemon/kernel/errors.js';
import {
  fieldProblem,
  type Latches,
  type ReadArg,
  type Routed,
  type RouteTarget,
  routeMessage,
} from '../shared/fields.js';
import type { MidiKind, MidiMessage } from './types.js';

/** A route as the config gives it (config/midi-schema.ts). */
export interface MidiRouteRule extends RouteTarget {
  from?: string;
  kind: MidiKind;
  channel?: number;
  note?: readonly number[];
  controller?: readonly number[];
}

/** The fields a route's `name` reads, and `midi_in` carries: plain JSON data. */
export type MidiFields = Record<string, string | number | number[]>;

/**
 * A message's fields as plain data (SysEx bytes as a number array), with its endpoint as `port`: the
 * names config/midi-rules.ts lists as MIDI_FIELD_NAMES.
 */
export function midiFields(m: MidiMessage, port: string): MidiFields {
  switch (m.kind) {
    case 'sysex':
      return { port, kind: m.kind, data: Array.from(m.data) };
    default: {
      const out: MidiFields = { port };
      for (const [k, v] of Object.entries(m)) out[k] = v as string | number;
      return out;
    }
  }
}

/** A compiled route: `matches` then `map`. */
export interface CompiledMidiRoute {
  readonly rule: MidiRouteRule;
  matches(m: MidiMessage, endpoint: string): boolean;
  /** `now` is the arrival time on the bus clock. */
  map(m: MidiMessage, endpoint: string, now: number): Routed | string;
}

function inRange(v: number | undefined, range: readonly number[] | undefined): boolean {
  if (range === undefined) return true;
  return v !== undefined && v >= (range[0] ?? 0) && v <= (range[1] ?? 127);
}

/** The note or controller number a message carries, for range matching. */
function numberOf(m: MidiMessage, key: 'note' | 'controller'): number | undefined {
  const v = (m as unknown as Record<string, unknown>)[key];
  return typeof v === 'number' ? v : undefined;
}

/** Does the message come from this endpoint? A peer id matches its session; `network`, any session. */
export type EndpointMatch = (want: string, endpoint: string) => boolean;

const sameEndpoint: EndpointMatch = (want, endpoint) =>
  want === endpoint || (want === 'network' && endpoint.startsWith('network:'));

/** Compiles the routes in order (the first matching route wins); `latches` is shared by them. */
export function compileMidiRoutes(
  rules: readonly MidiRouteRule[],
  latches: Latches = new Map(),
  endpointMatch: EndpointMatch = sameEndpoint,
): CompiledMidiRoute[] {
  return rules.map((rule, i) => {
    const where = `midi.routes[${i}] (${rule.kind}${rule.channel === undefined ? '' : ` ch${rule.channel}`})`;
    const problem = fieldProblem(rule, MIDI_FIELD_NAMES, 'the MIDI message fields');
    if (problem !== undefined) throw new MidiConfigError(`${where}: ${problem}`);
    const matches = (m: MidiMessage, endpoint: string): boolean =>
      m.kind === rule.kind &&
      (rule.from === undefined || endpointMatch(rule.from, endpoint)) &&
      (rule.channel === undefined || ('channel' in m && m.channel === rule.channel)) &&
      inRange(numberOf(m, 'note'), rule.note) &&
      inRange(numberOf(m, 'controller'), rule.controller);
    const map = (m: MidiMessage, endpoint: string, now: number): Routed | string => {
      const fields = midiFields(m, endpoint);
      const read: ReadArg = (spec, field) => {
        if (spec.name === undefined) throw new Error(`${field}: MIDI messages have no argument positions`);
        const v = fields[spec.name];
        if (v === undefined) throw new Error(`${field}: a ${m.kind} message has no ${spec.name}`);
        return [v, spec.name];
      };
      return routeMessage(where, rule, read, now, latches, () => fields);
    };
    return { rule, matches, map };
  });
}
