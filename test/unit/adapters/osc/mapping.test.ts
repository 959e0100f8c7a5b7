import { describe, expect, it } from 'vitest';
import {
  type CompiledOutput,
  type CompiledRoute,
  compileOutputs,
  compileRoutes,
  type FieldRule,
  type OutputRule,
  type Routed,
  type RouteRule,
} from '../../../../adapters/osc/mapping.js';
import type { OscMessage } from '../../../../adapters/osc/types.js';
import type { AnyMessage, OscValue } from '../../../../daemon/bus/index.js';

/** An incoming OSC message; the type tags mirror the JS types (mapping reads `args` only). */
function msg(address: string, ...args: OscValue[]): OscMessage {
  const tag = (a: OscValue): string =>
    typeof a === 'number' ? 'f' : typeof a === 'string' ? 's' : a === true ? 'T' : a === false ? 'F' : 'N';
  return { kind: 'message', address, types: args.map(tag).join(''), args };
}

/** A bus message as outputs receive it. */
function busMessage(type: string, payload: unknown): AnyMessage {
  return { id: 1, type, from: 'test', to: 'broadcast', priority: 2, payload, timestamp: 0, at: undefined };
}

/** What `fn` throws, with its code. */
function thrown(fn: () => unknown): Error & { code?: string } {
  try {
    fn();
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error('expected a throw, got none');
}

function route(rule: RouteRule): CompiledRoute {
  const [compiled] = compileRoutes([rule]);
  if (compiled === undefined) throw new Error('compileRoutes returned nothing');
  return compiled;
}

/** Maps and insists on a routed message (fails the test with the reason otherwise). */
function routed(r: CompiledRoute, m: OscMessage): Routed {
  const out = r.map(m, 1_000);
  if (typeof out === 'string') throw new Error(`expected a routed message, got reason: ${out}`);
  return out;
}

/** Maps and insists on a reason string. */
function reason(r: CompiledRoute, m: OscMessage): string {
  const out = r.map(m, 1_000);
  if (typeof out !== 'string') throw new Error(`expected a reason, got ${JSON.stringify(out)}`);
  return out;
}

/** A route with one field `v` taken from argument 0, of an open (non-catalog) type. */
function field(spec: Omit<FieldRule, 'arg' | 'name' | 'value'>): CompiledRoute {
  return route({ address: '/f', type: 'fader', payload: { v: { arg: 0, ...spec } } });
}
const v = (r: CompiledRoute, ...args: OscValue[]): unknown =>
  (routed(r, msg('/f', ...args)).payload as { v: unknown }).v;

describe('compileRoutes: scaling, clamping, rounding', () => {
  const cc = route({
    address: '/fader',
    type: 'control_change',
    payload: {
      channel: { value: 1 },
      controller: { value: 7 },
      value: { arg: 0, scale: [0, 1, 0, 127], clamp: true, round: true },
    },
  });
  const ccValue = (x: OscValue): unknown =>
    (routed(cc, msg('/fader', x)).payload as { value: unknown }).value;

  it.each([
    [0, 0],
    [1, 127],
    [0.5, 64], // 63.5 rounds up
    [0.25, 32], // 31.75
    [0.1, 13], // 12.7
    [1.2, 127], // 152.4 clamps
    [-0.1, 0], // -12.7 clamps
    [1e9, 127],
    [-1e9, 0],
    [Number.POSITIVE_INFINITY, 127],
    [Number.NEGATIVE_INFINITY, 0],
  ])('maps a 0..1 fader %s to CC value %s (scale, clamp, round)', (x, want) => {
    expect(ccValue(x)).toBe(want);
  });

  it('builds the whole control_change payload, which passes the catalog check', () => {
    expect(routed(cc, msg('/fader', 0.5))).toEqual({
      type: 'control_change',
      priority: undefined,
      to: undefined,
      payload: { channel: 1, controller: 7, value: 64 },
    });
  });

  it('scales a boolean argument as 0 or 1', () => {
    expect(ccValue(true)).toBe(127);
    expect(ccValue(false)).toBe(0);
    expect(v(field({ round: true }), true)).toBe(1);
    expect(v(field({ round: true }), false)).toBe(0);
  });

  it.each([
    [0, 127],
    [1, 0],
    [0.25, 95], // 95.25
    [0.75, 32], // 31.75
    [1.5, 0], // -63.5 clamps to the lower end of the reversed range
    [-1, 127], // 254 clamps to the upper end
  ])('maps %s through a reversed out range [0,1,127,0] to %s', (x, want) => {
    expect(v(field({ scale: [0, 1, 127, 0], clamp: true, round: true }), x)).toBe(want);
  });

  it('maps through a reversed in range [1,0,0,127]', () => {
    const r = field({ scale: [1, 0, 0, 127], clamp: true, round: true });
    expect(v(r, 1)).toBe(0);
    expect(v(r, 0)).toBe(127);
    expect(v(r, 2)).toBe(0);
  });

  it('maps between arbitrary ranges (a MIDI value to a -1..1 pan, a 20..20000 frequency)', () => {
    expect(v(field({ scale: [0, 127, -1, 1] }), 0)).toBe(-1);
    expect(v(field({ scale: [0, 127, -1, 1] }), 127)).toBe(1);
    expect(v(field({ scale: [0, 127, -1, 1] }), 63.5)).toBeCloseTo(0, 12);
    expect(v(field({ scale: [0, 1, 20, 20_000] }), 0.5)).toBeCloseTo(10_010, 9);
  });

  it('leaves the value unclamped without clamp, and unrounded without round', () => {
    expect(v(field({ scale: [0, 1, 0, 127] }), 0.5)).toBe(63.5);
    expect(v(field({ scale: [0, 1, 0, 127] }), 1.2)).toBeCloseTo(152.4, 9);
    expect(v(field({ scale: [0, 1, 0, 127] }), -0.1)).toBeCloseTo(-12.7, 9);
    expect(v(field({ scale: [0, 1, 0, 127], round: true }), 1.2)).toBe(152);
    expect(v(field({ scale: [0, 1, 0, 127], clamp: true }), 0.1)).toBeCloseTo(12.7, 9);
  });

  it('rounds without a scale', () => {
    const r = field({ round: true });
    expect(v(r, 63.6)).toBe(64);
    expect(v(r, 63.4)).toBe(63);
    expect(v(r, 7)).toBe(7);
  });

  it('passes an argument through untouched when no scale, clamp or round is set (any OSC type)', () => {
    const r = field({});
    expect(v(r, 0.123)).toBe(0.123);
    expect(v(r, 'hello')).toBe('hello');
    expect(v(r, true)).toBe(true);
    expect(v(r, null)).toBe(null);
    const blob = new Uint8Array([1, 2, 3]);
    expect(v(r, blob)).toBe(blob);
    expect(v(r, [1, 'x'])).toEqual([1, 'x']);
  });

  it('refuses to scale a non-number: a reason naming the field and the argument', () => {
    const r = route({ address: '/f', type: 'fader', payload: { level: { arg: 1, scale: [0, 1, 0, 127] } } });
    const why = reason(r, msg('/f', 0.5, 'loud'));
    expect(why).toContain('osc.routes[0] (/f)');
    expect(why).toContain('level');
    expect(why).toContain('argument 1');
    expect(why).toContain('string');
    expect(reason(field({ round: true }), msg('/f', 'x'))).toMatch(/v: argument 0 is string/);
    expect(reason(field({ clamp: true, scale: [0, 1, 0, 1] }), msg('/f', [0.5]))).toMatch(
      /v: argument 0 is object/,
    );
  });

  it('without clamp, a value out of the catalog range is a reason naming the payload field', () => {
    const r = route({
      address: '/fader',
      type: 'control_change',
      payload: {
        channel: { value: 1 },
        controller: { value: 7 },
        value: { arg: 0, scale: [0, 1, 0, 127], round: true },
      },
    });
    expect(routed(r, msg('/fader', 1)).payload).toEqual({ channel: 1, controller: 7, value: 127 });
    const why = reason(r, msg('/fader', 1.2)); // 152
    expect(why).toContain('osc.routes[0] (/fader)');
    expect(why).toContain('payload.value');
    expect(why).toContain('control_change');
  });
});

describe('compileRoutes: fields by position, by name, constant', () => {
  const synth = route({
    address: '/synth/note',
    type: 'play_note',
    args: ['pitch', 'vel', 'len'],
    payload: {
      note: { name: 'pitch', round: true },
      velocity: { name: 'vel', scale: [0, 1, 0, 127], clamp: true, round: true },
      duration: { name: 'len' },
      channel: { value: 10 },
    },
  });

  it('takes fields by name from the route args, and constants as given', () => {
    expect(routed(synth, msg('/synth/note', 60.2, 0.5, 250)).payload).toEqual({
      note: 60,
      velocity: 64,
      duration: 250,
      channel: 10,
    });
  });

  it('takes a field by position, and may read one argument into several fields', () => {
    const r = route({
      address: '/xy',
      type: 'pad',
      payload: { x: { arg: 1 }, y: { arg: 0 }, x2: { arg: 1, scale: [0, 1, 0, 100] } },
    });
    expect(routed(r, msg('/xy', 0.25, 0.75)).payload).toEqual({ x: 0.75, y: 0.25, x2: 75 });
  });

  it('ignores arguments no field reads', () => {
    const r = route({ address: '/t', type: 'tempo_change', payload: { bpm: { arg: 0 } } });
    expect(routed(r, msg('/t', 120, 'extra', 3)).payload).toEqual({ bpm: 120 });
  });

  it('gives constants of every JSON kind verbatim, even when the message has no arguments', () => {
    const r = route({
      address: '/go',
      type: 'scene',
      payload: {
        zero: { value: 0 },
        no: { value: false },
        empty: { value: '' },
        nothing: { value: null },
        list: { value: [1, 2, 3] },
        obj: { value: { a: { b: 1 } } },
      },
    });
    expect(routed(r, msg('/go')).payload).toEqual({
      zero: 0,
      no: false,
      empty: '',
      nothing: null,
      list: [1, 2, 3],
      obj: { a: { b: 1 } },
    });
  });

  it('builds a transport message from a constant state and a position argument', () => {
    const r = route({
      address: '/transport/{play,start}',
      type: 'transport',
      priority: 'HIGH',
      payload: { state: { value: 'start' }, position: { arg: 0 } },
    });
    expect(routed(r, msg('/transport/play', 0))).toEqual({
      type: 'transport',
      priority: 1,
      to: undefined,
      payload: { state: 'start', position: 0 },
    });
  });

  it('a missing positional argument is a reason naming the field and the argument', () => {
    const r = route({ address: '/t', type: 'tempo_change', payload: { bpm: { arg: 1 } } });
    const why = reason(r, msg('/t', 120));
    expect(why).toContain('osc.routes[0] (/t)');
    expect(why).toContain('bpm');
    expect(why).toContain('argument 1 is missing');
    expect(why).toContain('got 1 arguments');
    expect(reason(r, msg('/t'))).toContain('got 0 arguments');
  });

  it('a missing named argument is a reason naming the field and the argument name', () => {
    const why = reason(synth, msg('/synth/note', 60, 0.5));
    expect(why).toContain('osc.routes[0] (/synth/note)');
    expect(why).toContain('duration');
    expect(why).toContain('argument len is missing');
  });

  it('the first failing field decides the reason; a good message after a bad one still maps', () => {
    expect(reason(synth, msg('/synth/note'))).toContain('note: argument pitch is missing');
    expect(routed(synth, msg('/synth/note', 61, 1, 100)).payload).toEqual({
      note: 61,
      velocity: 127,
      duration: 100,
      channel: 10,
    });
  });
});

describe('compileRoutes: catalog payload checks', () => {
  const tempo = route({ address: '/tempo', type: 'tempo_change', payload: { bpm: { arg: 0 } } });

  it('routes a valid tempo_change', () => {
    expect(routed(tempo, msg('/tempo', 128))).toEqual({
      type: 'tempo_change',
      priority: undefined,
      to: undefined,
      payload: { bpm: 128 },
    });
  });

  it('a tempo_change whose bpm comes from a string argument is a reason, not a message', () => {
    const why = reason(tempo, msg('/tempo', 'fast'));
    expect(why).toContain('osc.routes[0] (/tempo)');
    expect(why).toContain('payload.bpm');
    expect(why).toContain('tempo_change');
  });

  it.each([[0], [-10], [1000]])('a tempo_change with bpm %s (out of range) is a reason', (bpm) => {
    expect(reason(tempo, msg('/tempo', bpm))).toContain('payload.bpm');
  });

  it('a catalog payload with a field the type does not have is a reason naming it', () => {
    const r = route({
      address: '/tempo',
      type: 'tempo_change',
      payload: { bpm: { arg: 0 }, swing: { arg: 1 } },
    });
    const why = reason(r, msg('/tempo', 120, 0.5));
    expect(why).toContain('swing');
    expect(why).toContain('tempo_change');
  });

  it('a catalog payload missing a required field is a reason', () => {
    const r = route({
      address: '/cc',
      type: 'control_change',
      payload: { channel: { value: 1 }, value: { arg: 0 } },
    });
    expect(reason(r, msg('/cc', 64))).toContain('control_change');
  });

  it('does not check the payload of a type outside the catalog', () => {
    const r = route({ address: '/anything', type: 'lights.dimmer', payload: { level: { arg: 0 } } });
    expect(routed(r, msg('/anything', 'not a number')).payload).toEqual({ level: 'not a number' });
  });
});

describe('compileRoutes: default payload shapes', () => {
  it('named args without payload make an object of the arguments, null for a missing one', () => {
    const r = route({ address: '/xy', type: 'pad', args: ['x', 'y', 'z'] });
    expect(routed(r, msg('/xy', 0.1, 0.2, 0.3)).payload).toEqual({ x: 0.1, y: 0.2, z: 0.3 });
    expect(routed(r, msg('/xy', 0.1)).payload).toEqual({ x: 0.1, y: null, z: null });
    expect(routed(r, msg('/xy', 0.1, 0.2, 0.3, 0.4)).payload).toEqual({ x: 0.1, y: 0.2, z: 0.3 });
  });

  it('named args without payload satisfy a catalog type', () => {
    const r = route({ address: '/tempo', type: 'tempo_change', args: ['bpm'] });
    expect(routed(r, msg('/tempo', 90)).payload).toEqual({ bpm: 90 });
    expect(reason(r, msg('/tempo'))).toContain('payload.bpm'); // null is not a number
  });

  it('without payload or args the payload is { address, args }', () => {
    const r = route({ address: '/raw/*', type: 'raw' });
    expect(routed(r, msg('/raw/x', 1, 'two', true)).payload).toEqual({
      address: '/raw/x',
      args: [1, 'two', true],
    });
    expect(routed(r, msg('/raw/y')).payload).toEqual({ address: '/raw/y', args: [] });
  });

  it('{ address, args } is a valid osc_in payload', () => {
    const r = route({ address: '/pass/*', type: 'osc_in' });
    expect(routed(r, msg('/pass/a', 1, 's')).payload).toEqual({ address: '/pass/a', args: [1, 's'] });
  });

  it('an empty payload object makes an empty payload', () => {
    const r = route({ address: '/bang', type: 'bang', args: ['x'], payload: {} });
    expect(routed(r, msg('/bang', 1)).payload).toEqual({});
  });
});

describe('compileRoutes: priority, recipient, matching, order', () => {
  it.each([
    ['CRITICAL', 0],
    ['HIGH', 1],
    ['NORMAL', 2],
    ['LOW', 3],
  ] as const)('maps priority %s to %s', (name, value) => {
    expect(routed(route({ address: '/p', type: 'x', priority: name }), msg('/p')).priority).toBe(value);
  });

  it('leaves priority and to undefined when the rule does not set them', () => {
    const out = routed(route({ address: '/p', type: 'x' }), msg('/p'));
    expect(out.priority).toBeUndefined();
    expect(out.to).toBeUndefined();
  });

  it('passes `to` through', () => {
    expect(routed(route({ address: '/p', type: 'x', to: 'bass' }), msg('/p')).to).toBe('bass');
  });

  it('matches OSC 1.0 address patterns', () => {
    const star = route({ address: '/mixer/*/fader', type: 'x' });
    expect(star.matches('/mixer/1/fader')).toBe(true);
    expect(star.matches('/mixer/strip12/fader')).toBe(true);
    expect(star.matches('/mixer/1/2/fader')).toBe(false);
    expect(star.matches('/mixer/1/fader/x')).toBe(false);
    const alt = route({ address: '/{tempo,bpm}', type: 'x' });
    expect(alt.matches('/tempo')).toBe(true);
    expect(alt.matches('/bpm')).toBe(true);
    expect(alt.matches('/tempos')).toBe(false);
    const cls = route({ address: '/ch[1-4]/?', type: 'x' });
    expect(cls.matches('/ch3/a')).toBe(true);
    expect(cls.matches('/ch5/a')).toBe(false);
    expect(cls.matches('/ch3/ab')).toBe(false);
    const lit = route({ address: '/exact', type: 'x' });
    expect(lit.matches('/exact')).toBe(true);
    expect(lit.matches('/exact/')).toBe(false);
    expect(lit.matches('/Exact')).toBe(false);
  });

  it('compiles every rule in order, keeping each rule, and names the failing route by index', () => {
    const rules: RouteRule[] = [
      { address: '/a', type: 'x' },
      { address: '/b', type: 'tempo_change', payload: { bpm: { arg: 0 } } },
      { address: '/c', type: 'z' },
    ];
    const compiled = compileRoutes(rules);
    expect(compiled.map((c) => c.rule)).toEqual(rules);
    expect(compiled[0]?.rule).toBe(rules[0]);
    expect(compileRoutes([])).toEqual([]);
    const second = compiled[1];
    if (second === undefined) throw new Error('missing route');
    expect(reason(second, msg('/b'))).toMatch(/^osc\.routes\[1\] \(\/b\): bpm: argument 0 is missing/);
  });

  it('a route is reusable: mapping does not keep state between messages', () => {
    const r = route({ address: '/t', type: 'tempo_change', payload: { bpm: { arg: 0 } } });
    for (let bpm = 40; bpm < 240; bpm += 7) expect(routed(r, msg('/t', bpm)).payload).toEqual({ bpm });
  });
});

describe('compileRoutes: configuration errors (PFM_ERR_OSC_CONFIG)', () => {
  it('refuses a field with two sources, naming the route and the field', () => {
    const e = thrown(() =>
      compileRoutes([
        { address: '/ok', type: 'x' },
        { address: '/t', type: 'tempo_change', args: ['bpm'], payload: { bpm: { arg: 0, name: 'bpm' } } },
      ]),
    );
    expect(e.code).toBe('PFM_ERR_OSC_CONFIG');
    expect(e.message).toContain('osc.routes[1] (/t)');
    expect(e.message).toContain('payload.bpm');
    expect(e.message).toContain('exactly one of arg, name, value, latch or now');
  });

  it.each<[string, FieldRule]>([
    ['arg and value', { arg: 0, value: 1 }],
    ['name and value', { name: 'bpm', value: 1 }],
    ['all three', { arg: 0, name: 'bpm', value: 1 }],
    ['none', { round: true }],
    ['none at all', {}],
  ])('refuses a field with %s', (_what, spec) => {
    const e = thrown(() =>
      compileRoutes([{ address: '/t', type: 'x', args: ['bpm'], payload: { bpm: spec } }]),
    );
    expect(e.code).toBe('PFM_ERR_OSC_CONFIG');
    expect(e.message).toContain('set exactly one of arg, name, value, latch or now');
  });

  it('counts a constant null as a source', () => {
    expect(() =>
      compileRoutes([{ address: '/t', type: 'x', payload: { a: { value: null } } }]),
    ).not.toThrow();
    expect(
      thrown(() => compileRoutes([{ address: '/t', type: 'x', payload: { a: { value: null, arg: 0 } } }]))
        .code,
    ).toBe('PFM_ERR_OSC_CONFIG');
  });

  it('refuses a name that is not one of args, quoting it', () => {
    const e = thrown(() =>
      compileRoutes([{ address: '/n', type: 'x', args: ['pitch'], payload: { note: { name: 'pich' } } }]),
    );
    expect(e.code).toBe('PFM_ERR_OSC_CONFIG');
    expect(e.message).toContain('osc.routes[0] (/n)');
    expect(e.message).toContain('payload.note');
    expect(e.message).toContain('"pich" is not one of args');
  });

  it('refuses a name when the route has no args at all', () => {
    const e = thrown(() =>
      compileRoutes([{ address: '/n', type: 'x', payload: { note: { name: 'pitch' } } }]),
    );
    expect(e.code).toBe('PFM_ERR_OSC_CONFIG');
    expect(e.message).toContain('"pitch" is not one of args');
  });

  it.each([
    ['unclosed [', '/a/[bc'],
    ['unclosed {', '/a/{b,c'],
    ['empty {} alternative', '/a/{b,}'],
    ['reversed range', '/a/[z-a]'],
    ['no leading slash', 'tempo'],
    ['empty', ''],
    ['a space', '/a b'],
    ['a comma', '/a,b'],
    ['a stray ]', '/a]'],
    ['a hash', '/#bundle'],
  ])('refuses a malformed address pattern (%s), naming the route', (_what, address) => {
    const e = thrown(() =>
      compileRoutes([
        { address: '/fine', type: 'x' },
        { address, type: 'x' },
      ]),
    );
    expect(e.code).toBe('PFM_ERR_OSC_CONFIG');
    expect(e.message).toContain(`osc.routes[1] (${address})`);
    expect(e.message).toContain('address pattern');
    expect((e as Error & { cause?: unknown }).cause).toBeInstanceOf(Error);
  });

  it('a config error compiles nothing: the error names the first bad rule', () => {
    const e = thrown(() =>
      compileRoutes([
        { address: '/a', type: 'x', payload: { f: {} } },
        { address: '/[', type: 'x' },
      ]),
    );
    expect(e.message).toContain('osc.routes[0]');
  });
});

describe('compileOutputs', () => {
  const targets = new Set(['synth', 'lights']);
  function output(rule: OutputRule): CompiledOutput {
    const [compiled] = compileOutputs([rule], targets);
    if (compiled === undefined) throw new Error('compileOutputs returned nothing');
    return compiled;
  }

  it('builds typed arguments from payload paths and constants, in order', () => {
    const o = output({
      type: 'beat_event',
      target: 'synth',
      address: '/clock/beat',
      args: [
        { type: 'i', from: 'beat' },
        { type: 'i', from: 'bar' },
        { type: 'f', from: 'bpm' },
        { type: 's', value: 'tick' },
        { type: 'd', value: 0.5 },
      ],
    });
    const m = busMessage('beat_event', { beat: 3, bar: 12, bpm: 121.5, at: 1000 });
    expect(o.accepts(m)).toBe(true);
    expect(o.args(m)).toStrictEqual([
      { type: 'i', value: 3 },
      { type: 'i', value: 12 },
      { type: 'f', value: 121.5 },
      { type: 's', value: 'tick' },
      { type: 'd', value: 0.5 },
    ]);
  });

  it('reads dotted paths into nested objects and arrays', () => {
    const o = output({
      type: 'note',
      target: 'synth',
      address: '/n',
      args: [
        { type: 'i', from: 'note.pitch' },
        { type: 'i', from: 'note.meta.channel' },
        { type: 'i', from: 'notes.1' },
      ],
    });
    const m = busMessage('note', { note: { pitch: 64, meta: { channel: 2 } }, notes: [60, 67] });
    expect(o.args(m)).toStrictEqual([
      { type: 'i', value: 64 },
      { type: 'i', value: 2 },
      { type: 'i', value: 67 },
    ]);
  });

  it('T, F, N and I carry no value', () => {
    const o = output({
      type: 'x',
      target: 'lights',
      address: '/flags',
      args: [{ type: 'T' }, { type: 'F' }, { type: 'N' }, { type: 'I' }, { type: 'i', value: 1 }],
    });
    const args = o.args(busMessage('x', {}));
    expect(args).toStrictEqual([
      { type: 'T' },
      { type: 'F' },
      { type: 'N' },
      { type: 'I' },
      { type: 'i', value: 1 },
    ]);
    for (const a of args.slice(0, 4)) expect(Object.hasOwn(a, 'value')).toBe(false);
  });

  it('passes falsy payload values through (0, false, empty string, null)', () => {
    const o = output({
      type: 'x',
      target: 'synth',
      address: '/z',
      args: [
        { type: 'i', from: 'zero' },
        { type: 's', from: 'empty' },
        { type: 'i', from: 'no' },
        { type: 's', from: 'nothing' },
      ],
    });
    expect(o.args(busMessage('x', { zero: 0, empty: '', no: false, nothing: null }))).toStrictEqual([
      { type: 'i', value: 0 },
      { type: 's', value: '' },
      { type: 'i', value: false },
      { type: 's', value: null },
    ]);
  });

  it('no args make an empty argument list', () => {
    expect(output({ type: 'x', target: 'synth', address: '/bang' }).args(busMessage('x', { a: 1 }))).toEqual(
      [],
    );
  });

  it('a missing payload field throws PFM_ERR_OSC_ENCODE at args() time, naming the rule, arg and path', () => {
    const o = output({
      type: 'tempo_change',
      target: 'synth',
      address: '/tempo',
      args: [
        { type: 's', value: 'bpm' },
        { type: 'f', from: 'bpm' },
      ],
    });
    expect(o.args(busMessage('tempo_change', { bpm: 100 }))).toStrictEqual([
      { type: 's', value: 'bpm' },
      { type: 'f', value: 100 },
    ]);
    const e = thrown(() => o.args(busMessage('tempo_change', { tempo: 100 })));
    expect(e.code).toBe('PFM_ERR_OSC_ENCODE');
    expect(e.message).toContain('osc.outputs[0] (tempo_change → /tempo)');
    expect(e.message).toContain('args[1]');
    expect(e.message).toContain('"bpm"');
  });

  it.each<[string, unknown]>([
    ['a missing parent', { other: 1 }],
    ['a scalar parent', { note: 5 }],
    ['a null parent', { note: null }],
    ['a null payload', null],
    ['a string payload', 'note'],
    ['an undefined payload', undefined],
  ])('a dotted path through %s throws PFM_ERR_OSC_ENCODE', (_what, payload) => {
    const o = output({
      type: 'x',
      target: 'synth',
      address: '/n',
      args: [{ type: 'i', from: 'note.pitch' }],
    });
    const e = thrown(() => o.args(busMessage('x', payload)));
    expect(e.code).toBe('PFM_ERR_OSC_ENCODE');
    expect(e.message).toContain('"note.pitch"');
  });

  describe('where filter', () => {
    it('accepts every message without a where', () => {
      const o = output({ type: 'x', target: 'synth', address: '/a' });
      expect(o.accepts(busMessage('x', {}))).toBe(true);
      expect(o.accepts(busMessage('x', null))).toBe(true);
    });

    it('compares a top-level field with strict equality', () => {
      const o = output({ type: 'transport', target: 'lights', address: '/go', where: { state: 'start' } });
      expect(o.accepts(busMessage('transport', { state: 'start', position: 0 }))).toBe(true);
      expect(o.accepts(busMessage('transport', { state: 'stop', position: 0 }))).toBe(false);
      expect(o.accepts(busMessage('transport', { position: 0 }))).toBe(false);
      expect(o.accepts(busMessage('transport', null))).toBe(false);
    });

    it('compares nested paths, and needs every entry to match', () => {
      const o = output({
        type: 'note',
        target: 'synth',
        address: '/drum',
        where: { 'note.channel': 10, 'note.meta.kind': 'drum', on: true },
      });
      const good = { note: { channel: 10, meta: { kind: 'drum' } }, on: true };
      expect(o.accepts(busMessage('note', good))).toBe(true);
      expect(o.accepts(busMessage('note', { ...good, on: false }))).toBe(false);
      expect(o.accepts(busMessage('note', { ...good, note: { channel: 9, meta: { kind: 'drum' } } }))).toBe(
        false,
      );
      expect(o.accepts(busMessage('note', { ...good, note: { channel: 10, meta: { kind: 'synth' } } }))).toBe(
        false,
      );
      expect(o.accepts(busMessage('note', { ...good, note: { channel: 10 } }))).toBe(false);
      expect(o.accepts(busMessage('note', { ...good, note: 10 }))).toBe(false);
    });

    it('does not coerce types: "10" is not 10, 0 is not false, null is not a missing field', () => {
      expect(
        output({ type: 'x', target: 'synth', address: '/a', where: { ch: 10 } }).accepts(
          busMessage('x', { ch: '10' }),
        ),
      ).toBe(false);
      expect(
        output({ type: 'x', target: 'synth', address: '/a', where: { on: false } }).accepts(
          busMessage('x', { on: 0 }),
        ),
      ).toBe(false);
      const isNull = output({ type: 'x', target: 'synth', address: '/a', where: { v: null } });
      expect(isNull.accepts(busMessage('x', { v: null }))).toBe(true);
      expect(isNull.accepts(busMessage('x', {}))).toBe(false);
    });

    it('filters and builds independently for several outputs of one type', () => {
      const outs = compileOutputs(
        [
          {
            type: 'transport',
            target: 'lights',
            address: '/on',
            where: { state: 'start' },
            args: [{ type: 'T' }],
          },
          {
            type: 'transport',
            target: 'lights',
            address: '/off',
            where: { state: 'stop' },
            args: [{ type: 'F' }],
          },
          { type: 'transport', target: 'synth', address: '/pos', args: [{ type: 'f', from: 'position' }] },
        ],
        targets,
      );
      const stop = busMessage('transport', { state: 'stop', position: 16 });
      const chosen = outs.filter((o) => o.accepts(stop));
      expect(chosen.map((o) => o.rule.address)).toEqual(['/off', '/pos']);
      expect(chosen.map((o) => o.args(stop))).toStrictEqual([[{ type: 'F' }], [{ type: 'f', value: 16 }]]);
    });
  });

  describe('configuration errors (PFM_ERR_OSC_CONFIG)', () => {
    it('refuses an unknown target, listing the known ones', () => {
      const e = thrown(() =>
        compileOutputs(
          [
            { type: 'x', target: 'synth', address: '/a' },
            { type: 'tempo_change', target: 'mixer', address: '/tempo' },
          ],
          targets,
        ),
      );
      expect(e.code).toBe('PFM_ERR_OSC_CONFIG');
      expect(e.message).toContain('osc.outputs[1] (tempo_change → /tempo)');
      expect(e.message).toContain('"mixer" is not a target');
      expect(e.message).toContain('known: synth, lights');
    });

    it('says "none" when no target is configured', () => {
      const e = thrown(() => compileOutputs([{ type: 'x', target: 'synth', address: '/a' }], new Set()));
      expect(e.code).toBe('PFM_ERR_OSC_CONFIG');
      expect(e.message).toContain('known: none');
    });

    it.each([
      ['noslash'],
      [''],
      ['/a b'],
      ['/a/*'],
      ['/a/{b,c}'],
      ['/a?'],
      ['/a[1]'],
      ['/a,b'],
      ['/#x'],
      ['/é'],
    ])('refuses %j as an output address (a concrete OSC address is needed)', (address) => {
      const e = thrown(() => compileOutputs([{ type: 'x', target: 'synth', address }], targets));
      expect(e.code).toBe('PFM_ERR_OSC_CONFIG');
      expect(e.message).toContain('is not an OSC address');
    });

    it.each<[string, { type: string; from?: string; value?: unknown }, string]>([
      ['from and value', { type: 'i', from: 'a', value: 1 }, 'set exactly one of from or value'],
      ['neither from nor value', { type: 'f' }, 'set exactly one of from or value'],
      ['T with a value', { type: 'T', value: true }, 'carries no value'],
      ['F with a from', { type: 'F', from: 'on' }, 'carries no value'],
      ['N with a value', { type: 'N', value: null }, 'carries no value'],
      ['I with from and value', { type: 'I', from: 'a', value: 1 }, 'carries no value'],
    ])('refuses an argument with %s', (_what, arg, why) => {
      const e = thrown(() =>
        compileOutputs(
          [{ type: 'x', target: 'synth', address: '/a', args: [{ type: 'i', value: 1 }, arg] }],
          targets,
        ),
      );
      expect(e.code).toBe('PFM_ERR_OSC_CONFIG');
      expect(e.message).toContain(`args[1] (${arg.type})`);
      expect(e.message).toContain(why);
    });

    it('compiles several rules in order, keeping each rule', () => {
      const rules: OutputRule[] = [
        { type: 'a', target: 'synth', address: '/a' },
        { type: 'b', target: 'lights', address: '/b/c', args: [{ type: 'N' }] },
      ];
      expect(compileOutputs(rules, targets).map((o) => o.rule)).toEqual(rules);
    });
  });
});
