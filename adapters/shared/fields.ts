/**
 * The route/field engine every adapter shares (issue #7, "make room"): how a wire message becomes a
 * bus payload (field sources arg/name/value/latch/now, the numeric steps scale/clamp/round/div/mod/add,
 * latches, the catalog payload check), and how a bus payload is read back for an output (dotted paths,
 * `where` filters). Pure: no wire format here. Each adapter says what `arg` and `name` mean for its
 * messages (OSC: argument positions and the route's names for them; MIDI: the message's fields) by
 * giving a {@link ReadArg}, and keeps its own matching (OSC address patterns, MIDI kinds and ranges).
 */
import { PRIORITY_NAMES, type Priority, type PriorityName } from '../../daemon/bus/index.js';
import { checkPayload } from '../../daemon/kernel/catalog-schemas.js';

/**
 * How one payload field is made from an incoming message: exactly one source (arg, name, value, latch,
 * now), then the numeric steps scale, clamp, round, div, mod, add, in that order.
 */
export interface FieldRule {
  arg?: number;
  name?: string;
  value?: unknown;
  /** A value a route stored (its `latch`), or `default` until one did. */
  latch?: string;
  default?: unknown;
  /** The arrival time, ms on the bus clock. */
  now?: boolean;
  /** [inMin, inMax, outMin, outMax]: a linear map, e.g. a 0..1 fader to 0..127. */
  scale?: readonly number[];
  clamp?: boolean;
  round?: boolean;
  div?: number;
  mod?: number;
  add?: number;
}

/** Values routes remember (`latch`) for other routes, e.g. the last tempo for beats. */
export type Latches = Map<string, unknown>;

/**
 * Reads a field's `arg` or `name` source from the incoming message: returns the value and what it came
 * from ("argument 1", "velocity"), or throws an Error whose message says what is missing.
 */
export type ReadArg = (spec: { arg?: number; name?: string }, field: string) => [unknown, string];

/** What a route publishes: its bus type, priority, recipient and payload fields. */
export interface RouteTarget {
  type: string;
  priority?: PriorityName;
  to?: string;
  payload?: Readonly<Record<string, FieldRule>>;
  latch?: Readonly<Record<string, FieldRule>>;
}

/** What an incoming message becomes on the bus. */
export interface Routed {
  type: string;
  priority: Priority | undefined;
  to: string | undefined;
  payload: unknown;
}

const NUMERIC = ['scale', 'clamp', 'round', 'div', 'mod', 'add'] as const;

/** The field's raw value and what it came from. */
function source(
  field: string,
  spec: FieldRule,
  read: ReadArg,
  now: number,
  latches: Latches,
): [unknown, string] {
  if (spec.value !== undefined) return [spec.value, 'the value'];
  if (spec.now) return [now, 'the arrival time'];
  if (spec.latch !== undefined) {
    const v = latches.has(spec.latch) ? latches.get(spec.latch) : spec.default;
    if (v === undefined) throw new Error(`${field}: latch "${spec.latch}" has no value yet and no default`);
    return [v, `latch "${spec.latch}"`];
  }
  return read(spec, field);
}

/** One field's value: its source, then the numeric steps. Throws an Error naming the field. */
export function fieldValue(
  field: string,
  spec: FieldRule,
  read: ReadArg,
  now: number,
  latches: Latches,
): unknown {
  let [v, from] = source(field, spec, read, now, latches);
  if (!NUMERIC.some((k) => spec[k] !== undefined && spec[k] !== false)) return v;
  if (typeof v === 'boolean') v = v ? 1 : 0;
  if (typeof v !== 'number')
    throw new Error(`${field}: ${from} is ${typeof v}, a number is needed to scale it`);
  let n = v;
  if (Number.isNaN(n)) throw new Error(`${field}: ${from} is NaN`);
  if (spec.scale !== undefined) {
    const [inMin = 0, inMax = 1, outMin = 0, outMax = 1] = spec.scale;
    n = outMin + ((n - inMin) * (outMax - outMin)) / (inMax - inMin);
    if (spec.clamp) n = Math.min(Math.max(n, Math.min(outMin, outMax)), Math.max(outMin, outMax));
  }
  if (spec.round) n = Math.round(n);
  if (spec.div !== undefined) n = Math.floor(n / spec.div);
  if (spec.mod !== undefined) n = ((n % spec.mod) + spec.mod) % spec.mod;
  if (spec.add !== undefined) n += spec.add;
  return n;
}

/**
 * Checks a route's fields once, at compile time: exactly one source each, and `name` among the names
 * the adapter knows (`names`, when it can tell; `label` names them in the reason). Returns the first
 * problem, or undefined.
 */
export function fieldProblem(
  target: RouteTarget,
  names?: readonly string[],
  label = names?.join(', ') ?? '',
): string | undefined {
  for (const [group, fields] of [
    ['payload', target.payload],
    ['latch', target.latch],
  ] as const) {
    for (const [field, spec] of Object.entries(fields ?? {})) {
      const sources = [spec.arg, spec.name, spec.value, spec.latch, spec.now || undefined].filter(
        (s) => s !== undefined,
      ).length;
      if (sources !== 1) return `${group}.${field}: set exactly one of arg, name, value, latch or now`;
      if (spec.name !== undefined && names !== undefined && !names.includes(spec.name)) {
        return `${group}.${field}: "${spec.name}" is not one of ${label}`;
      }
    }
  }
  return undefined;
}

/** The priority value of a route's priority name, or undefined for the type's usual one. */
export function priorityOf(name: PriorityName | undefined): Priority | undefined {
  return name === undefined ? undefined : (PRIORITY_NAMES.indexOf(name) as Priority);
}

/**
 * Builds the bus message of a matched route: stores its latches, makes its payload fields (or the
 * adapter's default payload when the route names none) and checks a catalog payload. Returns the
 * message, or a reason prefixed with `where` when the message does not fit.
 */
export function routeMessage(
  where: string,
  target: RouteTarget,
  read: ReadArg,
  now: number,
  latches: Latches,
  defaultPayload: () => unknown,
): Routed | string {
  let payload: unknown;
  try {
    for (const [name, spec] of Object.entries(target.latch ?? {})) {
      latches.set(name, fieldValue(`latch.${name}`, spec, read, now, latches));
    }
    if (target.payload !== undefined) {
      const out: Record<string, unknown> = {};
      for (const [field, spec] of Object.entries(target.payload)) {
        out[field] = fieldValue(field, spec, read, now, latches);
      }
      payload = out;
    } else payload = defaultPayload();
  } catch (err) {
    return `${where}: ${(err as Error).message}`;
  }
  const problem = checkPayload(target.type, payload);
  if (problem !== undefined) return `${where}: ${problem}`;
  return { type: target.type, priority: priorityOf(target.priority), to: target.to, payload };
}

/** Reads a dotted path (`bpm`, `note.pitch`) from a payload; undefined when absent. */
export function pick(payload: unknown, path: string): unknown {
  let v: unknown = payload;
  for (const key of path.split('.')) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

/** An output rule's `where` filter: every listed payload path must equal its value. */
export function whereFilter(
  where: Readonly<Record<string, unknown>> | undefined,
): (payload: unknown) => boolean {
  const filter = Object.entries(where ?? {});
  if (filter.length === 0) return () => true;
  return (payload) => filter.every(([path, want]) => pick(payload, path) === want);
}
