/**
 * Turns a value that does not match the config schema into problems a show technician can act on:
 * the dotted key, the value given, and what was expected in plain words
 * (`api.port: expected integer 0..65535, got "abc"`).
 *
 * Why our own walk instead of TypeBox's `Value.Errors`: its messages are JSON-Schema jargon
 * ("must be integer", "schema is false"), and on this version it does not always report every problem
 * of a value (measured: after a `minItems` failure inside a record, later keys went unreported). The
 * walk covers the keywords the config schema uses; `Value.Check` stays the final word (see load.ts).
 * Rules across several keys (osc-rules.ts) build their problems with {@link problemAt}.
 */
import { STRING_FORMATS } from './formats.js';

/** One thing wrong with a configuration. */
export interface ConfigProblem {
  /** Dotted key path, e.g. `api.port` or `bus.coalesce.fader.by[0]`; `(top level)` for the root. */
  path: string;
  /** The value found (`undefined` when the key is missing). */
  value: unknown;
  /** What was expected, in plain words. */
  expected: string;
  /** The environment variable the value came from, when it came from one. */
  env?: string;
  /** The whole line: `api.port (from PERFORMIA_API_PORT): expected integer 0..65535, got "abc"`. */
  message: string;
}

/** The parts of JSON Schema the config schema uses (TypeBox schemas are plain JSON Schema objects). */
interface SchemaNode {
  type?: string;
  enum?: readonly unknown[];
  properties?: Record<string, SchemaNode>;
  patternProperties?: Record<string, SchemaNode>;
  required?: readonly string[];
  /** One schema for every item, or (a tuple) one per position. */
  items?: SchemaNode | readonly SchemaNode[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  pattern?: string;
  /** A name of formats.ts: its check, and its words in problems. */
  format?: string;
  minItems?: number;
  maxItems?: number;
}

/** One step of a key path: a key, or a list index. */
export type Segment = string | number;

/** True for a plain `{ key: value }` object (what a YAML mapping becomes), not an array or null. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Every problem of `value` against `schema`, in key order. `envSources` maps a dotted path to the
 * environment variable that set it, so its problem names the variable too.
 */
export function findProblems(
  schema: object,
  value: unknown,
  envSources: ReadonlyMap<string, string> = new Map(),
): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  walk(schema as SchemaNode, value, [], out);
  return out.map((p) => withEnv(p, envSources.get(p.path)));
}

function walk(schema: SchemaNode, value: unknown, path: Segment[], out: ConfigProblem[]): void {
  if (schema.type === 'object') {
    walkObject(schema, value, path, out);
  } else if (schema.type === 'array' && Array.isArray(value) && schema.items !== undefined) {
    const { items } = schema;
    if (isTuple(items)) {
      // A tuple (TypeBox: `items` as a list, no additional items): exactly one value per position.
      if (value.length !== items.length) out.push(mismatch(path, value, schema));
      else
        items.forEach((item, i) => {
          walk(item, value[i], [...path, i], out);
        });
      return;
    }
    const tooMany = schema.maxItems !== undefined && value.length > schema.maxItems;
    if (value.length < (schema.minItems ?? 0) || tooMany) out.push(mismatch(path, value, schema));
    value.forEach((item, i) => {
      walk(items, item, [...path, i], out);
    });
  } else if (!matchesScalar(schema, value)) {
    out.push(mismatch(path, value, schema));
  }
}

function walkObject(schema: SchemaNode, value: unknown, path: Segment[], out: ConfigProblem[]): void {
  if (!isPlainObject(value)) {
    out.push(mismatch(path, value, schema));
    return;
  }
  const properties = schema.properties ?? {};
  const anyKey = Object.values(schema.patternProperties ?? {})[0];
  for (const [key, child] of Object.entries(value)) {
    // Object.hasOwn: a key such as `toString` must not find Object.prototype's.
    const sub = Object.hasOwn(properties, key) ? properties[key] : anyKey;
    if (sub === undefined) out.push(unknownKey([...path, key], child, Object.keys(properties)));
    else walk(sub, child, [...path, key], out);
  }
  for (const key of schema.required ?? []) {
    const sub = properties[key];
    if (!Object.hasOwn(value, key) && sub !== undefined) {
      const at = renderPath([...path, key]);
      const expected = describe(sub);
      out.push({ path: at, value: undefined, expected, message: `${at}: missing, expected ${expected}` });
    }
  }
}

