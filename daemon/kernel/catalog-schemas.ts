/**
 * Runtime schemas of the catalog payloads (daemon/bus/messages.ts, `MessageMap`), for the edges where
 * messages arrive as data (the REST API now, mapping rules later). The bus itself trusts its callers'
 * types; an edge checks with these before it publishes. `test/unit/catalog-schemas.test.ts` keeps them
 * in step with `MessageMap` at the type level.
 */
import Type, { type Static, type TSchema } from 'typebox';
import Value from 'typebox/value';
import type { MessageType } from '../bus/index.js';

const Num = Type.Number();
const Time = Type.Number({ description: 'ms on the bus clock' });
const Note = Type.Integer({ minimum: 0, maximum: 127 });
const Velocity = Type.Integer({ minimum: 0, maximum: 127 });
const Channel = Type.Integer({ minimum: 1, maximum: 16 });
const Unit = Type.Number({ minimum: 0, maximum: 1 });
const open = { additionalProperties: false } as const;

/** One schema per catalog type. */
export const PAYLOAD_SCHEMAS = {
  beat_event: Type.Object(
    { beat: Type.Integer({ minimum: 1 }), bar: Type.Integer({ minimum: 1 }), bpm: Num, at: Time },
    open,
  ),
  transport: Type.Object(
    {
      state: Type.Union([Type.Literal('start'), Type.Literal('stop'), Type.Literal('continue')]),
      position: Num,
    },
    open,
  ),
  chord_change: Type.Object(
    { chord: Type.String({ minLength: 1 }), bar: Type.Integer({ minimum: 1 }), at: Time },
    open,
  ),
  tempo_change: Type.Object({ bpm: Type.Number({ exclusiveMinimum: 0, maximum: 999 }) }, open),
  progression_change: Type.Object(
    { chords: Type.Array(Type.String({ minLength: 1, maxLength: 32 }), { minItems: 1, maxItems: 256 }) },
    open,
  ),
  pitch_detected: Type.Object(
    {
      hz: Type.Number({ exclusiveMinimum: 0 }),
      midi: Num,
      note: Type.String({ minLength: 1, maxLength: 8 }),
      cents: Num,
      confidence: Unit,
      at: Time,
    },
    open,
  ),
  onset_detected: Type.Object({ at: Time, strength: Num }, open),
  tempo_detected: Type.Object(
    { bpm: Type.Number({ exclusiveMinimum: 0, maximum: 999 }), confidence: Unit, beat: Type.Optional(Time) },
    open,
  ),
  play_note: Type.Object(
    {
      note: Note,
      velocity: Velocity,
      duration: Type.Number({ minimum: 0 }),
      channel: Channel,
      at: Type.Optional(Time),
    },
    open,
  ),
  play_chord: Type.Object(
    {
      notes: Type.Array(Note, { minItems: 1 }),
      velocity: Velocity,
      duration: Type.Number({ minimum: 0 }),
      channel: Channel,
      at: Type.Optional(Time),
    },
    open,
  ),
  play_drums: Type.Object(
    {
      hits: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
      velocity: Velocity,
      at: Type.Optional(Time),
    },
    open,
  ),
  control_change: Type.Object(
    {
      channel: Channel,
      controller: Type.Integer({ minimum: 0, maximum: 127 }),
      value: Type.Integer({ minimum: 0, maximum: 127 }),
    },
    open,
  ),
  midi_in: Type.Object({ port: Type.String(), kind: Type.String() }, { additionalProperties: true }),
  midi_device: Type.Object(
    {
      port: Type.String(),
      direction: Type.Union([Type.Literal('in'), Type.Literal('out'), Type.Literal('both')]),
      state: Type.String(),
      name: Type.Optional(Type.String()),
      reason: Type.Optional(Type.String()),
    },
    open,
  ),
  panic: Type.Object({ reason: Type.Optional(Type.String()) }, open),
  osc_in: Type.Object(
    {
      address: Type.String({ pattern: '^/' }),
      args: Type.Array(Type.Unknown()),
      source: Type.Optional(Type.String()),
    },
    open,
  ),
  analytics_report: Type.Record(Type.String(), Type.Unknown()),
} satisfies { [K in MessageType]: TSchema };

/** The payload type a schema describes (for the type-level test). */
export type SchemaPayload<K extends MessageType> = Static<(typeof PAYLOAD_SCHEMAS)[K]>;

/**
 * Checks a payload against its catalog type. Returns undefined when it is valid (or the type is not
 * in the catalog: wire-mapped types are open), else a reason naming the field.
 */
export function checkPayload(type: string, payload: unknown): string | undefined {
  const schema = (PAYLOAD_SCHEMAS as Record<string, TSchema>)[type];
  if (schema === undefined) return undefined;
  if (Value.Check(schema, payload)) return undefined;
  const errors = Value.Errors(schema, payload);
  // "schema is false" (keyword boolean) restates an additionalProperties error less clearly.
  const first = errors.find((e) => e.keyword !== 'boolean') ?? errors[0];
  if (first === undefined) return `payload does not match ${type}`;
  const where = first.instancePath === '' ? 'payload' : `payload${first.instancePath.replaceAll('/', '.')}`;
  const extra = (first.params as { additionalProperties?: unknown }).additionalProperties;
  const what = Array.isArray(extra) ? `unknown field ${extra.join(', ')}` : first.message;
  return `${where}: ${what} (${type})`;
}
