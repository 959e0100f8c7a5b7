/**
 * The schema of one payload field of a route, shared by every adapter's routes (OSC, MIDI, …): the
 * field engine of adapters/shared/fields.ts takes exactly this. Rules across its keys (one source, a
 * name the route knows, distinct scale bounds) are in field-rules.ts.
 */
import Type from 'typebox';

const closed = { additionalProperties: false } as const;
const jsonValue = (description: string) => Type.Unknown({ description });

/** One payload field of a route: where its value comes from, and how it is shaped. */
export const PayloadFieldSchema = Type.Object(
  {
    arg: Type.Optional(
      Type.Integer({
        minimum: 0,
        description: 'Take the argument at this position (0 = first; OSC: the argument list).',
      }),
    ),
    name: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          "Take the value named so: OSC, one of the route's `args`; MIDI, a field of the message (note, velocity, value…).",
      }),
    ),
    value: Type.Optional(jsonValue('A constant (any JSON value).')),
    latch: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'Take the value a route last stored under this name (its `latch`), or `default` until then.',
      }),
    ),
    now: Type.Optional(
      Type.Boolean({ description: 'true: the time the message arrived, ms on the bus clock.' }),
    ),
    default: Type.Optional(jsonValue('With `latch`: the value until a route has stored one.')),
    scale: Type.Optional(
      Type.Tuple([Type.Number(), Type.Number(), Type.Number(), Type.Number()], {
        description:
          'Linear map [inMin, inMax, outMin, outMax] of a numeric argument: inMin maps to outMin, inMax to outMax (inMin != inMax).',
      }),
    ),
    clamp: Type.Optional(
      Type.Boolean({ description: 'Clamp the scaled value to [outMin, outMax]. Absent: false.' }),
    ),
    round: Type.Optional(
      Type.Boolean({ description: 'Round the value to the nearest integer (after scale). Absent: false.' }),
    ),
    div: Type.Optional(
      Type.Number({
        exclusiveMinimum: 0,
        description: 'Integer division (floor) of a numeric value, after round.',
      }),
    ),
    mod: Type.Optional(
      Type.Number({
        exclusiveMinimum: 0,
        description: 'Remainder (never negative) of a numeric value, after div.',
      }),
    ),
    add: Type.Optional(
      Type.Number({ description: 'Added to a numeric value, last (e.g. 1 for 1-based counts).' }),
    ),
  },
  {
    ...closed,
    description:
      'One payload field: exactly one of arg, name, value, latch or now; then scale, clamp, round, div, mod, add in that order.',
  },
);

/** One payload field of a route. */
export type PayloadFieldConfig = Type.Static<typeof PayloadFieldSchema>;
