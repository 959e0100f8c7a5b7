import osc from 'osc';
import { describe, expect, it } from 'vitest';
import {
  decodePacket,
  encodeBundle,
  encodeMessage,
  isImmediate,
  msToTimetag,
  timetagToMs,
} from '../../../../adapters/osc/codec.js';
import {
  type DecodeLimits,
  IMMEDIATELY,
  type OscArg,
  type OscBundle,
  type OscMessage,
  type OscValue,
} from '../../../../adapters/osc/types.js';

const LIMITS: DecodeLimits = { maxBytes: 65536, maxDepth: 8 };
const decode = (bytes: Uint8Array): OscMessage => decodePacket(bytes, LIMITS) as OscMessage;
/** osc.js reads 'b', 'r' and 'm' ignoring byteOffset, and our packets are views on a slab: copy first. */
const oscjsRead = (bytes: Uint8Array): osc.Packet =>
  osc.readPacket(Uint8Array.from(bytes), { metadata: true });

/** One case per type: what we encode, what we decode, and the same value as osc.js writes and reads it. */
interface TypeCase {
  name: string;
  arg: OscArg;
  decoded: OscValue;
  /** osc.js's argument with metadata for the same bytes (skipped when osc.js cannot write it). */
  oscjsArg?: osc.MetaArgument;
  /** osc.js's decoded value, normalized by `normalize` below. */
  oscjsValue?: unknown;
  /** osc.js cannot write this value. */
  oscjsCannotWrite?: boolean;
}

