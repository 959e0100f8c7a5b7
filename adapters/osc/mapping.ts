/**
 * Mapping rules (issue #4), pure: OSC message → bus message (routes), bus message → OSC arguments
 * (outputs). Compiled once from the config; a rule that cannot work is refused at start with
 * PFM_ERR_OSC_CONFIG naming it. The field engine (sources, numeric steps, latches, payload checks) is
 * the one all adapters share (adapters/shared/fields.ts); what is OSC's own is here: address patterns,
 * argument positions and their names, OSC type tags on output.
 */
import type { AnyMessage, PriorityName } from '../../daemon/bus/index.js';
import { OscConfigError, OscEncodeError } from '../../daemon/kernel/errors.js';
import {
  type FieldRule,
  fieldProblem,
  type Latches,
  pick,
  type ReadArg,
  type Routed,
  routeMessage,
  whereFilter,
} from '../shared/fields.js';
import { compilePattern, isValidAddress } from './pattern.js';
import type { OscArg, OscMessage } from './types.js';

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

export type { FieldRule, Latches, Routed };

/** A compiled route: `map` returns the bus message, or a reason when the arguments do not fit. */
export interface CompiledRoute {
  readonly rule: RouteRule;
  matches(address: string): boolean;
  /** `now` is the arrival time on the bus clock. */
  map(message: OscMessage, now: number): Routed | string;
}

/** OSC's `arg` and `name` sources: argument positions, and the route's names for them. */
function oscReader(rule: RouteRule, message: OscMessage): ReadArg {
  return (spec, field) => {
    const index = spec.arg ?? (spec.name === undefined ? -1 : (rule.args ?? []).indexOf(spec.name));
    if (index < 0 || index >= message.args.length) {
      throw new Error(
        `${field}: argument ${spec.name ?? index} is missing (got ${message.args.length} arguments)`,
      );
    }
    return [message.args[index], `argument ${index}`];
  };
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
    const problem = fieldProblem(rule, rule.args ?? [], 'args');
    if (problem !== undefined) throw new OscConfigError(`${where}: ${problem}`);
    const map = (message: OscMessage, now: number): Routed | string => {
      const read = oscReader(rule, message);
      return routeMessage(where, rule, read, now, latches, () =>
        rule.args !== undefined
          ? Object.fromEntries(rule.args.map((name, k) => [name, message.args[k] ?? null]))
          : { address: message.address, args: message.args },
      );
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
    const filter = whereFilter(rule.where);
    return {
      rule,
      accepts: (m) => filter(m.payload),
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
