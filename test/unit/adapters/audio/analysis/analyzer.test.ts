/**
 * The Analyzer's contract for the parts built on it (issue #9: live input, `performia analyze`, the
 * bus): any sample rate, any block size, times from the stream start, reset, bad input.
 */
import { describe, expect, it } from 'vitest';
import { Analyzer, hzOf, noteName, noteOf } from '../../../../../adapters/audio/analysis/index.js';
import { analyze, cents, only, place, pluck, RATE, tone } from './signals.js';

/** A sawtooth (naive: fine for these checks) of `hz` at `rate`, 0.4 s from `at`, in `seconds`. */
function sawAt(rate: number, hz: number, at: number, seconds: number): Float32Array {
  const x = new Float32Array(Math.round(seconds * rate));
  const from = Math.round(at * rate);
  for (let i = from; i < Math.min(x.length, from + Math.round(0.4 * rate)); i++)
    x[i] = 0.4 * ((((i - from) * hz) / rate) % 1) - 0.2;
  return x;
}

describe('Analyzer', () => {
  it.each([8000, 16_000, 22_050, 44_100, 96_000, 192_000])(
    'works at %d Hz: onset time and pitch right',
    (rate) => {
      const a = new Analyzer({ sampleRate: rate });
      const events = a.process(sawAt(rate, 220, 0.3, 1));
      const onsets = only(events, 'onset');
      expect(onsets).toHaveLength(1);
      expect(Math.abs(onsets[0]!.at - 0.3)).toBeLessThan(0.01);
      const pitch = only(events, 'pitch');
      expect(pitch).toHaveLength(1);
      expect(Math.abs(cents(pitch[0]!.hz, 220))).toBeLessThan(10);
      expect(a.time).toBe(1);
    },
  );

  it('sizes its frames from the sample rate (48 kHz: 1024/256 for onsets, 2048/512 for pitch)', () => {
    expect(new Analyzer({ sampleRate: 48_000 }).frames).toEqual({
      onsetFrame: 1024,
      onsetHop: 256,
      pitchFrame: 2048,
      pitchHop: 512,
    });
    expect(new Analyzer({ sampleRate: 96_000 }).frames.pitchFrame).toBe(4096);
  });

  it('times events from the stream start across calls, and starts again at 0 after reset()', () => {
    const x = place(RATE, [{ at: 0.4, x: pluck(330, 0.5) }]);
    const a = new Analyzer({ sampleRate: RATE });
    const first = [...a.process(x.subarray(0, 20_000)), ...a.process(x.subarray(20_000))];
    expect(only(first, 'onset').map((o) => Math.round(o.at * 1000))).toEqual([400]);
    a.reset();
    expect(a.time).toBe(0);
    const again = a.process(x);
    expect(again).toEqual(first);
  });

  it('returns nothing for an empty block, and events in the order they were decided', () => {
    const a = new Analyzer({ sampleRate: RATE });
    expect(a.process(new Float32Array(0))).toEqual([]);
    const events = a.process(place(RATE, [{ at: 0.1, x: tone('sawtooth', 196, 0.5, 0.4, 5) }]));
    expect(events.map((e) => e.kind)).toEqual(['onset', 'pitch']);
    const decided = events.map((e) => e.detectedAt);
    expect(decided).toEqual([...decided].sort((p, q) => p - q));
  });

  it('takes NaN and ±Infinity samples as silence and goes on detecting', () => {
    const x = place(RATE, [{ at: 0.6, x: tone('sine', 440, 0.3, 0.4, 5) }]);
    x.fill(Number.NaN, 1000, 2000);
    x[3000] = Number.POSITIVE_INFINITY;
    x[3001] = Number.NEGATIVE_INFINITY;
    const events = analyze(x);
    expect(only(events, 'onset').map((o) => Math.round(o.at * 100))).toEqual([60]);
    expect(only(events, 'pitch').map((p) => p.note)).toEqual(['A4']);
  });

  it('honours the pitch range: a 1,760 Hz note is not reported with maxHz 1,000', () => {
    const x = place(RATE, [{ at: 0.1, x: tone('sine', 1760, 0.4, 0.4, 5) }]);
    expect(only(analyze(x), 'pitch')).toHaveLength(1);
    expect(only(analyze(x, 128, { pitch: { maxHz: 1000 } }), 'pitch').every((p) => p.hz < 1000)).toBe(true);
  });

  it('refuses a sample rate it cannot analyze, and an empty pitch or tempo range', () => {
    for (const sampleRate of [0, 7999, 44_100.5, 200_000, Number.NaN])
      expect(() => new Analyzer({ sampleRate })).toThrow(RangeError);
    expect(() => new Analyzer({ sampleRate: RATE, pitch: { minHz: 500, maxHz: 400 } })).toThrow(RangeError);
    expect(() => new Analyzer({ sampleRate: RATE, tempo: { minBpm: 200, maxBpm: 100 } })).toThrow(RangeError);
  });
});

describe('note names', () => {
  it('maps frequencies to MIDI notes, names and cents (A4 = 440 Hz = 69, C4 = 60)', () => {
    expect(noteOf(440)).toEqual({ midi: 69, note: 'A4', cents: 0 });
    expect(noteOf(261.6256)).toEqual({ midi: 60, note: 'C4', cents: 0 });
    expect(noteOf(27.5)).toEqual({ midi: 21, note: 'A0', cents: 0 });
    expect(noteOf(hzOf(61.25))).toEqual({ midi: 61, note: 'C#4', cents: 25 });
    expect(noteOf(hzOf(61.75))).toEqual({ midi: 62, note: 'D4', cents: -25 });
    expect(noteName(0)).toBe('C-1');
    expect(noteName(127)).toBe('G9');
  });
});
