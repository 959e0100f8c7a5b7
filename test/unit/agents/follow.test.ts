import { afterEach, describe, expect, it } from 'vitest';
import { Bass } from '../../../agents/bass.js';
import { Conductor } from '../../../agents/conductor.js';
import { Harmony } from '../../../agents/harmony.js';
import { foldTempo, tempoStep } from '../../../agents/music/follow.js';
import { parseChord, transposeSymbol } from '../../../agents/music/theory.js';
import { Band, bassConfig, conductorConfig, harmonyConfig } from './band-harness.js';

const follow = (over: Partial<ReturnType<typeof conductorConfig>['follow']> = {}) => ({
  tempo: true,
  phase: true,
  pitch: false,
  minConfidence: 0.6,
  ...over,
});

let band: Band;
afterEach(async () => {
  await band?.stop();
});

describe('following: the numbers (agents/music/follow.ts)', () => {
  it('folds a detected tempo to the octave nearest the one playing', () => {
    expect(foldTempo(240, 118, 20, 400)).toBe(120);
    expect(foldTempo(61, 118, 20, 400)).toBe(122);
    expect(foldTempo(121, 118, 20, 400)).toBe(121);
    // An octave outside the range is not a candidate.
    expect(foldTempo(300, 390, 20, 400)).toBe(300);
  });

  it('takes the tempo as detected when not yet following, folded once following', () => {
    const detected = { bpm: 80 };
    expect(tempoStep({ bpm: 120, nextBeatAt: 0, following: false }, detected, false, 20, 400).bpm).toBe(80);
    expect(tempoStep({ bpm: 120, nextBeatAt: 0, following: true }, detected, false, 20, 400).bpm).toBe(160);
  });

  it("moves the next beat half-way toward the musician's nearest beat, at most 1/8 beat", () => {
    // Musician at 120 BPM with a beat at 1000: beats at …, 9000, 9500, … The next beat at 9040: 40 ms late.
    const step = tempoStep(
      { bpm: 120, nextBeatAt: 9_040, following: true },
      { bpm: 120, beat: 1_000 },
      true,
      20,
      400,
    );
    expect(step).toEqual({ bpm: 120, shiftMs: -20 });
    // 200 ms early: the move is capped at 500 / 8 = 62.5 ms.
    const far = tempoStep(
      { bpm: 120, nextBeatAt: 8_800, following: true },
      { bpm: 120, beat: 1_000 },
      true,
      20,
      400,
    );
    expect(far.shiftMs).toBe(62.5);
    // No beat in the detection, or phase off: tempo only.
    expect(
      tempoStep({ bpm: 120, nextBeatAt: 9_040, following: true }, { bpm: 120 }, true, 20, 400).shiftMs,
    ).toBe(0);
    expect(
      tempoStep({ bpm: 120, nextBeatAt: 9_040, following: true }, { bpm: 120, beat: 1_000 }, false, 20, 400)
        .shiftMs,
    ).toBe(0);
  });

  it('moves a chord to a new root and keeps its quality and its slash bass interval', () => {
    expect(transposeSymbol('Am', 2)).toBe('Dm');
    expect(transposeSymbol('F/A', 7)).toBe('G/B');
    expect(transposeSymbol('Cmaj7', 10)).toBe('Bbmaj7');
    expect(transposeSymbol('C#m7b5', 0)).toBe('Cm7b5');
    expect(parseChord(transposeSymbol('G7', 4)).pitchClasses).toEqual([4, 8, 11, 2]);
  });
});

