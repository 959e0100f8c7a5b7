import { describe, expect, it } from 'vitest';
import { compileRoutes, type Latches } from '../../../../adapters/osc/mapping.js';
import type { OscMessage } from '../../../../adapters/osc/types.js';

const msg = (address: string, ...args: number[]): OscMessage => ({
  kind: 'message',
  address,
  types: args.map(() => 'i').join(''),
  args,
});

describe('route latches, now and integer steps', () => {
  it('turns a running beat count into beat, bar, bpm from the last tempo, and the arrival time', () => {
    const latches: Latches = new Map();
    const [tempo, beat] = compileRoutes(
      [
        { address: '/tempo', type: 'tempo_change', payload: { bpm: { arg: 0 } }, latch: { bpm: { arg: 0 } } },
        {
          address: '/beat',
          type: 'beat_event',
          payload: {
            beat: { arg: 0, mod: 4, add: 1 },
            bar: { arg: 0, div: 4, add: 1 },
            bpm: { latch: 'bpm', default: 120 },
            at: { now: true },
          },
        },
      ],
      latches,
    );
    // Before any tempo: the default.
    expect(beat?.map(msg('/beat', 0), 5_000)).toMatchObject({
      type: 'beat_event',
      payload: { beat: 1, bar: 1, bpm: 120, at: 5_000 },
    });
    expect(tempo?.map(msg('/tempo', 96), 5_100)).toMatchObject({ payload: { bpm: 96 } });
    expect(latches.get('bpm')).toBe(96);
    expect(beat?.map(msg('/beat', 7), 5_200)).toMatchObject({
      payload: { beat: 4, bar: 2, bpm: 96, at: 5_200 },
    });
    expect(beat?.map(msg('/beat', 8), 5_300)).toMatchObject({ payload: { beat: 1, bar: 3 } });
  });

  it('keeps mod non-negative and names a latch that has no value and no default', () => {
    const [r] = compileRoutes([
      { address: '/x', type: 'open_type', payload: { m: { arg: 0, mod: 4 }, l: { latch: 'nothing' } } },
    ]);
    expect(r?.map(msg('/x', -1), 0)).toBe(
      'osc.routes[0] (/x): l: latch "nothing" has no value yet and no default',
    );
    const [r2] = compileRoutes([{ address: '/x', type: 'open_type', payload: { m: { arg: 0, mod: 4 } } }]);
    expect(r2?.map(msg('/x', -1), 0)).toMatchObject({ payload: { m: 3 } });
  });

  it('refuses a field with two sources, latch and now included', () => {
    expect(() =>
      compileRoutes([{ address: '/x', type: 't', payload: { f: { latch: 'a', now: true } } }]),
    ).toThrow(/exactly one of arg, name, value, latch or now/);
  });
});
