import { describe, expect, it } from 'vitest';
import {
  fieldProblem,
  fieldValue,
  type Latches,
  pick,
  type ReadArg,
  type Routed,
  routeMessage,
  whereFilter,
} from '../../../../adapters/shared/fields.js';

/** A reader over named fields, as the MIDI adapter gives one (no argument positions). */
function named(fields: Record<string, unknown>): ReadArg {
  return (spec, field) => {
    if (spec.name === undefined || !(spec.name in fields)) throw new Error(`${field}: no field ${spec.name}`);
    return [fields[spec.name], spec.name];
  };
}

describe('the shared field engine with a reader of named fields', () => {
  it('builds a catalog payload from named fields with the numeric steps', () => {
    const out = routeMessage(
      'midi.routes[0]',
      {
        type: 'tempo_change',
        payload: { bpm: { name: 'value', scale: [0, 127, 60, 180], round: true } },
      },
      named({ value: 64 }),
      0,
      new Map(),
      () => null,
    ) as Routed;
    expect(out).toEqual({ type: 'tempo_change', priority: undefined, to: undefined, payload: { bpm: 120 } });
  });

  it('says which field is missing, prefixed with the rule', () => {
    const out = routeMessage(
      'midi.routes[2]',
      { type: 'hit', payload: { v: { name: 'velocity' } } },
      named({ note: 36 }),
      0,
      new Map(),
      () => null,
    );
    expect(out).toBe('midi.routes[2]: v: no field velocity');
  });

  it('checks catalog payloads after the fields are made', () => {
    const out = routeMessage(
      'r',
      {
        type: 'control_change',
        payload: { channel: { value: 1 }, controller: { value: 7 }, value: { name: 'v' } },
      },
      named({ v: 300 }),
      0,
      new Map(),
      () => null,
    );
    expect(out).toBe('r: payload.value: must be <= 127 (control_change)');
  });

  it('takes the priority by name and the default payload when the route names no fields', () => {
    const out = routeMessage(
      'r',
      { type: 'x', priority: 'CRITICAL', to: 'bass' },
      named({}),
      5,
      new Map(),
      () => ({
        raw: true,
      }),
    );
    expect(out).toEqual({ type: 'x', priority: 0, to: 'bass', payload: { raw: true } });
  });

  it('stores latches for later routes and falls back to the default until then', () => {
    const latches: Latches = new Map();
    const read = named({ value: 90 });
    expect(fieldValue('bpm', { latch: 'tempo', default: 120 }, read, 0, latches)).toBe(120);
    routeMessage('r', { type: 'y', latch: { tempo: { name: 'value' } } }, read, 0, latches, () => null);
    expect(fieldValue('bpm', { latch: 'tempo', default: 120 }, read, 0, latches)).toBe(90);
  });

  it('applies scale, clamp, round, div, mod and add in that order', () => {
    const read = named({ v: 1.2 });
    expect(fieldValue('f', { name: 'v', scale: [0, 1, 0, 100], clamp: true }, read, 0, new Map())).toBe(100);
    expect(
      fieldValue(
        'f',
        { name: 'v', scale: [0, 1, 0, 100], round: true, div: 7, mod: 5, add: 1 },
        read,
        0,
        new Map(),
      ),
    ).toBe(3);
    expect(() => fieldValue('f', { name: 'v', round: true }, named({ v: 'x' }), 0, new Map())).toThrow(
      'f: v is string, a number is needed to scale it',
    );
    expect(fieldValue('t', { now: true }, read, 42.5, new Map())).toBe(42.5);
  });

  it('refuses fields with no source, two sources, or a name the adapter does not know', () => {
    expect(fieldProblem({ type: 't', payload: { a: {} } })).toBe(
      'payload.a: set exactly one of arg, name, value, latch or now',
    );
    expect(fieldProblem({ type: 't', latch: { a: { value: 1, now: true } } })).toBe(
      'latch.a: set exactly one of arg, name, value, latch or now',
    );
    expect(fieldProblem({ type: 't', payload: { a: { name: 'velo' } } }, ['note', 'velocity'])).toBe(
      'payload.a: "velo" is not one of note, velocity',
    );
    expect(
      fieldProblem({ type: 't', payload: { a: { name: 'velocity' } } }, ['note', 'velocity']),
    ).toBeUndefined();
  });

  it('reads dotted paths and filters outputs with where', () => {
    expect(pick({ a: { b: 3 } }, 'a.b')).toBe(3);
    expect(pick({ a: 1 }, 'a.b')).toBeUndefined();
    const drums = whereFilter({ channel: 10 });
    expect(drums({ channel: 10, note: 36 })).toBe(true);
    expect(drums({ channel: 1, note: 36 })).toBe(false);
    expect(whereFilter(undefined)({})).toBe(true);
  });
});
