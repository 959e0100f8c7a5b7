import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { decodePacket, encodeBundle, encodeMessage } from '../../../../adapters/osc/codec.js';
import type { DecodeLimits, OscArg, OscMessage } from '../../../../adapters/osc/types.js';
import { OscDecodeError } from '../../../../daemon/kernel/errors.js';

const LIMITS: DecodeLimits = { maxBytes: 65536, maxDepth: 4 };

/** An OSC-string: the UTF-8 bytes, a NUL, NUL padding to 4. */
function str(s: string): number[] {
  const b = [...new TextEncoder().encode(s), 0];
  while (b.length % 4) b.push(0);
  return b;
}
const i32 = (n: number): number[] => [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
const pkt = (...parts: number[][]): Uint8Array => Uint8Array.from(parts.flat());
const BUNDLE = [...str('#bundle'), ...i32(0), ...i32(1)];

/** The decode error's message, failing the test if anything else (or nothing) is thrown. */
function reason(bytes: Uint8Array, limits: DecodeLimits = LIMITS): string {
  try {
    decodePacket(bytes, limits);
  } catch (err) {
    expect(err).toBeInstanceOf(OscDecodeError);
    expect(err).toMatchObject({ code: 'PFM_ERR_OSC_DECODE' });
    return (err as Error).message;
  }
  throw new Error('decoded without error');
}

/** A deterministic PRNG (mulberry32), so a failing datagram can be reproduced. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('OSC decoder: malformed corpus', () => {
  const cases: [string, Uint8Array, RegExp, DecodeLimits?][] = [
    ['empty', new Uint8Array(0), /empty packet/],
    ['odd length', pkt(str('/a'), [0x2c, 0, 0]), /packet length 7 is not a multiple of 4/],
    [
      'too large',
      new Uint8Array(64),
      /packet of 64 bytes is larger than the limit of 32 bytes/,
      { maxBytes: 32, maxDepth: 1 },
    ],
    [
      'random bytes',
      pkt([0x12, 0x34, 0x56, 0x78]),
      /packet at offset 0 starts with byte 0x12: neither '\/' nor '#bundle'/,
    ],
    ['no leading slash', pkt(str('abc')), /packet at offset 0 starts with 'a'/],
    [
      '#bundlX',
      pkt(str('#bundlX'), i32(0), i32(1)),
      /header at offset 0 starts with '#' but is not '#bundle'/,
    ],
    ['#-header', pkt(str('#foo')), /header at offset 0 starts with '#' but is not '#bundle'/],
    [
      'bundle without timetag',
      pkt(str('#bundle'), i32(0)),
      /bundle at offset 0 ends at 12, before its 8-byte timetag/,
    ],
    [
      'unterminated address',
      pkt([0x2f, 0x61, 0x62, 0x63]),
      /address at offset 0 has no NUL before the end of the 4-byte packet/,
    ],
    [
      'bad padding',
      pkt([0x2f, 0x61, 0, 0x58]),
      /non-zero padding byte 0x58 at offset 3 after the address at offset 0/,
    ],
    [
      'missing comma',
      pkt(str('/a'), str('iif')),
      /missing ',': the type tag string at offset 4 starts with 'i'/,
    ],
    [
      'unterminated type tags',
      pkt(str('/a'), [0x2c, 0x69, 0x69, 0x69]),
      /type tag string at offset 4 has no NUL/,
    ],
    ['unknown type', pkt(str('/a'), str(',i?'), i32(1)), /unknown type tag '\?' at offset 6/],
    [
      'unknown non-ASCII type',
      pkt(str('/a'), [0x2c, 0xc3, 0xa9, 0]),
      /unknown type tag byte 0xc3 at offset 5/,
    ],
    [
      'unbalanced [',
      pkt(str('/a'), str(',i[i'), i32(1), i32(2)),
      /unbalanced '\[' at offset 6 is never closed/,
    ],
    ['unbalanced ]', pkt(str('/a'), str(',i]'), i32(1)), /unbalanced '\]' at offset 6 closes no array/],
    [
      'arrays too deep',
      pkt(str('/a'), str(`,${'['.repeat(17)}${']'.repeat(17)}`)),
      /array '\[' at offset 21 nests deeper than 16/,
    ],
    [
      'too many args',
      pkt(str('/a'), str(`,${'N'.repeat(5)}`)),
      /has 5 arguments, more than the limit of 4/,
      { ...LIMITS, maxArgs: 4 },
    ],
    [
      'int past end',
      pkt(str('/a'), str(',ii'), i32(1)),
      /'i' argument of 4 bytes at offset 12 runs past the end of the 12-byte packet/,
    ],
    [
      'double past end',
      pkt(str('/a'), str(',d'), i32(1)),
      /'d' argument of 8 bytes at offset 8 runs past the end/,
    ],
    [
      'unterminated string arg',
      pkt(str('/a'), str(',s'), [0x61, 0x62, 0x63, 0x64]),
      /string at offset 8 has no NUL/,
    ],
    [
      'string arg bad padding',
      pkt(str('/a'), str(',s'), [0x61, 0, 1, 0]),
      /non-zero padding byte 0x01 at offset 10 after the string at offset 8/,
    ],
    ['invalid UTF-8', pkt(str('/a'), str(',s'), [0xff, 0xfe, 0, 0]), /string at offset 8 is not valid UTF-8/],
    [
      'blob longer than packet',
      pkt(str('/a'), str(',b'), i32(4096), [1, 2, 3, 4]),
      /blob of 4096 bytes at offset 8 runs past the end of the 16-byte packet/,
    ],
    [
      'negative blob size',
      pkt(str('/a'), str(',b'), i32(-4), [1, 2, 3, 4]),
      /blob at offset 8 has a negative size -4/,
    ],
    ['blob size missing', pkt(str('/a'), str(',b')), /'b' argument of 4 bytes at offset 8 runs past the end/],
    [
      'blob bad padding',
      pkt(str('/a'), str(',b'), i32(1), [7, 0, 9, 0]),
      /non-zero padding byte 0x09 at offset 14 after a blob/,
    ],
    [
      'char out of range',
      pkt(str('/a'), str(',c'), i32(0x110000)),
      /char 1114112 at offset 8 is not a Unicode scalar value/,
    ],
    [
      'char is a surrogate',
      pkt(str('/a'), str(',c'), i32(0xd800)),
      /char 55296 at offset 8 is not a Unicode scalar value/,
    ],
    [
      'trailing bytes',
      pkt(str('/a'), str(',i'), i32(1), i32(2)),
      /4 unexpected bytes at offset 12 after the last argument/,
    ],
    ['old-style with data', pkt(str('/a'), i32(1)), /missing ','/],
    [
      'element size zero',
      pkt(BUNDLE, i32(0), str('/a')),
      /bundle element at offset 16 has size 0; it must be positive/,
    ],
    [
      'element size negative',
      pkt(BUNDLE, i32(-8), str('/a'), str(',')),
      /bundle element at offset 16 has size -8/,
    ],
    [
      'element size not x4',
      pkt(BUNDLE, i32(6), str('/a'), str(',')),
      /bundle element at offset 16 has size 6, not a multiple of 4/,
    ],
    [
      'element past end',
      pkt(BUNDLE, i32(64), str('/a'), str(',')),
      /bundle element of 64 bytes at offset 20 runs past the end of the 28-byte packet/,
    ],
    [
      'element cuts the address',
      pkt(BUNDLE, i32(4), [0x2f, 0x61, 0x62, 0x63], str('de')),
      /address at offset 20 has no NUL before the end of its bundle element \(ending at offset 24\)/,
    ],
    [
      'old-style element, then a bad size',
      pkt(BUNDLE, i32(4), str('/a'), str(',i')),
      /bundle element of 745078784 bytes at offset 28 runs past the end of the 28-byte packet/,
    ],
    [
      'element message overflows element',
      pkt(BUNDLE, i32(8), str('/a'), str(',i'), i32(5)),
      /'i' argument of 4 bytes at offset 28 runs past the end of its bundle element \(ending at offset 28\)/,
    ],
    ['element neither / nor #', pkt(BUNDLE, i32(4), [0x41, 0, 0, 0]), /packet at offset 20 starts with 'A'/],
  ];
  for (const [name, bytes, re, limits] of cases) {
    it(name, () => {
      expect(reason(bytes, limits)).toMatch(re);
    });
  }

  it('bundles nested deeper than maxDepth', () => {
    let b = encodeMessage('/x', []);
    for (let d = 1; d <= 5; d++) b = encodeBundle({ seconds: 0, fraction: 1 }, [b]);
    expect(reason(b)).toMatch(/bundle at offset 80 is nested 5 deep, more than the limit of 4/);
    expect(decodePacket(b, { ...LIMITS, maxDepth: 5 }).kind).toBe('bundle');
    expect(reason(encodeBundle({ seconds: 0, fraction: 1 }, []), { ...LIMITS, maxDepth: 0 })).toMatch(
      /nested 1 deep, more than the limit of 0/,
    );
  });

  it('truncating a valid message at every length fails, except right after the address (old style)', () => {
    const full = encodeMessage('/synth/1', [
      { type: 'i', value: 1 },
      { type: 's', value: 'hello' },
      { type: 'b', value: Uint8Array.of(1, 2, 3) },
      { type: '[', value: [{ type: 'd', value: 1 }] },
      { type: 'h', value: 7 },
    ]);
    for (let len = 0; len < full.length; len++) {
      const cut = full.subarray(0, len);
      if (len === 12) {
        expect(decodePacket(cut, LIMITS)).toEqual({
          kind: 'message',
          address: '/synth/1',
          types: '',
          args: [],
        });
        continue;
      }
      expect(reason(cut)).toMatch(/empty packet|not a multiple of 4|at offset \d+/);
    }
  });

  it('truncating a bundle fails except at element boundaries', () => {
    const a = encodeMessage('/a', [{ type: 'i', value: 1 }]);
    const full = encodeBundle({ seconds: 1, fraction: 2 }, [
      a,
      encodeBundle({ seconds: 3, fraction: 4 }, [a]),
    ]);
    const boundaries = new Set([16, 16 + 4 + a.length, full.length]);
    for (let len = 0; len < full.length; len++) {
      const cut = full.subarray(0, len);
      if (boundaries.has(len)) expect(decodePacket(cut, LIMITS).kind).toBe('bundle');
      else expect(reason(cut)).toMatch(/empty packet|not a multiple of 4|at offset \d+/);
    }
  });
});

describe('OSC decoder: seeded fuzz', () => {
  it('lets only OscDecodeError escape on 100,000 random datagrams and 20,000 mutations', () => {
    const rnd = prng(0x05c0dec);
    const counts = { decoded: 0, refused: 0 };
    const reasons = new Map<string, number>();
    const run = (bytes: Uint8Array): void => {
      try {
        decodePacket(bytes, LIMITS);
        counts.decoded++;
      } catch (err) {
        if (!(err instanceof OscDecodeError)) throw new Error(`non-OSC error on [${[...bytes]}]: ${err}`);
        counts.refused++;
        const key = (err as Error).message.replace(/-?\d+/g, '#');
        reasons.set(key, (reasons.get(key) ?? 0) + 1);
      }
    };
    for (let k = 0; k < 100_000; k++) {
      const len = Math.floor(rnd() * 257);
      const bytes = new Uint8Array(len);
      for (let j = 0; j < len; j++) bytes[j] = rnd() * 256;
      // Make a share of them look like OSC so the fuzz gets past the first byte.
      if (len > 0 && k % 4 === 0) bytes[0] = 0x2f;
      if (len > 8 && k % 4 === 1) bytes.set([0x23, 0x62, 0x75, 0x6e, 0x64, 0x6c, 0x65, 0]);
      run(bytes);
    }
    const seeds = validPackets();
    for (let k = 0; k < 20_000; k++) {
      const src = seeds[k % seeds.length]!;
      const bytes = Uint8Array.from(src);
      const flips = 1 + Math.floor(rnd() * 4);
      for (let f = 0; f < flips; f++) {
        const at = Math.floor(rnd() * bytes.length);
        bytes[at] = bytes[at]! ^ (1 << Math.floor(rnd() * 8));
      }
      run(k % 3 === 0 ? bytes.subarray(0, Math.floor(rnd() * bytes.length)) : bytes);
    }
    expect(counts.decoded + counts.refused).toBe(120_000);
    expect(counts.refused).toBeGreaterThan(100_000);
    expect(counts.decoded).toBeGreaterThan(1_000);
    expect(reasons.size).toBeGreaterThan(20);
    console.log(
      `fuzz: ${counts.decoded} decoded, ${counts.refused} refused, ${reasons.size} distinct reasons`,
    );
  });
});

function validPackets(): Uint8Array[] {
  const all: OscArg[] = [
    { type: 'i', value: 1 },
    { type: 'f', value: 0.5 },
    { type: 's', value: 'str' },
    { type: 'b', value: Uint8Array.of(1, 2, 3, 4, 5) },
    { type: 'h', value: -2 },
    { type: 't', value: { seconds: 3913056000, fraction: 9 } },
    { type: 'd', value: 2.25 },
    { type: 'S', value: 'sym' },
    { type: 'c', value: 'c' },
    { type: 'r', value: { r: 1, g: 2, b: 3, a: 4 } },
    { type: 'm', value: { port: 0, status: 0x90, data1: 60, data2: 1 } },
    { type: 'T' },
    { type: 'F' },
    { type: 'N' },
    { type: 'I' },
    {
      type: '[',
      value: [
        { type: 'i', value: 2 },
        { type: '[', value: [{ type: 's', value: 'in' }] },
      ],
    },
  ];
  const m1 = encodeMessage('/beat', all.slice(0, 3));
  const m2 = encodeMessage('/all/types', all);
  const m3 = encodeMessage('/n', []);
  const b1 = encodeBundle({ seconds: 1, fraction: 2 }, [m1, m3]);
  return [
    m1,
    m2,
    m3,
    b1,
    encodeBundle({ seconds: 0, fraction: 1 }, [b1, m2, encodeBundle({ seconds: 5, fraction: 0 }, [])]),
  ];
}

describe('OSC decoder: linear cost', () => {
  const timed = (bytes: Uint8Array, limits: DecodeLimits): number => {
    decodePacket(bytes, limits); // warm up
    const t0 = performance.now();
    decodePacket(bytes, limits);
    return performance.now() - t0;
  };
  const big: DecodeLimits = { maxBytes: 65536, maxDepth: 128, maxArgs: 100_000 };

  it('decodes 64 KiB of N type tags in well under 50 ms', () => {
    const bytes = pkt(str('/n'), str(`,${'N'.repeat(65529)}`));
    expect(bytes.length).toBe(65536);
    expect((decodePacket(bytes, big) as OscMessage).args).toHaveLength(65529);
    expect(timed(bytes, big)).toBeLessThan(50);
  });

  it('decodes 64 KiB of arrays nested 16 deep, a long string, many ints, many elements and 128 bundles deep fast', () => {
    const nest = `${'['.repeat(16)}${']'.repeat(16)}`;
    const arrays = pkt(str('/a'), str(`,${nest.repeat(2047)}`));
    const longString = pkt(str('/s'), str(',s'), str('x'.repeat(65520)));
    const ints = pkt(str('/i'), str(`,${'i'.repeat(13100)}`), ...Array.from({ length: 13100 }, () => i32(7)));
    const msg = encodeMessage('/e', []);
    const elements = encodeBundle(
      { seconds: 0, fraction: 1 },
      Array.from({ length: 4000 }, () => msg),
    );
    let deep = msg;
    for (let d = 0; d < 128; d++) deep = encodeBundle({ seconds: 0, fraction: 1 }, [deep, msg]);
    for (const bytes of [arrays, longString, ints, elements, deep]) {
      expect(bytes.length).toBeLessThanOrEqual(65536);
      expect(timed(bytes, big)).toBeLessThan(50);
    }
    expect(reason(pkt(str('/n'), str(`,${'N'.repeat(65529)}`)))).toMatch(
      /65529 arguments, more than the limit of 1024/,
    );
  });
});
