/**
 * Bus values that JSON cannot carry, and how they cross the JSON edges (the `/stream` WebSocket, the REST
 * API, the CLI) both ways (issue #10, "Values that JSON cannot carry"). Messages on the bus are plain
 * data, but some numbers and bytes are not JSON: `JSON.stringify` writes NaN and ±Infinity as `null`,
 * the same as OSC's Nil, and a Uint8Array as an object of indexes.
 *
 * | on the bus                           | from OSC                       | in JSON                             |
 * | ------------------------------------ | ------------------------------ | ----------------------------------- |
 * | `Infinity`                           | `I` (Infinitum), `f`/`d` inf   | `{ "$numberDouble": "Infinity" }`   |
 * | `-Infinity`, `NaN`                   | `f`/`d`                        | `{ "$numberDouble": "-Infinity" }`… |
 * | `null`                               | `N` (Nil)                      | `null`                              |
 * | a decimal string beyond 2^53         | `h` (int64)                    | the same string                     |
 * | a Uint8Array                         | `b` (blob)                     | an array of byte values             |
 *
 * The `$numberDouble` wrapper is MongoDB Extended JSON v2's (a spec clients can already parse, e.g. the
 * `bson` package's EJSON). An OSC `I` and an `f` infinity are the same number on the bus; an `osc_in`
 * message's `types` tells them apart. Going in (POST /messages), the wrapper becomes the number again,
 * so a value read from the stream and sent back reaches an output rule as it left: an `f`/`d` argument
 * sends the infinity, a `b` argument takes the array of bytes.
 */

/** The Extended JSON v2 key of a double that JSON has no literal for. */
const KEY = '$numberDouble';
const SPECIAL: Readonly<Record<string, number>> = { Infinity: Infinity, '-Infinity': -Infinity, NaN: NaN };

/** `JSON.stringify` replacer: non-finite numbers wrapped, byte arrays as arrays of numbers. */
export function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'number') {
    if (Number.isFinite(value)) return value;
    return { [KEY]: Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity' };
  }
  return value instanceof Uint8Array ? Array.from(value) : value;
}

/** `JSON.stringify` with {@link jsonReplacer}. */
export function toJson(value: unknown, space?: number): string {
  return JSON.stringify(value, jsonReplacer, space);
}

/** The number a `{ "$numberDouble": "…" }` object stands for, or undefined when `value` is not one. */
function special(value: unknown): number | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const keys = Object.keys(value);
  if (keys.length !== 1 || keys[0] !== KEY) return undefined;
  const text = (value as Record<string, unknown>)[KEY];
  return typeof text === 'string' && Object.hasOwn(SPECIAL, text) ? SPECIAL[text] : undefined;
}

/** Deeper than this, values are left as they are: a hostile body cannot exhaust the stack. */
const MAX_DEPTH = 64;

/**
 * Turns every `{ "$numberDouble": "Infinity" | "-Infinity" | "NaN" }` in parsed JSON back into the
 * number, in place where it can (arrays and plain objects, down to {@link MAX_DEPTH} levels); returns
 * the value to use. Anything else, including a malformed wrapper, is left as it is.
 */
export function reviveJson(value: unknown, depth = 0): unknown {
  const n = special(value);
  if (n !== undefined) return n;
  if (depth >= MAX_DEPTH || typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = reviveJson(value[i], depth + 1);
  } else {
    const o = value as Record<string, unknown>;
    for (const k of Object.keys(o)) o[k] = reviveJson(o[k], depth + 1);
  }
  return value;
}