describe('following: the conductor on the bus (virtual clock)', () => {
  it('takes a confident detected tempo from the next beat, ignores an unconfident one', async () => {
    band = await new Band(0).start();
    const conductor = new Conductor(
      conductorConfig({ bpm: 120, follow: follow({ phase: false }) }),
      band.context,
    );
    await conductor.start();
    await band.runTo(1_000);
    band.bus.publish({ type: 'tempo_detected', from: 'listen', payload: { bpm: 100, confidence: 0.3 } });
    await band.runTo(2_000);
    expect(conductor.health().details).toMatchObject({ bpm: 120 });
    band.bus.publish({ type: 'tempo_detected', from: 'listen', payload: { bpm: 100, confidence: 0.9 } });
    await band.runTo(6_000);
    const beats = band.of('beat_event');
    const after = beats.filter((m) => m.payload.bpm === 100);
    expect(after.length).toBeGreaterThan(3);
    // Beats after the change are 600 ms apart; none before it moved.
    for (let i = 1; i < after.length; i++)
      expect(after[i]!.payload.at - after[i - 1]!.payload.at).toBeCloseTo(600, 9);
    expect(beats.slice(0, 4).map((m) => m.payload.at)).toEqual([200, 700, 1200, 1700]);
  });

  it("slides its beats onto the musician's beats over a few estimates, never publishing a beat late", async () => {
    band = await new Band(0).start();
    const conductor = new Conductor(
      conductorConfig({ bpm: 120, lookaheadMs: 100, follow: follow() }),
      band.context,
    );
    await conductor.start();
    // The conductor's beats: 200 + 500 n. The musician's: 120 BPM, 150 ms later (350 + 500 n).
    for (let t = 1_000; t <= 8_000; t += 500) {
      await band.runTo(t);
      band.bus.publish({
        type: 'tempo_detected',
        from: 'listen',
        payload: { bpm: 120, confidence: 0.9, beat: 350 },
      });
    }
    await band.runTo(10_000);
    const beats = band.of('beat_event');
    const offsetOf = (at: number) => ((((at - 350) % 500) + 750) % 500) - 250;
    // At first 150 ms off; at the end on the musician's beat (within 1 ms).
    expect(Math.abs(offsetOf(beats[0]!.payload.at))).toBeCloseTo(150, 6);
    expect(Math.abs(offsetOf(beats.at(-1)!.payload.at))).toBeLessThan(1);
    // Every beat published at least the lookahead before its time, and in order.
    for (const m of beats) expect(m.payload.at - m.timestamp).toBeGreaterThanOrEqual(100 - 1e-6);
    for (let i = 1; i < beats.length; i++)
      expect(beats[i]!.payload.at).toBeGreaterThan(beats[i - 1]!.payload.at);
    // No move larger than an eighth of a beat between two beats.
    for (let i = 1; i < beats.length; i++)
      expect(Math.abs(beats[i]!.payload.at - beats[i - 1]!.payload.at - 500)).toBeLessThanOrEqual(
        62.5 + 1e-6,
      );
  });

  it("roots the next bar's chord on the last note heard, and the bass and harmony play it", async () => {
    band = await new Band(0).start();
    const conductor = new Conductor(
      conductorConfig({ bpm: 120, progression: ['C', 'Am'], follow: follow({ tempo: false, pitch: true }) }),
      band.context,
    );
    const bass = new Bass(bassConfig(), band.context);
    const harmony = new Harmony(harmonyConfig(), 4, band.context);
    for (const a of [conductor, bass, harmony]) await a.start();
    // Bar 1 (C) starts at 200, bar 2 at 2200, announced after beat 4 of bar 1 is published (1600).
    await band.runTo(1_000);
    const pitch = (midi: number, confidence: number, at: number) =>
      band.bus.publish({
        type: 'pitch_detected',
        from: 'listen',
        payload: { hz: 440 * 2 ** ((midi - 69) / 12), midi, note: 'x', cents: 0, confidence, at },
      });
    pitch(62, 0.95, 990); // D: Am becomes Dm
    pitch(64, 0.2, 995); // an unconfident E: ignored
    await band.runTo(5_000);
    const chords = band.of('chord_change').map((m) => m.payload.chord);
    expect(chords.slice(0, 3)).toEqual(['C', 'Dm', 'C']);
    const bar2 = 2_200;
    const bassNote = band.of('play_note').find((m) => m.payload.at === bar2);
    expect(bassNote!.payload.note % 12).toBe(2);
    const chord = band.of('play_chord').find((m) => m.payload.at === bar2);
    expect(new Set(chord!.payload.notes.map((n) => n % 12))).toEqual(new Set([2, 5, 9]));
    expect(conductor.health().details).toMatchObject({ followed: { chords: 1 } });
  });

  it('does not subscribe to the listening part unless follow says so', async () => {
    band = await new Band(0).start();
    const conductor = new Conductor(conductorConfig({ bpm: 120 }), band.context);
    await conductor.start();
    await band.runTo(1_000);
    band.bus.publish({ type: 'tempo_detected', from: 'listen', payload: { bpm: 90, confidence: 1 } });
    await band.runTo(3_000);
    expect(band.of('beat_event').every((m) => m.payload.bpm === 120)).toBe(true);
  });
});
