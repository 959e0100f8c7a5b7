import { describe, expect, it } from 'vitest';
import { jsonReplacer, reviveJson, toJson } from '../../../../daemon/kernel/json-values.js';

describe('JSON values the bus carries and JSON cannot', () => {
  it('writes ±Infinity and NaN as Extended JSON doubles, distinct from null', () => {
    const text = toJson({
      args: [Number.POSITIVE_INFINITY, null, Number.NEGATIVE_INFINITY, Number.NaN, 1.5],
    });
    expect(JSON.parse(text)).toEqual({
      args: [
        { $numberDouble: 'Infinity' },
        null,
        { $numberDouble: '-Infinity' },
        { $numberDouble: 'NaN' },
        1.5,
      ],
    });
  });

  it('writes bytes as an array of byte values', () => {
    expect(toJson({ b: new Uint8Array([0, 255, 7]) })).toBe('{"b":[0,255,7]}');
    expect(jsonReplacer('', 3)).toBe(3);
  });

  it('reads them back: what was written is what is read', () => {
    const payload = {
      x: Number.POSITIVE_INFINITY,
      y: [Number.NaN, { z: Number.NEGATIVE_INFINITY }],
      n: null,
    };
    const back = reviveJson(JSON.parse(toJson(payload))) as typeof payload;
    expect(back.x).toBe(Number.POSITIVE_INFINITY);
    expect(back.y[0]).toBeNaN();
    expect((back.y[1] as { z: number }).z).toBe(Number.NEGATIVE_INFINITY);
    expect(back.n).toBeNull();
  });

  it('leaves alone what is not exactly a wrapper of a known value', () => {
    const odd = [
      { $numberDouble: 'Inf' },
      { $numberDouble: 'Infinity', extra: 1 },
      { $numberDouble: 5 },
      { $numberdouble: 'NaN' },
      'Infinity',
    ];
    expect(reviveJson(structuredClone(odd))).toEqual(odd);
  });

  it('stops at a depth a hostile body could use to exhaust the stack', () => {
    let deep: unknown = { $numberDouble: 'Infinity' };
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(() => reviveJson(deep)).not.toThrow();
    let shallow: unknown = { $numberDouble: 'Infinity' };
    for (let i = 0; i < 10; i++) shallow = [shallow];
    let v = reviveJson(shallow);
    for (let i = 0; i < 10; i++) v = (v as unknown[])[0];
    expect(v).toBe(Number.POSITIVE_INFINITY);
  });
});
