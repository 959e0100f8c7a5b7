/**
 * Schema defaults for what the embedded default cannot hold: the keys of items in lists and of entries
 * in mappings by name (an `osc.targets` entry without `protocol` gets `udp`). The walk follows the
 * schema, which is finite, so a cyclic YAML alias cannot make it loop. Nothing is mutated: an object
 * that gains a key is a copy, untouched branches are shared.
 *
 * Why not TypeBox's `Value.Default`: it mutates its input in place (ours may be the caller's object, or
 * share branches with the frozen embedded default), and on this version it does not enter the entries
 * of a `Type.Record` whose value schema has no default of its own.
 */
import { isPlainObject } from './problems.js';

interface DefaultsNode {
  type?: string;
  default?: unknown;
  properties?: Record<string, DefaultsNode>;
  patternProperties?: Record<string, DefaultsNode>;
  items?: DefaultsNode | readonly DefaultsNode[];
}

/** `value` with every missing key that has a schema default filled in, at any depth. */
export function withDefaults(schema: object, value: unknown): unknown {
  return fill(schema as DefaultsNode, value);
}

function fill(schema: DefaultsNode, value: unknown): unknown {
  if (schema.type === 'object' && isPlainObject(value)) return fillObject(schema, value);
  if (schema.type === 'array' && Array.isArray(value) && schema.items !== undefined) {
    const { items } = schema;
    const filled = value.map((item, i) =>
      fill(Array.isArray(items) ? (items[i] ?? {}) : (items as DefaultsNode), item),
    );
    return filled.every((item, i) => item === value[i]) ? value : filled;
  }
  return value;
}

function fillObject(schema: DefaultsNode, value: Record<string, unknown>): Record<string, unknown> {
  const properties = schema.properties ?? {};
  const anyKey = Object.values(schema.patternProperties ?? {})[0];
  let out = value;
  const set = (key: string, child: unknown): void => {
    if (out === value) out = { ...value };
    // defineProperty: a key `__proto__` must stay an own key (load.ts reports it as unknown).
    Object.defineProperty(out, key, { value: child, enumerable: true, writable: true, configurable: true });
  };
  for (const [key, child] of Object.entries(value)) {
    const sub = Object.hasOwn(properties, key) ? properties[key] : anyKey;
    if (sub === undefined) continue;
    const filled = fill(sub, child);
    if (filled !== child) set(key, filled);
  }
  for (const [key, sub] of Object.entries(properties)) {
    if (Object.hasOwn(value, key) || !Object.hasOwn(sub, 'default')) continue;
    set(key, fill(sub, structuredClone(sub.default)));
  }
  return out;
}
