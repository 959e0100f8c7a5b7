/**
 * Pitch (issue #9, "Tests"): sine, sawtooth and plucked-string tones from 55 to 1,760 Hz within ±10
 * cents, within ±20 cents at 20 dB SNR, no pitch in silence or noise; events only when confident and
 * changed. Signals made here; sox's are in sox.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { webAudio } from '../../../../../adapters/audio/web-audio.js';
import {
  analyze,
  cents,
  only,
  place,
  pluck,
  RATE,
  rms,
  tone,
  type Wave,
  whiteNoise,
  withNoise,
} from './signals.js';

const FREQUENCIES = [55, 110, 220, 440, 880, 1760];

/** The pitch events of a tone placed at 0.2 s in 1 s, with optional noise over everything. */
function pitchesOf(x: Float32Array, snrDb?: number): ReturnType<typeof only<'pitch'>> {
  let signal = place(RATE, [{ at: 0.2, x }]);
  if (snrDb !== undefined) signal = withNoise(signal, whiteNoise(signal.length, 0.1), snrDb, rms(x));
  return only(analyze(signal), 'pitch');
}

describe('pitch of tones made here', () => {
  const cases: [string, (hz: number) => Float32Array][] = [
    ...(['sine', 'sawtooth', 'square'] as Wave[]).map((w): [string, (hz: number) => Float32Array] => [
      w,
      (hz) => tone(w, hz, 0.6, 0.5, 5),
    ]),
    ['pluck', (hz) => pluck(hz, 0.6)],
  ];

  describe.each(cases)('%s', (_, make) => {
    it.each(FREQUENCIES)('%d Hz: one event, within ±10 cents, at the note start', (hz) => {
      const p = pitchesOf(make(hz));
      expect(p).toHaveLength(1);
      expect(Math.abs(cents(p[0]!.hz, hz))).toBeLessThan(10);
      expect(p[0]!.confidence).toBeGreaterThanOrEqual(0.85);
      expect(Math.abs(p[0]!.at - 0.2)).toBeLessThan(0.01);
    });

    it.each(FREQUENCIES)('%d Hz at 20 dB SNR: within ±20 cents', (hz) => {
      const p = pitchesOf(make(hz), 20);
      expect(p.length).toBeGreaterThanOrEqual(1);
      for (const e of p) expect(Math.abs(cents(e.hz, hz))).toBeLessThan(20);
    });
  });

  it('names the note: A4 for 440 Hz, C4 for 261.63 Hz, with the offset in cents', () => {
    const [a4] = pitchesOf(tone('sine', 440, 0.5));
    expect(a4).toMatchObject({ midi: 69, note: 'A4' });
    expect(Math.abs(a4!.cents)).toBeLessThan(2);
    const [c4] = pitchesOf(tone('sine', 261.63 * 2 ** (20 / 1200), 0.5));
    expect(c4).toMatchObject({ midi: 60, note: 'C4' });
    expect(c4!.cents).toBeGreaterThan(15);
    expect(c4!.cents).toBeLessThan(25);
  });
});

describe('no pitch where there is none', () => {
  it('silence: no event at all', () => {
    expect(analyze(new Float32Array(RATE * 2))).toEqual([]);
  });

  it('white noise alone, loud or soft: no pitch', () => {
    for (const level of [0.3, 0.01]) expect(only(analyze(whiteNoise(RATE * 2, level)), 'pitch')).toEqual([]);
  });

  it('noise quieter than -60 dBFS: nothing at all (no onset either)', () => {
    expect(analyze(whiteNoise(RATE * 2, 0.0005))).toEqual([]);
  });
});

describe('events when confident and changed, not on every frame', () => {
  it('a melody: one event per note, in order, each at its note', () => {
    const notes = [220, 247, 262, 294, 330];
    const x = place(
      Math.round(2.8 * RATE),
      notes.map((hz, i) => ({ at: 0.1 + i * 0.5, x: tone('sawtooth', hz, 0.45, 0.4, 5) })),
    );
    const p = only(analyze(x), 'pitch');
    expect(p.map((e) => e.note)).toEqual(['A3', 'B3', 'C4', 'D4', 'E4']);
    p.forEach((e, i) => {
      expect(Math.abs(cents(e.hz, notes[i]!))).toBeLessThan(10);
      expect(Math.abs(e.at - (0.1 + i * 0.5))).toBeLessThan(0.01);
    });
  });

  it('a legato change (no gap, no onset): a new event for the new note', () => {
    const x = new Float32Array(RATE);
    x.set(tone('sawtooth', 110, 0.5, 0.4));
    x.set(tone('sawtooth', 146.83, 0.5, 0.4), RATE / 2);
    const p = only(analyze(x), 'pitch');
    expect(p.map((e) => e.note)).toEqual(['A2', 'D3']);
    expect(Math.abs(p[1]!.at - 0.5)).toBeLessThan(0.03);
  });

  it('the same note played again after a rest: a second event', () => {
    const note = () => tone('sine', 330, 0.3, 0.4, 5);
    const p = only(
      analyze(
        place(RATE, [
          { at: 0.1, x: note() },
          { at: 0.6, x: note() },
        ]),
      ),
      'pitch',
    );
    expect(p.map((e) => e.note)).toEqual(['E4', 'E4']);
  });

  it('vibrato of ±30 cents around one note: one event', () => {
    const n = RATE * 2;
    const x = new Float32Array(n);
    let phase = 0;
    for (let i = 0; i < n; i++) {
      phase += (2 * Math.PI * 440 * 2 ** ((30 * Math.sin(2 * Math.PI * 5.5 * (i / RATE))) / 1200)) / RATE;
      x[i] = 0.4 * Math.sin(phase);
    }
    expect(only(analyze(x), 'pitch')).toHaveLength(1);
  });
});

describe('a tone rendered by Web Audio (node-web-audio-api OfflineAudioContext)', () => {
  it.each([82.41, 196, 659.25])('band-limited sawtooth at %d Hz: within ±10 cents', async (hz) => {
    const { OfflineAudioContext } = webAudio();
    const ctx = new OfflineAudioContext({ numberOfChannels: 1, length: RATE, sampleRate: RATE });
    const osc = ctx.createOscillator();
    osc.type = 'sawtooth';
    osc.frequency.value = hz;
    const gain = ctx.createGain();
    gain.gain.value = 0.3;
    osc.connect(gain).connect(ctx.destination);
    osc.start(0.25);
    const buffer = await ctx.startRendering();
    const p = only(analyze(buffer.getChannelData(0)), 'pitch');
    expect(p).toHaveLength(1);
    expect(Math.abs(cents(p[0]!.hz, hz))).toBeLessThan(10);
    expect(Math.abs(p[0]!.at - 0.25)).toBeLessThan(0.01);
  });
});