const blob = Uint8Array.of(1, 2, 3, 4, 5);
const CASES: TypeCase[] = [
  { name: 'i', arg: { type: 'i', value: 42 }, decoded: 42 },
  { name: 'i min', arg: { type: 'i', value: -2147483648 }, decoded: -2147483648 },
  { name: 'i max', arg: { type: 'i', value: 2147483647 }, decoded: 2147483647 },
  { name: 'f', arg: { type: 'f', value: 1.5 }, decoded: 1.5 },
  { name: 'f rounded', arg: { type: 'f', value: 0.1 }, decoded: Math.fround(0.1) },
  { name: 'f NaN', arg: { type: 'f', value: Number.NaN }, decoded: Number.NaN },
  { name: 'f -Infinity', arg: { type: 'f', value: -Infinity }, decoded: -Infinity },
  { name: 'd', arg: { type: 'd', value: Math.PI }, decoded: Math.PI },
  { name: 'd tiny', arg: { type: 'd', value: -1e-300 }, decoded: -1e-300 },
  { name: 's', arg: { type: 's', value: 'hello' }, decoded: 'hello' },
  { name: 's empty', arg: { type: 's', value: '' }, decoded: '' },
  { name: 's 3 chars', arg: { type: 's', value: 'abc' }, decoded: 'abc' },
  { name: 's 4 chars', arg: { type: 's', value: 'abcd' }, decoded: 'abcd' },
  { name: 's UTF-8', arg: { type: 's', value: 'ünïcødé 🎵' }, decoded: 'ünïcødé 🎵' },
  { name: 's long', arg: { type: 's', value: 'x'.repeat(100) }, decoded: 'x'.repeat(100) },
  { name: 'S', arg: { type: 'S', value: 'sym' }, decoded: 'sym' },
  { name: 'b', arg: { type: 'b', value: blob }, decoded: blob },
  { name: 'b empty', arg: { type: 'b', value: new Uint8Array(0) }, decoded: new Uint8Array(0) },
  {
    name: 'b 4 bytes',
    arg: { type: 'b', value: Uint8Array.of(9, 8, 7, 6) },
    decoded: Uint8Array.of(9, 8, 7, 6),
  },
  {
    name: 'h',
    arg: { type: 'h', value: 123 },
    decoded: 123,
    oscjsArg: { type: 'h', value: { high: 0, low: 123 } },
  },
  {
    name: 'h -1',
    arg: { type: 'h', value: -1 },
    decoded: -1,
    oscjsArg: { type: 'h', value: { high: -1, low: -1 } },
  },
  {
    name: 'h max safe',
    arg: { type: 'h', value: Number.MAX_SAFE_INTEGER },
    decoded: Number.MAX_SAFE_INTEGER,
    oscjsArg: { type: 'h', value: { high: 0x1fffff, low: -1 } },
  },
  {
    name: 'h max',
    arg: { type: 'h', value: '9223372036854775807' },
    decoded: '9223372036854775807',
    oscjsArg: { type: 'h', value: { high: 0x7fffffff, low: -1 } },
  },
  {
    name: 'h min (bigint)',
    arg: { type: 'h', value: -(2n ** 63n) },
    decoded: '-9223372036854775808',
    oscjsArg: { type: 'h', value: { high: -0x80000000, low: 0 } },
  },
  {
    name: 't',
    arg: { type: 't', value: { seconds: 3913056000, fraction: 2 ** 31 } },
    decoded: 1704067200500,
    oscjsArg: { type: 't', value: { raw: [3913056000, 2 ** 31] } },
    oscjsValue: [3913056000, 2 ** 31],
  },
  {
    name: 't immediately',
    arg: { type: 't', value: IMMEDIATELY },
    decoded: 0,
    oscjsArg: { type: 't', value: { raw: [0, 1] } },
    oscjsValue: [0, 1],
  },
  { name: 'c', arg: { type: 'c', value: 'x' }, decoded: 'x' },
  // osc.js keeps only 16 bits of a char: it reads U+1F3B5 as U+F3B5 and writes a lone surrogate.
  {
    name: 'c astral',
    arg: { type: 'c', value: '🎵' },
    decoded: '🎵',
    oscjsValue: String.fromCharCode(0xf3b5),
    oscjsCannotWrite: true,
  },
  { name: 'c from int', arg: { type: 'c', value: 0x41 }, decoded: 'A', oscjsArg: { type: 'c', value: 'A' } },
  {
    name: 'r',
    arg: { type: 'r', value: { r: 255, g: 128, b: 0, a: 51 } },
    decoded: { r: 255, g: 128, b: 0, a: 51 },
    oscjsArg: { type: 'r', value: { r: 255, g: 128, b: 0, a: 0.2 } },
  },
  {
    name: 'm',
    arg: { type: 'm', value: { port: 1, status: 0x90, data1: 60, data2: 100 } },
    decoded: { port: 1, status: 0x90, data1: 60, data2: 100 },
    oscjsArg: { type: 'm', value: [1, 0x90, 60, 100] },
  },
  { name: 'T', arg: { type: 'T' }, decoded: true },
  { name: 'F', arg: { type: 'F' }, decoded: false },
  { name: 'N', arg: { type: 'N' }, decoded: null },
  // osc.js reads 'I' as 1 (its "impulse"); we follow OSC 1.0 ("Infinitum") and give Infinity.
  { name: 'I', arg: { type: 'I' }, decoded: Infinity, oscjsValue: 1 },
];

/** osc.js's decoded argument, in our shapes where they differ (Long, raw timetag, alpha 0..1, MIDI bytes). */
function normalize(a: { type: string; value?: unknown }): unknown {
  const v = a.value as Record<string, unknown> & { raw?: unknown };
  switch (a.type) {
    case 'h':
      return String(v);
    case 't':
      return v.raw;
    case 'r':
      return { ...v, a: Math.round((v.a as number) * 255) };
    case 'm':
      return { port: v[0], status: v[1], data1: v[2], data2: v[3] };
    case 'b':
      return new Uint8Array(a.value as Uint8Array);
    default:
      return v;
  }
}

const expectedFromOscjs = (c: TypeCase): unknown =>
  'oscjsValue' in c ? c.oscjsValue : c.arg.type === 'h' ? String(c.decoded) : c.decoded;

