/**
 * Rules of a route's payload and latch fields that the schema alone cannot say, for every adapter's
 * routes (the field engine is shared: adapters/shared/fields.ts): exactly one source per field,
 * `default` only with `latch`, a `name` the route knows, a scale with distinct input bounds.
 */
import { type ConfigProblem, isPlainObject, problemAt, type Segment, showValue } from './problems.js';

type Obj = Record<string, unknown>;

/**
 * Checks `route.payload` and `route.latch`. `names` are the names a `name` source may take (undefined:
 * any), `known` says what they are in a problem ("the route's args"), `none` what it says when there
 * are none ("the route has no args").
 */
export function checkRouteFields(
  route: Obj,
  path: Segment[],
  names: readonly string[] | undefined,
  known: string,
  none: string,
  out: ConfigProblem[],
): void {
  const checkField = (field: Obj, at: Segment[]): void => {
    const sources = ['arg', 'name', 'value', 'latch', 'now'].filter((k) => field[k] !== undefined);
    if (sources.length !== 1) {
      const what = 'set exactly one of arg, name, value, latch or now';
      out.push(problemAt(at, field, 'exactly one of arg, name, value, latch or now', what));
    }
    if (field.default !== undefined && field.latch === undefined) {
      out.push(
        problemAt(
          [...at, 'default'],
          field.default,
          'default only with latch',
          'default goes with latch only',
        ),
      );
    }
    if (typeof field.name === 'string' && names !== undefined && !names.includes(field.name)) {
      const list = names.length > 0 ? `known: ${names.join(', ')}` : none;
      const what = `"${field.name}" is not one of ${known} (${list})`;
      out.push(problemAt([...at, 'name'], field.name, `a name of ${known}`, what));
    }
    const { scale } = field;
    if (Array.isArray(scale) && scale.length === 4 && scale[0] === scale[1] && typeof scale[0] === 'number') {
      const what = `inMin and inMax must differ, got ${showValue(scale)}`;
      out.push(
        problemAt([...at, 'scale'], scale, '[inMin, inMax, outMin, outMax] with inMin != inMax', what),
      );
    }
  };
  for (const group of ['payload', 'latch'] as const) {
    const fields = route[group];
    if (!isPlainObject(fields)) continue;
    for (const [key, field] of Object.entries(fields))
      if (isPlainObject(field)) checkField(field, [...path, group, key]);
  }
}
