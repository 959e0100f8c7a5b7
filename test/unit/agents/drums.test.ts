import { afterEach, describe, expect, it } from 'vitest';
import { Conductor } from '../../../agents/conductor.js';
import { Drums, hitsOfBeat, meterOf } from '../../../agents/drums.js';
import { DRUM_NAMES } from '../../../config/agents-schema.js';
import { Band, conductorConfig, drumsConfig } from './band-harness.js';

let band: Band;
afterEach(async () => {
  await band?.stop();
});

/** [time, hits, velocity] of every play_drums, in publish order. */
const played = () => band.of('play_drums').map((m) => [m.payload.at, m.payload.hits, m.payload.velocity]);

/** Publishes the beats of one bar from a test clock: beat k at `at0 + k * periodMs`. */
function bar(perBar: number, at0: number, bpm: number): void {
  for (let k = 0; k < perBar; k++) {
    const at = at0 + (k * 60_000) / bpm;
    band.bus.publish({ type: 'beat_event', from: 'clock', payload: { beat: k + 1, bar: 1, bpm, at }, at });
  }
}

describe('drums', () => {
  it('plays the default 4/4 pattern step by step, accents louder, at exact times', async () => {
    band = await new Band(0).start();
    const drums = new Drums(drumsConfig(), meterOf([4, 4]), band.context);
    await drums.start();
    bar(4, 10_000, 120);
    await band.settle();
    // kick X...x...  snare ..X...X.  hat xxxxxxxx — eighth-note steps of 250 ms.
    expect(played()).toEqual([
      [10_000, ['kick'], 120],
      [10_000, ['hat'], 90],
      [10_250, ['hat'], 90],
      [10_500, ['snare'], 120],
      [10_500, ['hat'], 90],
      [10_750, ['hat'], 90],
      [11_000, ['kick', 'hat'], 90],
      [11_250, ['hat'], 90],
      [11_500, ['snare'], 120],
      [11_500, ['hat'], 90],
      [11_750, ['hat'], 90],
    ]);
    for (const m of band.of('play_drums')) {
      expect(m.at).toBe(m.payload.at);
      expect(m.from).toBe('drums');
      for (const hit of m.payload.hits) expect(DRUM_NAMES).toContain(hit);
    }
    expect(drums.health().details).toMatchObject({ hits: 12, published: 11, signature: '4/4' });
  });

  it('swings every odd step by swing × step length', async () => {
    band = await new Band(0).start();
    const config = drumsConfig({ swing: 1 / 3, patterns: { '4/4': { hat: 'xxxxxxxx', ride: 'x.x.x.x.' } } });
    const drums = new Drums(config, meterOf([4, 4]), band.context);
    await drums.start();
    bar(4, 0, 120);
    await band.settle();
    const hats = band.of('play_drums').filter((m) => m.payload.hits.includes('hat'));
    const expected = [0, 250, 500, 750, 1_000, 1_250, 1_500, 1_750].map((t, i) => t + (i % 2) * (250 / 3));
    expect(hats).toHaveLength(8);
    hats.forEach((m, i) => {
      expect(Math.abs(m.payload.at! - expected[i]!)).toBeLessThan(1e-9);
    });
    // Even steps are not moved: the ride shares them with the hat.
    expect(
      band
        .of('play_drums')
        .filter((m) => m.payload.hits.includes('ride'))
        .map((m) => m.payload.hits),
    ).toEqual([
      ['hat', 'ride'],
      ['hat', 'ride'],
      ['hat', 'ride'],
      ['hat', 'ride'],
    ]);
  });

  it('follows the 3/4 and 6/8 patterns of the conductor’s meter', async () => {
    band = await new Band(0).start();
    const waltz = new Drums(drumsConfig(), meterOf([3, 4]), band.context);
    await waltz.start();
    bar(3, 0, 60);
    await band.settle();
    // kick X.....  snare ..x.x.  hat xxxxxx over three 1 s beats: steps of 500 ms.
    expect(played()).toEqual([
      [0, ['kick'], 120],
      [0, ['hat'], 90],
      [500, ['hat'], 90],
      [1_000, ['snare', 'hat'], 90],
      [1_500, ['hat'], 90],
      [2_000, ['snare', 'hat'], 90],
      [2_500, ['hat'], 90],
    ]);
    await waltz.stop();
    band.seen.length = 0;
    const sixEight = new Drums(drumsConfig(), meterOf([6, 8]), band.context);
    await sixEight.start();
    bar(6, 0, 120);
    await band.settle();
    // kick X.....  snare ...X..  hat xxxxxx: one step a beat.
    expect(played()).toEqual([
      [0, ['kick'], 120],
      [0, ['hat'], 90],
      [500, ['hat'], 90],
      [1_000, ['hat'], 90],
      [1_500, ['snare'], 120],
      [1_500, ['hat'], 90],
      [2_000, ['hat'], 90],
      [2_500, ['hat'], 90],
    ]);
  });

  it('plays every step exactly once when the steps do not divide into beats (16 steps in 3/4)', () => {
    const steps = 'xXxxxXxxxxXxxxxx';
    const options = { beatsPerBar: 3, swing: 0, velocity: 80, accentVelocity: 110 };
    const hits = [1, 2, 3].flatMap((beat) =>
      hitsOfBeat({ kick: steps }, options, beat, 1_000 * (beat - 1), 1_000),
    );
    expect(hits).toHaveLength(16);
    hits.forEach((h, i) => {
      expect(h.at).toBeCloseTo((i * 3_000) / 16, 9);
      expect(h.velocity).toBe(steps[i] === 'X' ? 110 : 80);
    });
    // Beat 2 holds the steps starting in [1000, 2000): 6..10 (step 5 starts at 937.5 ms).
    expect(hitsOfBeat({ kick: steps }, options, 2, 1_000, 1_000).map((h) => h.at)).toEqual([
      1_125, 1_312.5, 1_500, 1_687.5, 1_875,
    ]);
  });

  it('is degraded and silent without a pattern for the meter', async () => {
    band = await new Band(0).start();
    const drums = new Drums(drumsConfig(), meterOf([5, 4]), band.context);
    await drums.start();
    bar(5, 0, 120);
    await band.settle();
    expect(band.of('play_drums')).toHaveLength(0);
    expect(drums.health()).toMatchObject({
      state: 'degraded',
      reason: 'no drum pattern for 5/4 in agents.drums.patterns (has 4/4, 3/4, 6/8)',
    });
  });

  it('answers the conductor’s beats, hits inside each beat', async () => {
    band = await new Band(0).start();
    const conductor = new Conductor(conductorConfig({ bpm: 100 }), band.context);
    const drums = new Drums(drumsConfig(), meterOf([4, 4]), band.context);
    await drums.start();
    await conductor.start();
    await band.runTo(200 + 8 * 2_400 - 700);
    const beats = band.of('beat_event').map((m) => m.payload.at);
    const kicks = band.of('play_drums').filter((m) => m.payload.hits.includes('kick'));
    // Kick on beats 1 and 3 of each bar: 16 in 8 bars, exactly on those beats.
    expect(kicks.map((m) => m.payload.at)).toEqual(beats.filter((_, n) => n % 2 === 0));
    expect(kicks.map((m) => m.payload.velocity).slice(0, 4)).toEqual([120, 90, 120, 90]);
  });
});