function isTuple(items: SchemaNode | readonly SchemaNode[]): items is readonly SchemaNode[] {
  return Array.isArray(items);
}

function matchesScalar(schema: SchemaNode, value: unknown): boolean {
  if (schema.enum !== undefined) return schema.enum.includes(value);
  switch (schema.type) {
    case 'string':
      return (
        typeof value === 'string' && value.length >= (schema.minLength ?? 0) && matchesText(schema, value)
      );
    case 'boolean':
      return typeof value === 'boolean';
    case 'integer':
      return Number.isInteger(value) && inRange(schema, value as number);
    case 'number':
      // YAML has `.inf` and `.nan`: neither is a usable setting.
      return typeof value === 'number' && Number.isFinite(value) && inRange(schema, value);
    case undefined:
      // No type: any constant (TypeBox's Unknown), as long as it is plain JSON data.
      return isJsonValue(value);
    default:
      return false;
  }
}

function matchesText(schema: SchemaNode, text: string): boolean {
  if (schema.pattern !== undefined && !new RegExp(schema.pattern, 'u').test(text)) return false;
  const format = schema.format === undefined ? undefined : STRING_FORMATS[schema.format];
  return format === undefined || format.check(text);
}

/**
 * True for data JSON can hold: null, booleans, finite numbers, strings, and lists and mappings of them.
 * Not `.inf`/`.nan` (YAML has them), and not a cyclic YAML alias.
 */
export function isJsonValue(value: unknown, ancestors: Set<object> = new Set()): boolean {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (typeof value !== 'object' || ancestors.has(value)) return false;
  if (!Array.isArray(value) && !isPlainObject(value)) return false;
  ancestors.add(value);
  const ok = Object.values(value).every((v) => isJsonValue(v, ancestors));
  ancestors.delete(value);
  return ok;
}

function inRange(s: SchemaNode, n: number): boolean {
  return (
    (s.minimum === undefined || n >= s.minimum) &&
    (s.maximum === undefined || n <= s.maximum) &&
    (s.exclusiveMinimum === undefined || n > s.exclusiveMinimum) &&
    (s.exclusiveMaximum === undefined || n < s.exclusiveMaximum)
  );
}

/** What a schema accepts, in plain words: `integer 0..65535`, `number > 0`, `one of a, b`. */
function describe(schema: SchemaNode): string {
  if (schema.enum !== undefined) return `one of ${schema.enum.map(String).join(', ')}`;
  switch (schema.type) {
    case 'integer':
    case 'number':
      return `${schema.type}${describeRange(schema)}`;
    case 'string':
      return describeString(schema);
    case 'boolean':
      return 'true or false';
    case 'array':
      return describeArray(schema);
    case 'object': {
      const keys = Object.keys(schema.properties ?? {});
      return keys.length > 0 ? `mapping with keys ${keys.join(', ')}` : 'mapping of names to settings';
    }
    case undefined:
      return 'a JSON value (null, true/false, number, string, list or mapping)';
    default:
      return 'a valid value';
  }
}

function describeString(schema: SchemaNode): string {
  const format = schema.format === undefined ? undefined : STRING_FORMATS[schema.format];
  if (format !== undefined) return format.expected;
  const base = (schema.minLength ?? 0) > 0 ? 'non-empty string' : 'string';
  return schema.pattern === undefined ? base : `${base} matching ${schema.pattern}`;
}

