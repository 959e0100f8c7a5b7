/**
 * Rules of the `midi:` section that span several keys (issue #7): an endpoint id named by a route,
 * an output or the clock exists; a route matches notes or controllers only for kinds that carry them,
 * and its payload fields take names a MIDI message has; an output's fields suit what it sends. Each
 * rule looks only at parts whose shape is right; the schema walk (problems.ts) reports the others.
 */
import { checkRouteFields } from './field-rules.js';
import { eachObject } from './osc-rules.js';
import { type ConfigProblem, isPlainObject, problemAt, type Segment, showValue } from './problems.js';

type Obj = Record<string, unknown>;

/** The fields of a MIDI message a route's `name` may take (adapters/midi: the reader gives these). */
export const MIDI_FIELD_NAMES = [
  'channel',
  'note',
  'velocity',
  'controller',
  'value',
  'program',
  'pressure',
  'beats',
  'song',
  'piece',
  'data',
  'kind',
  'port',
] as const;

const NOTE_KINDS = new Set(['noteon', 'noteoff', 'polyaftertouch']);
const CHANNEL_KINDS = new Set([...NOTE_KINDS, 'cc', 'program', 'channelaftertouch', 'pitchbend']);

/** The MIDI fields each `send` of an output takes from the payload (or a constant). */
export const MIDI_SEND_FIELDS: Readonly<Record<string, readonly string[]>> = {
  note: ['channel', 'note', 'velocity', 'duration'],
  chord: ['channel', 'notes', 'velocity', 'duration'],
  drums: ['channel', 'hits', 'velocity', 'duration'],
  noteon: ['channel', 'note', 'velocity'],
  noteoff: ['channel', 'note', 'velocity'],
  cc: ['channel', 'controller', 'value'],
  program: ['channel', 'program'],
  pitchbend: ['channel', 'value'],
  channelaftertouch: ['channel', 'pressure'],
  sysex: ['data'],
  tempo: ['bpm'],
};

/** Every problem of the rules, for the whole config (`value` as merged, before validation). */
export function findMidiProblems(value: unknown): ConfigProblem[] {
  const midi = isPlainObject(value) ? value.midi : undefined;
  if (!isPlainObject(midi)) return [];
  const out: ConfigProblem[] = [];
  const ids = endpointIds(midi);
  const knownIn = [...ids.inputs];
  const knownOut = [...ids.outputs];
  eachObject(midi.routes, ['midi', 'routes'], (route, path) => {
    checkRoute(route, path, out);
    if (typeof route.from === 'string') checkId(route.from, [...path, 'from'], knownIn, 'input', out);
  });
  eachObject(midi.outputs, ['midi', 'outputs'], (output, path) => {
    checkOutput(output, path, out);
    if (Array.isArray(output.to)) {
      output.to.forEach((id, i) => {
        if (typeof id === 'string') checkId(id, [...path, 'to', i], knownOut, 'output', out);
      });
    }
  });
  const clock = isPlainObject(midi.clock) ? midi.clock : {};
  const clockIn = isPlainObject(clock.in) ? clock.in : {};
  const clockOut = isPlainObject(clock.out) ? clock.out : {};
  if (typeof clockIn.from === 'string')
    checkId(clockIn.from, ['midi', 'clock', 'in', 'from'], knownIn, 'input', out);
  if (Array.isArray(clockOut.to)) {
    clockOut.to.forEach((id, i) => {
      if (typeof id === 'string') checkId(id, ['midi', 'clock', 'out', 'to', i], knownOut, 'output', out);
    });
  }
  return out;
}

/** The endpoint ids messages can come from and go to. */
function endpointIds(midi: Obj): { inputs: Set<string>; outputs: Set<string> } {
  const keys = (v: unknown): string[] => (isPlainObject(v) ? Object.keys(v) : []);
  const ports = isPlainObject(midi.ports) ? midi.ports : {};
  const network = isPlainObject(midi.network) ? midi.network : {};
  const peers = keys(network.peers);
  return {
    inputs: new Set(['virtual', 'network', ...keys(ports.inputs), ...peers]),
    outputs: new Set(['virtual', 'network', ...keys(ports.outputs), ...peers]),
  };
}

function checkId(id: string, path: Segment[], known: string[], what: string, out: ConfigProblem[]): void {
  if (known.includes(id)) return;
  const message = `${showValue(id)} is not a MIDI ${what} endpoint (known: ${known.join(', ')})`;
  out.push(problemAt(path, id, `a MIDI ${what} endpoint id`, message));
}

function checkRoute(route: Obj, path: Segment[], out: ConfigProblem[]): void {
  const kind = typeof route.kind === 'string' ? route.kind : undefined;
  if (kind !== undefined) {
    const only = (key: string, kinds: Set<string>, which: string): void => {
      if (route[key] === undefined || kinds.has(kind)) return;
      const message = `${key} matches ${which} only, not ${kind}`;
      out.push(problemAt([...path, key], route[key], `no ${key} for kind ${kind}`, message));
    };
    only('channel', CHANNEL_KINDS, 'channel messages');
    only('note', NOTE_KINDS, 'noteon, noteoff and polyaftertouch');
    only('controller', new Set(['cc']), 'cc');
  }
  for (const key of ['note', 'controller']) {
    const r = route[key];
    if (Array.isArray(r) && typeof r[0] === 'number' && typeof r[1] === 'number' && r[0] > r[1]) {
      const message = `low must not exceed high, got ${showValue(r)}`;
      out.push(problemAt([...path, key], r, '[low, high] with low <= high', message));
    }
  }
  for (const group of ['payload', 'latch'] as const) {
    const fields = route[group];
    if (!isPlainObject(fields)) continue;
    for (const [name, field] of Object.entries(fields)) {
      if (isPlainObject(field) && field.arg !== undefined) {
        const message =
          'MIDI messages have no argument positions: take a field with name (e.g. name: velocity)';
        out.push(problemAt([...path, group, name, 'arg'], field.arg, 'name instead of arg', message));
      }
    }
  }
  checkRouteFields(route, path, MIDI_FIELD_NAMES, 'the MIDI message fields', 'none', out);
}

function checkOutput(output: Obj, path: Segment[], out: ConfigProblem[]): void {
  const send = typeof output.send === 'string' ? output.send : undefined;
  const allowed = send === undefined ? undefined : MIDI_SEND_FIELDS[send];
  if (!isPlainObject(output.fields)) return;
  for (const [name, field] of Object.entries(output.fields)) {
    const at = [...path, 'fields', name];
    if (allowed !== undefined && !allowed.includes(name)) {
      const message = `send ${send} takes no field ${showValue(name)} (its fields: ${allowed.join(', ')})`;
      out.push(problemAt(at, field, `one of ${allowed.join(', ')}`, message));
    }
    if (!isPlainObject(field)) continue;
    const given = ['from', 'value'].filter((k) => field[k] !== undefined);
    if (given.length !== 1) {
      out.push(problemAt(at, field, 'exactly one of from or value', 'set exactly one of from or value'));
    }
  }
}