describe('OSC codec: every type', () => {
  for (const c of CASES) {
    it(`${c.name}: ours → ours`, () => {
      const m = decode(encodeMessage('/test/x', [c.arg, { type: 'i', value: 7 }]));
      expect(m).toEqual({
        kind: 'message',
        address: '/test/x',
        types: `${c.arg.type}i`,
        args: [c.decoded, 7],
      });
    });

    it(`${c.name}: ours → osc.js`, () => {
      const read = oscjsRead(encodeMessage('/test/x', [c.arg])) as osc.Message;
      expect(read.address).toBe('/test/x');
      expect(read.args).toHaveLength(1);
      const a = read.args[0] as osc.MetaArgument;
      expect(a.type).toBe(c.arg.type);
      expect(normalize(a)).toEqual(expectedFromOscjs(c));
    });

    it.skipIf(c.oscjsCannotWrite)(`${c.name}: osc.js → ours`, () => {
      const arg = c.oscjsArg ?? (c.arg as osc.MetaArgument);
      const bytes = osc.writePacket({ address: '/test/x', args: [arg] }, { metadata: true });
      expect(decode(bytes).args).toEqual([c.decoded]);
      if (!c.name.startsWith('f NaN')) expect(bytes).toEqual(encodeMessage('/test/x', [c.arg]));
    });
  }

  it('a message without arguments still has a type tag string', () => {
    const bytes = encodeMessage('/ping', []);
    expect([...bytes]).toEqual([0x2f, 0x70, 0x69, 0x6e, 0x67, 0, 0, 0, 0x2c, 0, 0, 0]);
    expect(decode(bytes)).toEqual({ kind: 'message', address: '/ping', types: '', args: [] });
    expect(oscjsRead(bytes)).toEqual({ address: '/ping', args: [] });
  });

  it('an old-style message with no type tag string decodes with no arguments', () => {
    expect(decode(Uint8Array.of(0x2f, 0x61, 0, 0))).toEqual({
      kind: 'message',
      address: '/a',
      types: '',
      args: [],
    });
  });

  it('writes /beat ,iif byte for byte as osc.js does', () => {
    const args: OscArg[] = [
      { type: 'i', value: 3 },
      { type: 'i', value: 4 },
      { type: 'f', value: 120 },
    ];
    const ours = encodeMessage('/beat', args);
    expect(ours).toEqual(osc.writePacket({ address: '/beat', args }, { metadata: true }));
    expect(ours.length).toBe(8 + 8 + 12);
  });
});

describe('OSC codec: arrays', () => {
  const flat: OscArg[] = [
    { type: 'i', value: 1 },
    {
      type: '[',
      value: [
        { type: 's', value: 'a' },
        { type: 'f', value: 0.5 },
      ],
    },
    { type: 'T' },
  ];

  it('round-trips a flat array with osc.js both ways', () => {
    const ours = encodeMessage('/arr', flat);
    expect(decode(ours)).toEqual({
      kind: 'message',
      address: '/arr',
      types: 'i[sf]T',
      args: [1, ['a', 0.5], true],
    });
    const read = oscjsRead(ours) as osc.Message;
    expect(read.args).toEqual([
      { type: 'i', value: 1 },
      [
        { type: 's', value: 'a' },
        { type: 'f', value: 0.5 },
      ],
      { type: 'T', value: true },
    ]);
    const theirs = osc.writePacket(
      {
        address: '/arr',
        args: [flat[0] as osc.MetaArgument, flat[1]!.value as osc.MetaArgument[], { type: 'T' }],
      },
      { metadata: true },
    );
    expect(theirs).toEqual(ours);
  });

  it('round-trips nested arrays (osc.js writes them but cannot read them back)', () => {
    const nested: OscArg[] = [
      {
        type: '[',
        value: [
          { type: '[', value: [{ type: 'i', value: 1 }] },
          { type: '[', value: [] },
        ],
      },
      { type: 'd', value: 2 },
    ];
    const ours = encodeMessage('/n', nested);
    expect(decode(ours)).toEqual({ kind: 'message', address: '/n', types: '[[i][]]d', args: [[[1], []], 2] });
    const theirs = osc.writePacket(
      { address: '/n', args: [[[{ type: 'i', value: 1 }], []], { type: 'd', value: 2 }] },
      { metadata: true },
    );
    expect(theirs).toEqual(ours);
  });

  it('encodes arrays nested 16 deep and refuses 17', () => {
    const deep = (n: number): OscArg =>
      n === 0 ? { type: 'i', value: 1 } : { type: '[', value: [deep(n - 1)] };
    const m = decode(encodeMessage('/deep', [deep(16)]));
    expect(m.types).toBe(`${'['.repeat(16)}i${']'.repeat(16)}`);
    expect(() => encodeMessage('/deep', [deep(17)])).toThrow(/at most 16 levels of arrays/);
  });
});