function describeArray(schema: SchemaNode): string {
  const { items } = schema;
  if (items !== undefined && isTuple(items)) {
    const kinds = [...new Set(items.map(describe))];
    const [only] = kinds;
    const each = kinds.length === 1 && only !== undefined && /^[a-z]+$/.test(only) ? `${only}s` : 'values';
    return `list of ${items.length} ${each}`;
  }
  const item = items === undefined ? 'value' : describe(items);
  const what = /^[a-z]+$/.test(item) ? `${item}s` : `items (${item})`;
  const { minItems = 0, maxItems } = schema;
  if (maxItems !== undefined) return `list of ${minItems}..${maxItems} ${what}`;
  return `${minItems > 0 ? 'non-empty ' : ''}list of ${what}`;
}

function describeRange(s: SchemaNode): string {
  if (s.minimum !== undefined && s.maximum !== undefined) return ` ${s.minimum}..${s.maximum}`;
  const parts: string[] = [];
  if (s.minimum !== undefined) parts.push(`>= ${s.minimum}`);
  if (s.exclusiveMinimum !== undefined) parts.push(`> ${s.exclusiveMinimum}`);
  if (s.maximum !== undefined) parts.push(`<= ${s.maximum}`);
  if (s.exclusiveMaximum !== undefined) parts.push(`< ${s.exclusiveMaximum}`);
  return parts.length > 0 ? ` ${parts.join(' and ')}` : '';
}

function mismatch(path: Segment[], value: unknown, schema: SchemaNode): ConfigProblem {
  const at = renderPath(path);
  const expected = describe(schema);
  return { path: at, value, expected, message: `${at}: expected ${expected}, got ${showValue(value)}` };
}

/**
 * A problem found by a rule beyond the schema: `path: what` (e.g. `osc.routes[0].payload.bpm: set
 * exactly one of arg, name or value`). `expected` is what the rule wants, in plain words.
 */
export function problemAt(
  path: readonly Segment[],
  value: unknown,
  expected: string,
  what: string,
): ConfigProblem {
  const at = renderPath(path);
  return { path: at, value, expected, message: `${at}: ${what}` };
}

function unknownKey(path: Segment[], value: unknown, known: string[]): ConfigProblem {
  const at = renderPath(path);
  const key = String(path[path.length - 1]);
  const guess = closest(key, known);
  const hint = guess === undefined ? '' : `, did you mean "${guess}"?`;
  const expected = `one of the known keys: ${known.join(', ')}`;
  return {
    path: at,
    value,
    expected,
    message: `${at}: unknown key${hint} (known keys: ${known.join(', ')})`,
  };
}

function withEnv(problem: ConfigProblem, env: string | undefined): ConfigProblem {
  if (env === undefined) return problem;
  const message = `${problem.path} (from ${env})${problem.message.slice(problem.path.length)}`;
  return { ...problem, env, message };
}

/** `api.port`, `bus.coalesce["osc.fader"].by[0]`: brackets where a dot would mislead. */
export function renderPath(path: readonly Segment[]): string {
  if (path.length === 0) return '(top level)';
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/** The value as JSON, cut short when long; `nothing` for undefined. */
export function showValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    // A cyclic YAML alias or a BigInt: the problem is already reported, only the preview is lost.
    text = Object.prototype.toString.call(value);
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/**
 * The known key a typo most likely meant: equal ignoring case, or within a small edit distance (1 for
 * keys of up to 4 letters, 2 beyond), so `prot` finds `port` but `key` does not suggest `by`.
 */
function closest(key: string, known: readonly string[]): string | undefined {
  const limit = key.length <= 4 ? 1 : 2;
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const candidate of known) {
    const d = candidate.toLowerCase() === key.toLowerCase() ? 0 : editDistance(key, candidate);
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best;
}

/** Levenshtein distance where swapping two adjacent letters also costs 1 (the commonest typo). */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, d[i - 2]![j - 2]! + 1);
      }
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}
