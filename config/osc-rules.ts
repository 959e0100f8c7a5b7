/**
 * Rules of the `osc:` section that span several keys, which the schema alone cannot say (issue #4):
 * a payload field takes exactly one source, a name it takes is one of the route's `args`, a scale has
 * distinct input bounds, an output names a known target (after presets are merged), an argument carries
 * data exactly when its type tag does, a constant fits its type tag, and a target's `framing` needs
 * `protocol: tcp` (issue #10). Each rule looks only at parts whose shape is right; the schema walk
 * (problems.ts) reports the others.
 */
import { checkRouteFields } from './field-rules.js';
import { OSC_DATALESS_TAGS, OSC_TYPE_TAGS } from './osc-schema.js';
import { type ConfigProblem, isPlainObject, problemAt, type Segment, showValue } from './problems.js';

type Obj = Record<string, unknown>;

/** Every problem of the rules, for the whole config (`value` as merged, before validation). */
export function findOscProblems(value: unknown): ConfigProblem[] {
  const osc = isPlainObject(value) ? value.osc : undefined;
  if (!isPlainObject(osc)) return [];
  const out: ConfigProblem[] = [];
  const base: Segment[] = ['osc'];
  checkListeners(osc, out);
  eachObject(osc.routes, [...base, 'routes'], (route, path) => {
    checkRoute(route, path, out);
  });
  eachEntry(osc.targets, [...base, 'targets'], (target, path) => {
    checkTargetFraming(target, path, out);
    eachObject(target.onStart, [...path, 'onStart'], (message, at) => {
      eachObject(message.args, [...at, 'args'], (arg, argPath) => {
        checkArg(arg, argPath, false, out);
      });
    });
  });
  const targets = isPlainObject(osc.targets) ? Object.keys(osc.targets) : [];
  eachObject(osc.outputs, [...base, 'outputs'], (output, path) => {
    if (typeof output.target === 'string' && isPlainObject(osc.targets) && !targets.includes(output.target)) {
      const known = targets.length > 0 ? targets.join(', ') : 'none';
      const what = `${showValue(output.target)} is not a target (known: ${known})`;
      out.push(problemAt([...path, 'target'], output.target, 'a key of osc.targets', what));
    }
    eachObject(output.args, [...path, 'args'], (arg, argPath) => {
      checkArg(arg, argPath, true, out);
    });
  });
  return out;
}

/** Two UDP listeners on one host and port: the second bind would fail (port 0 is always free). */
function checkListeners(osc: Obj, out: ConfigProblem[]): void {
  const seen = new Map<string, string>();
  const note = (listener: unknown, path: Segment[], name: string): void => {
    if (!isPlainObject(listener) || typeof listener.host !== 'string') return;
    if (typeof listener.port !== 'number' || listener.port === 0) return;
    const key = `${listener.host}:${listener.port}`;
    const first = seen.get(key);
    if (first === undefined) seen.set(key, name);
    else
      out.push(
        problemAt(
          path,
          listener,
          'a host and port no other listener uses',
          `${key} is already used by ${first}`,
        ),
      );
  };
  note(osc.listen, ['osc', 'listen'], 'osc.listen');
  if (Array.isArray(osc.extraListen)) {
    osc.extraListen.forEach((listener, i) => {
      note(listener, ['osc', 'extraListen', i], `osc.extraListen[${i}]`);
    });
  }
}

/**
 * `framing` delimits packets on a TCP stream; a UDP datagram is one packet already. A target with
 * `framing` but no `protocol: tcp` most likely lacks the protocol, so it is named rather than ignored.
 */
function checkTargetFraming(target: Obj, path: Segment[], out: ConfigProblem[]): void {
  if (target.framing === undefined || target.protocol === 'tcp') return;
  const protocol = typeof target.protocol === 'string' ? target.protocol : 'udp';
  const what = `framing applies to TCP targets only (this one is ${protocol}): set protocol: tcp, or remove framing`;
  out.push(problemAt([...path, 'framing'], target.framing, 'no framing for a UDP target', what));
}

function checkRoute(route: Obj, path: Segment[], out: ConfigProblem[]): void {
  const names = Array.isArray(route.args) ? route.args.filter((a): a is string => typeof a === 'string') : [];
  names.forEach((name, i) => {
    if (names.indexOf(name) !== i) {
      out.push(problemAt([...path, 'args', i], name, 'a name not used before', `"${name}" is named twice`));
    }
  });
  checkRouteFields(route, path, names, "the route's args", 'the route has no args', out);
}

/**
 * An argument: T F N I carry no data; any other type takes its value from the bus message (`from`,
 * outputs only) or a constant (`value`), exactly one of them.
 */
function checkArg(arg: Obj, path: Segment[], withFrom: boolean, out: ConfigProblem[]): void {
  const { type } = arg;
  // A bad type tag is the schema's to report.
  if (typeof type !== 'string' || !(OSC_TYPE_TAGS as readonly string[]).includes(type)) return;
  const given = (withFrom ? ['from', 'value'] : ['value']).filter((k) => arg[k] !== undefined);
  if (OSC_DATALESS_TAGS.has(type)) {
    if (given.length > 0) {
      const what = `type ${type} carries no data: leave out ${given.join(' and ')}`;
      out.push(problemAt(path, arg, 'no from or value', what));
    }
    return;
  }
  if (withFrom && given.length !== 1) {
    const what = `set exactly one of from or value (type ${type} carries data)`;
    out.push(problemAt(path, arg, 'exactly one of from or value', what));
  } else if (!withFrom && given.length === 0) {
    const expected = `a value of type ${type}`;
    out.push(problemAt([...path, 'value'], undefined, expected, `missing, expected ${expected}`));
  }
  if (arg.value !== undefined) checkConstant(type, arg.value, [...path, 'value'], out);
}

/**
 * The constants whose fit is plain to check. Blobs (b), timetags (t), colors (r) and MIDI (m) are
 * passed to the adapter's codec as given, which checks them.
 */
const CONSTANT_KINDS: Readonly<Record<string, [string, (v: unknown) => boolean]>> = {
  i: ['integer -2147483648..2147483647', (v) => Number.isInteger(v) && isInt32(v as number)],
  h: ['integer', (v) => Number.isSafeInteger(v)],
  f: ['number', (v) => typeof v === 'number'],
  d: ['number', (v) => typeof v === 'number'],
  s: ['string', (v) => typeof v === 'string'],
  S: ['string', (v) => typeof v === 'string'],
  c: ['one character', (v) => typeof v === 'string' && [...v].length === 1],
};

function isInt32(n: number): boolean {
  return n >= -(2 ** 31) && n < 2 ** 31;
}

function checkConstant(type: string, value: unknown, path: Segment[], out: ConfigProblem[]): void {
  const kind = CONSTANT_KINDS[type];
  if (kind === undefined) return;
  const [expected, fits] = kind;
  if (fits(value)) return;
  const what = `expected ${expected} for type ${type}, got ${showValue(value)}`;
  out.push(problemAt(path, value, `${expected} for type ${type}`, what));
}

export function eachObject(list: unknown, path: Segment[], fn: (item: Obj, path: Segment[]) => void): void {
  if (!Array.isArray(list)) return;
  list.forEach((item, i) => {
    if (isPlainObject(item)) fn(item, [...path, i]);
  });
}

export function eachEntry(map: unknown, path: Segment[], fn: (item: Obj, path: Segment[]) => void): void {
  if (!isPlainObject(map)) return;
  for (const [key, item] of Object.entries(map)) if (isPlainObject(item)) fn(item, [...path, key]);
}