describe('OSC codec: bundles', () => {
  const msgA = encodeMessage('/a', [{ type: 'i', value: 1 }]);
  const msgB = encodeMessage('/b/c', [{ type: 's', value: 'x' }]);
  const t1 = { seconds: 3913056000, fraction: 1234 };
  const t2 = { seconds: 3913056001, fraction: 0 };

  it('round-trips nested bundles', () => {
    const bytes = encodeBundle(t1, [msgA, encodeBundle(t2, [msgB]), encodeBundle(IMMEDIATELY, [])]);
    const b = decodePacket(bytes, LIMITS) as OscBundle;
    expect(b).toEqual({
      kind: 'bundle',
      timetag: t1,
      elements: [
        { kind: 'message', address: '/a', types: 'i', args: [1] },
        {
          kind: 'bundle',
          timetag: t2,
          elements: [{ kind: 'message', address: '/b/c', types: 's', args: ['x'] }],
        },
        { kind: 'bundle', timetag: { seconds: 0, fraction: 1 }, elements: [] },
      ],
    });
  });

  it('matches osc.js bundles both ways', () => {
    const theirs = osc.writePacket(
      {
        timeTag: { raw: [t1.seconds, t1.fraction] },
        packets: [
          { address: '/a', args: [{ type: 'i', value: 1 }] },
          {
            timeTag: { raw: [t2.seconds, t2.fraction] },
            packets: [{ address: '/b/c', args: [{ type: 's', value: 'x' }] }],
          },
        ],
      },
      { metadata: true },
    );
    const ours = encodeBundle(t1, [msgA, encodeBundle(t2, [msgB])]);
    expect(ours).toEqual(theirs);
    const read = oscjsRead(ours) as osc.Bundle;
    expect(read.timeTag.raw).toEqual([t1.seconds, t1.fraction]);
    expect(read.packets[0]).toEqual({ address: '/a', args: [{ type: 'i', value: 1 }] });
    expect((read.packets[1] as osc.Bundle).packets).toEqual([
      { address: '/b/c', args: [{ type: 's', value: 'x' }] },
    ]);
    expect((decodePacket(theirs, LIMITS) as OscBundle).elements).toHaveLength(2);
  });

  it('refuses elements that are not encoded packets, and bad timetags', () => {
    expect(() => encodeBundle(t1, [Uint8Array.of(0x2f, 0x61, 0)])).toThrow(
      /bundle element 0 is not an encoded OSC/,
    );
    expect(() => encodeBundle(t1, [msgA, new Uint8Array(0)])).toThrow(/bundle element 1 /);
    expect(() => encodeBundle(t1, [Uint8Array.of(0x23, 0x62, 0x75, 0x6e)])).toThrow(/bundle element 0 /);
    expect(() => encodeBundle({ seconds: -1, fraction: 0 }, [])).toThrow(/PFM_ERR_OSC_ENCODE|timetag/);
    expect(() => encodeBundle({ seconds: 1, fraction: 2 ** 32 }, [])).toThrow(/both integers 0..4294967295/);
  });
});

