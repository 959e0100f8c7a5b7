/**
 * Mapping rules (issue #4), pure: OSC message → bus message (routes), bus message → OSC arguments
 * (outputs). Compiled once from the config; a rule that cannot work is refused at start with
 * PFM_ERR_OSC_CONFIG naming it.
 */
import { type AnyMessage, PRIORITY_NAMES, type Priority, type PriorityName } from '../../daemon/bus/index.js';
import { checkPayload } from '../../daemon/kernel/catalog-schemas.js';
import { OscConfigError, OscEncodeError } from '../../daemon/kernel/errors.js';
import { compilePattern, isValidAddress } from './pattern.js';
import type { OscArg, OscMessage } from './types.js';

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

/** An incoming route: an address pattern and the bus message it becomes. */
export interface RouteRule {
  address: string;
  type: string;
  priority?: PriorityName;
  to?: string;
  /** Names of the argument positions, for `name` fields. */
  args?: readonly string[];
  /** Payload fields; without it the payload is `{ <name>: arg }` for named args, else `{ address, args }`. */
  payload?: Readonly<Record<string, FieldRule>>;
  /** Values stored when the route matches, for other routes' `latch` fields. */
  latch?: Readonly<Record<string, FieldRule>>;
}

/** What an incoming message becomes on the bus. */
export interface Routed {
  type: string;
  priority: Priority | undefined;
  to: string | undefined;
  payload: unknown;
}

/** A compiled route: `map` returns the bus message, or a reason when the arguments do not fit. */
export interface CompiledRoute {
  readonly rule: RouteRule;
  matches(address: string): boolean;
  /** `now` is the arrival time on the bus clock. */
  map(message: OscMessage, now: number): Routed | string;
}

/** The field's raw value and what it came from (for reasons: "argument 1", "latch \"bpm\""). */
function source(
  rule: RouteRule,
  field: string,
  spec: FieldRule,
  message: OscMessage,
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
  const index = spec.arg ?? (spec.name === undefined ? -1 : (rule.args ?? []).indexOf(spec.name));
  if (index < 0 || index >= message.args.length) {
    throw new Error(
      `${field}: argument ${spec.name ?? index} is missing (got ${message.args.length} arguments)`,
    );
  }
  return [message.args[index], `argument ${index}`];
}

const NUMERIC = ['scale', 'clamp', 'round', 'div', 'mod', 'add'] as const;

function fieldValue(
  rule: RouteRule,
  field: string,
  spec: FieldRule,
  message: OscMessage,
  now: number,
  latches: Latches,
): unknown {
  let [v, from] = source(rule, field, spec, message, now, latches);
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
 * Compiles the routes in order (the first matching route wins). `latches` is shared by the routes of
 * one adapter: a route's `latch` stores values there when it matches.
 */
export function compileRoutes(rules: readonly RouteRule[], latches: Latches = new Map()): CompiledRoute[] {
  return rules.map((rule, i) => {
    const where = `osc.routes[${i}] (${rule.address})`;
    let matches: (address: string) => boolean;
    try {
      matches = compilePattern(rule.address);
    } catch (err) {
      throw new OscConfigError(`${where}: ${(err as Error).message}`, { cause: err });
    }
    const priority =
      rule.priority === undefined ? undefined : (PRIORITY_NAMES.indexOf(rule.priority) as Priority);
    for (const [field, spec] of [
      ...Object.entries(rule.payload ?? {}),
      ...Object.entries(rule.latch ?? {}),
    ]) {
      const sources = [spec.arg, spec.name, spec.value, spec.latch, spec.now || undefined].filter(
        (s) => s !== undefined,
      ).length;
      if (sources !== 1) {
        throw new OscConfigError(
          `${where}: payload.${field}: set exactly one of arg, name, value, latch or now`,
        );
      }
      if (spec.name !== undefined && !(rule.args ?? []).includes(spec.name)) {
        throw new OscConfigError(`${where}: payload.${field}: "${spec.name}" is not one of args`);
      }
    }
    const map = (message: OscMessage, now: number): Routed | string => {
      let payload: unknown;
      try {
        for (const [name, spec] of Object.entries(rule.latch ?? {})) {
          latches.set(name, fieldValue(rule, `latch.${name}`, spec, message, now, latches));
        }
        if (rule.payload !== undefined) {
          const out: Record<string, unknown> = {};
          for (const [field, spec] of Object.entries(rule.payload)) {
            out[field] = fieldValue(rule, field, spec, message, now, latches);
          }
          payload = out;
        } else if (rule.args !== undefined) {
          payload = Object.fromEntries(rule.args.map((name, k) => [name, message.args[k] ?? null]));
        } else {
          payload = { address: message.address, args: message.args };
        }
      } catch (err) {
        return `${where}: ${(err as Error).message}`;
      }
      const problem = checkPayload(rule.type, payload);
      if (problem !== undefined) return `${where}: ${problem}`;
      return { type: rule.type, priority, to: rule.to, payload };
    };
    return { rule, matches, map };
  });
}

/** An outgoing rule: a bus type (and payload filter) to an OSC message for one target. */
export interface OutputRule {
  type: string;
  where?: Readonly<Record<string, unknown>>;
  target: string;
  address: string;
  args?: readonly { type: string; from?: string; value?: unknown }[];
}

/** A compiled output: `accepts` filters, `args` builds the OSC arguments (throws PFM_ERR_OSC_ENCODE). */
export interface CompiledOutput {
  readonly rule: OutputRule;
  accepts(message: AnyMessage): boolean;
  args(message: AnyMessage): OscArg[];
}

const NO_DATA = new Set(['T', 'F', 'N', 'I']);

/** Reads a dotted path (`bpm`, `note.pitch`) from a payload. */
function pick(payload: unknown, path: string): unknown {
  let v: unknown = payload;
  for (const key of path.split('.')) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

/** Compiles the output rules, checking that each names a known target. */
export function compileOutputs(rules: readonly OutputRule[], targets: ReadonlySet<string>): CompiledOutput[] {
  return rules.map((rule, i) => {
    const where = `osc.outputs[${i}] (${rule.type} → ${rule.address})`;
    if (!targets.has(rule.target)) {
      throw new OscConfigError(
        `${where}: "${rule.target}" is not a target (known: ${[...targets].join(', ') || 'none'})`,
      );
    }
    if (!isValidAddress(rule.address))
      throw new OscConfigError(`${where}: "${rule.address}" is not an OSC address`);
    const specs = rule.args ?? [];
    for (const [k, a] of specs.entries()) {
      const carries = !NO_DATA.has(a.type);
      const set = (a.from !== undefined ? 1 : 0) + (a.value !== undefined ? 1 : 0);
      if (carries ? set !== 1 : set !== 0) {
        throw new OscConfigError(
          `${where}: args[${k}] (${a.type}): ${carries ? 'set exactly one of from or value' : 'carries no value'}`,
        );
      }
    }
    const filter = Object.entries(rule.where ?? {});
    return {
      rule,
      accepts: (m) => filter.every(([path, want]) => pick(m.payload, path) === want),
      args: (m) =>
        specs.map((a, k) => {
          if (NO_DATA.has(a.type)) return { type: a.type };
          const value = a.from !== undefined ? pick(m.payload, a.from) : a.value;
          if (value === undefined)
            throw new OscEncodeError(`${where}: args[${k}]: payload has no "${a.from}"`);
          return { type: a.type, value };
        }),
    };
  });
}