describe('OSC codec: byteOffset (pooled Buffers)', () => {
  it('hands out encoded packets that never overlap, with zero padding', () => {
    const made: [Uint8Array, Uint8Array][] = [];
    for (let k = 0; k < 2000; k++) {
      const args: OscArg[] = [
        { type: 's', value: 'x'.repeat(k % 7) },
        { type: 'b', value: new Uint8Array(k % 5).fill(0xff) },
        { type: 'i', value: k },
      ];
      const bytes = encodeMessage(`/m/${k}`, args);
      made.push([bytes, Uint8Array.from(bytes)]);
    }
    const big = encodeMessage('/big', [{ type: 'b', value: new Uint8Array(5000).fill(1) }]);
    expect(big.byteOffset).toBe(0);
    for (const [k, [bytes, copy]] of made.entries()) {
      expect(bytes).toEqual(copy);
      expect(decode(bytes).args[2]).toBe(k);
    }
  });

  it('decodes a message at an odd offset inside a larger Buffer, blob included, and copies the blob', () => {
    const payload = Uint8Array.from({ length: 37 }, (_, k) => (k * 7 + 3) & 0xff);
    const encoded = encodeMessage('/blob', [
      { type: 'i', value: -5 },
      { type: 'b', value: payload },
      { type: 'm', value: { port: 2, status: 0xb0, data1: 7, data2: 127 } },
      { type: 'r', value: { r: 10, g: 20, b: 30, a: 40 } },
      { type: 'f', value: 2.5 },
    ]);
    const big = Buffer.concat([Buffer.alloc(3, 0xee), Buffer.from(encoded), Buffer.alloc(5, 0xdd)]);
    const slice = big.subarray(3, 3 + encoded.length);
    expect(slice.byteOffset % 2).toBe(1);
    const m = decode(slice);
    expect(m.args).toEqual([
      -5,
      payload,
      { port: 2, status: 0xb0, data1: 7, data2: 127 },
      { r: 10, g: 20, b: 30, a: 40 },
      2.5,
    ]);
    const got = m.args[1] as Uint8Array;
    expect(Object.getPrototypeOf(got)).toBe(Uint8Array.prototype);
    expect(got.buffer).not.toBe(big.buffer);
    big.fill(0);
    expect(got).toEqual(payload);
  });

  it('never reads past the end of the view, even when the underlying buffer goes on', () => {
    const encoded = encodeMessage('/b', [{ type: 'b', value: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8) }]);
    const big = Buffer.concat([Buffer.alloc(1), Buffer.from(encoded)]);
    const cut = big.subarray(1, 1 + encoded.length - 4);
    expect(() => decode(cut)).toThrow(/blob of 8 bytes at offset 8 runs past the end of the 16-byte packet/);
  });

  it('encodes from a Buffer slice used as a blob', () => {
    const big = Buffer.from([9, 9, 1, 2, 3, 9]);
    const m = decode(encodeMessage('/b', [{ type: 'b', value: big.subarray(2, 5) }]));
    expect(m.args).toEqual([Uint8Array.of(1, 2, 3)]);
  });
});

describe('OSC timetags', () => {
  it('converts known values', () => {
    // 3,913,056,000 s after 1900-01-01 is 2024-01-01T00:00:00Z.
    const ms = Date.UTC(2024, 0, 1);
    expect(timetagToMs({ seconds: 3913056000, fraction: 0 })).toBe(ms);
    expect(msToTimetag(ms)).toEqual({ seconds: 3913056000, fraction: 0 });
    expect(msToTimetag(ms + 500)).toEqual({ seconds: 3913056000, fraction: 2 ** 31 });
    expect(timetagToMs({ seconds: 2208988800, fraction: 2 ** 30 })).toBe(250);
    expect(msToTimetag(-1000)).toEqual({ seconds: 2208988799, fraction: 0 });
  });

  it('treats IMMEDIATELY (0/1) as 0 ms both ways, and 0/0 as a time in 1900', () => {
    expect(timetagToMs(IMMEDIATELY)).toBe(0);
    expect(msToTimetag(0)).toEqual(IMMEDIATELY);
    expect(isImmediate(IMMEDIATELY)).toBe(true);
    expect(isImmediate({ seconds: 0, fraction: 0 })).toBe(false);
    expect(timetagToMs({ seconds: 0, fraction: 0 })).toBe(-2208988800000);
  });

  it('round-trips within 1 µs', () => {
    let seed = 12345;
    const rnd = (): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 2 ** 32;
    };
    let worstMs = 0;
    let worstFraction = 0;
    for (let k = 0; k < 10_000; k++) {
      const ms = Date.UTC(2000, 0, 1) + rnd() * 1.1e12 + rnd();
      const t = msToTimetag(ms);
      if (!(Number.isInteger(t.fraction) && t.fraction >= 0 && t.fraction < 2 ** 32))
        throw new Error(`${ms}`);
      worstMs = Math.max(worstMs, Math.abs(timetagToMs(t) - ms));
      // And the other way: a timetag survives ms (2^32 fractions of a second is 4295 per µs).
      const back = msToTimetag(timetagToMs(t));
      const diff = (back.seconds - t.seconds) * 2 ** 32 + back.fraction - t.fraction;
      worstFraction = Math.max(worstFraction, Math.abs(diff));
    }
    expect(worstMs).toBeLessThan(0.001);
    expect(worstFraction).toBeLessThan(4295);
  });

  it('refuses times outside NTP era 0', () => {
    expect(() => msToTimetag(Date.UTC(2036, 1, 8))).toThrow(/NTP era 0/);
    expect(() => msToTimetag(Date.UTC(1899, 11, 31))).toThrow(/NTP era 0/);
    expect(() => msToTimetag(Number.NaN)).toThrow(/PFM_ERR_OSC_ENCODE|NTP era 0/);
  });

  it('encodes a t argument given in ms to within 1 µs', () => {
    const ms = Date.UTC(2025, 5, 1) + 0.123456;
    const m = decode(encodeMessage('/t', [{ type: 't', value: ms }]));
    expect(Math.abs((m.args[0] as number) - ms)).toBeLessThan(0.001);
  });
});

describe('OSC encoder: values as JSON carries them', () => {
  it('encodes a blob given as an array of byte values as the same bytes as a Uint8Array', () => {
    const asArray = encodeMessage('/b', [{ type: 'b', value: [0, 1, 254, 255, 7] }]);
    const asBytes = encodeMessage('/b', [{ type: 'b', value: Uint8Array.of(0, 1, 254, 255, 7) }]);
    expect(Buffer.from(asArray).equals(Buffer.from(asBytes))).toBe(true);
    expect(Array.from(decode(asArray).args[0] as Uint8Array)).toEqual([0, 1, 254, 255, 7]);
  });
});

describe('OSC encoder: refusals', () => {
  const bad: [OscArg, RegExp][] = [
    [
      { type: 'i', value: 2 ** 31 },
      /argument 1 \(type 'i'\): expected an integer in the int32 range, got 2147483648/,
    ],
    [{ type: 'i', value: 1.5 }, /argument 1 \(type 'i'\).*got 1\.5/],
    [{ type: 'i', value: '3' }, /argument 1 \(type 'i'\).*got "3"/],
    [{ type: 'i' }, /argument 1 \(type 'i'\).*got undefined/],
    [{ type: 'f', value: 1e39 }, /argument 1 \(type 'f'\): expected a number in the float32 range/],
    [{ type: 'f', value: '1' }, /argument 1 \(type 'f'\)/],
    [{ type: 'd', value: 1n }, /argument 1 \(type 'd'\).*got 1n/],
    [{ type: 'h', value: 2 ** 53 }, /argument 1 \(type 'h'\)/],
    [{ type: 'h', value: 2n ** 63n }, /argument 1 \(type 'h'\)/],
    [{ type: 'h', value: '12a' }, /argument 1 \(type 'h'\)/],
    [{ type: 'h', value: '9223372036854775808' }, /argument 1 \(type 'h'\)/],
    [{ type: 's', value: 'a\0b' }, /argument 1 \(type 's'\): expected a string without NUL/],
    [{ type: 's', value: '\ud800x' }, /argument 1 \(type 's'\).*lone surrogates/],
    [{ type: 'S', value: 5 }, /argument 1 \(type 'S'\)/],
    [
      { type: 'b', value: [1, 256] },
      /argument 1 \(type 'b'\): expected a Uint8Array or an array of integers 0\.\.255, got an array/,
    ],
    [
      { type: 'b', value: [1, 'x'] },
      /argument 1 \(type 'b'\): expected a Uint8Array or an array of integers/,
    ],
    [{ type: 't', value: Number.POSITIVE_INFINITY }, /argument 1 \(type 't'\)/],
    [{ type: 't', value: { seconds: 1.5, fraction: 0 } }, /argument 1 \(type 't'\)/],
    [{ type: 'c', value: 'ab' }, /argument 1 \(type 'c'\)/],
    [{ type: 'c', value: 0x110000 }, /argument 1 \(type 'c'\)/],
    [
      { type: 'c', value: 0xdc00 },
      /argument 1 \(type 'c'\): expected a 1-character string or a Unicode scalar value/,
    ],
    [{ type: 'r', value: { r: 256, g: 0, b: 0, a: 0 } }, /argument 1 \(type 'r'\)/],
    [{ type: 'r', value: { r: 1, g: 0, b: 0 } }, /argument 1 \(type 'r'\)/],
    [{ type: 'm', value: { port: 0, status: -1, data1: 0, data2: 0 } }, /argument 1 \(type 'm'\)/],
    [{ type: 'T', value: false }, /argument 1 \(type 'T'\): expected no value/],
    [{ type: 'N', value: 0 }, /argument 1 \(type 'N'\)/],
    [{ type: '[', value: 'x' }, /argument 1 \(type '\['\)/],
    [{ type: ']' }, /argument 1 \(type '\]'\): expected a known type tag/],
    [{ type: 'x', value: 1 }, /argument 1 \(type 'x'\)/],
    [{ type: 'ii', value: 1 }, /argument 1 \(type 'ii'\)/],
  ];
  for (const [arg, re] of bad) {
    it(`refuses ${JSON.stringify(arg, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v))}`, () => {
      let err: unknown;
      try {
        encodeMessage('/x', [{ type: 'T' }, arg]);
      } catch (e) {
        err = e;
      }
      expect(err).toMatchObject({ code: 'PFM_ERR_OSC_ENCODE' });
      expect((err as Error).message).toMatch(re);
    });
  }

  it('names the path of an argument inside arrays', () => {
    const args: OscArg[] = [
      { type: '[', value: [{ type: 'T' }, { type: '[', value: [{ type: 'i', value: 'no' }] }] },
    ];
    expect(() => encodeMessage('/x', args)).toThrow(/argument 0\[1\]\[0\] \(type 'i'\)/);
  });

  it('refuses invalid addresses and non-object arguments', () => {
    for (const address of ['', 'a', '/a b', '/a*', '/a#', '/ü', '/a,b', '/{a}', '/[a]', '/a?']) {
      expect(() => encodeMessage(address, [])).toThrow(/is not a valid OSC address/);
    }
    expect(() => encodeMessage('/x', [null as unknown as OscArg])).toThrow(
      /argument 0 .*a \{ type, value \} object/,
    );
  });

  it('accepts the values decoding yields for T, F, N and I', () => {
    const args: OscArg[] = [
      { type: 'T', value: true },
      { type: 'F', value: false },
      { type: 'N', value: null },
      { type: 'I', value: Infinity },
    ];
    expect(decode(encodeMessage('/x', args)).args).toEqual([true, false, null, Infinity]);
  });
});
