/**
 * Onsets (issue #9, "Tests"): clicks and notes at known times within ±10 ms, no double detections,
 * none in silence; `at` is when the sound started, not when it was detected.
 */
import { describe, expect, it } from 'vitest';
import { renderOffline } from '../../../../../adapters/audio/render.js';
import { analyze, only, place, pluck, RATE, tone, whiteNoise, withNoise } from './signals.js';

/** Irregular times (s), so a detector locked to a grid would miss. */
const TIMES = [0.25, 0.612, 0.9, 1.374, 1.5, 2.013, 2.4];

/** A 2 ms click: a decaying 3 kHz burst. */
function click(amp = 0.8): Float32Array {
  const n = Math.round(0.002 * RATE);
  return Float32Array.from(
    { length: n },
    (_, i) => amp * Math.sin((2 * Math.PI * 3000 * i) / RATE) * (1 - i / n),
  );
}

/** Expects one onset per time, each within ±`tolerance` s of it, and nothing else. */
function expectOnsetsAt(x: Float32Array, times: readonly number[], tolerance = 0.01, block = 128): void {
  const onsets = only(analyze(x, block), 'onset');
  expect(onsets.map((o) => Number(o.at.toFixed(3)))).toHaveLength(times.length);
  onsets.forEach((o, i) => {
    expect(Math.abs(o.at - times[i]!)).toBeLessThan(tolerance);
    expect(o.detectedAt).toBeGreaterThan(o.at);
    expect(o.strength).toBeGreaterThan(0);
    expect(o.strength).toBeLessThan(1);
  });
}

const length = Math.round(2.8 * RATE);

describe('onsets of clicks and notes at known times', () => {
  it('clicks: each within ±10 ms (within 1 ms in fact), once', () => {
    const x = place(
      length,
      TIMES.map((at) => ({ at, x: click() })),
    );
    expectOnsetsAt(x, TIMES, 0.001);
  });

  it('clicks from loud to quiet (-6 to -36 dBFS peak): each once', () => {
    const x = place(
      length,
      TIMES.map((at, i) => ({ at, x: click(0.5 / 10 ** (i / 4)) })),
    );
    expectOnsetsAt(x, TIMES, 0.001);
  });

  it('plucked notes of a melody, each ringing into the next: each once, within ±10 ms', () => {
    const hz = [196, 262, 330, 247, 392, 220, 294];
    const x = place(
      length,
      TIMES.map((at, i) => ({ at, x: pluck(hz[i]!, 1.2, 0.4, i + 1) })),
    );
    expectOnsetsAt(x, TIMES);
  });

  it('sawtooth notes with 5 ms attacks, and a low 55 Hz one: each once, within ±10 ms', () => {
    const hz = [55, 110, 440, 880, 1760, 220, 330];
    const x = place(
      length,
      TIMES.map((at, i) => ({ at, x: tone('sawtooth', hz[i]!, 0.09, 0.4, 5) })),
    );
    expectOnsetsAt(x, TIMES);
  });

  it('notes over a noise floor at 20 dB SNR: each once, nothing from the noise', () => {
    const notes = place(
      length,
      TIMES.map((at, i) => ({ at, x: tone('sine', 200 + 100 * i, 0.2, 0.4, 3) })),
    );
    // 20 dB below a note's RMS (a 0.4 sine). The noise starts with the stream: its onset at 0 is true.
    expectOnsetsAt(withNoise(notes, whiteNoise(length, 0.1), 20, 0.4 / Math.SQRT2), [0, ...TIMES]);
  });

  it("the project's drum kit (OfflineAudioContext): kick, snare and hat hits within ±10 ms", async () => {
    const hits = ['kick', 'hat', 'snare', 'hat', 'kick', 'snare', 'hat'];
    const r = await renderOffline({
      duration: 2.8,
      band: { masterGain: 0.5, instruments: {}, otherChannels: 'lead', seed: 1 },
      messages: TIMES.map((at, i) => ({
        type: 'play_drums' as const,
        payload: { hits: [hits[i]!], velocity: 110 },
        at: at * 1000,
      })),
    });
    expectOnsetsAt(r.channels[0]!, TIMES);
  });
});

describe('no onsets where nothing starts', () => {
  it('silence, and the silences between notes: none', () => {
    expect(only(analyze(new Float32Array(length)), 'onset')).toEqual([]);
    const x = place(length, [
      { at: 0.5, x: tone('sine', 440, 0.3, 0.4, 5) },
      { at: 1.8, x: tone('sine', 660, 0.3, 0.4, 5) },
    ]);
    const onsets = only(analyze(x), 'onset');
    expect(onsets).toHaveLength(2);
    for (const o of onsets) expect(Math.min(Math.abs(o.at - 0.5), Math.abs(o.at - 1.8))).toBeLessThan(0.01);
  });

  it('a held note (sine, sawtooth at 55 Hz, pluck) gives one onset, at its start', () => {
    for (const x of [tone('sine', 220, 2, 0.4, 5), tone('sawtooth', 55, 2, 0.4, 5), pluck(82.4, 2)]) {
      expectOnsetsAt(place(Math.round(2.3 * RATE), [{ at: 0.2, x }]), [0.2]);
    }
  });

  it('a note cut off at once gives no onset at its end', () => {
    const x = place(RATE, [{ at: 0.2, x: tone('sawtooth', 220, 0.5, 0.4) }]);
    expectOnsetsAt(x, [0.2]);
  });

  it('steady noise: one onset where it begins, none after', () => {
    const x = place(Math.round(2.5 * RATE), [{ at: 0.3, x: whiteNoise(2 * RATE, 0.2) }]);
    expectOnsetsAt(x, [0.3]);
  });
});

describe('streaming', () => {
  it('the same events whatever the block size (1, 128, 1000, 4096 samples or all at once)', () => {
    const x = place(Math.round(1.5 * RATE), [
      { at: 0.2, x: pluck(220, 0.6) },
      { at: 0.9, x: click() },
      { at: 1.1, x: tone('sawtooth', 330, 0.3, 0.4, 5) },
    ]);
    const reference = analyze(x, x.length);
    expect(reference.length).toBeGreaterThanOrEqual(5);
    for (const block of [1, 128, 1000, 4096]) expect(analyze(x, block)).toEqual(reference);
  });

  it('reports each onset within 30 ms of the sound (detectedAt − at)', () => {
    const x = place(
      length,
      TIMES.map((at) => ({ at, x: click() })),
    );
    const lags = only(analyze(x), 'onset').map((o) => o.detectedAt - o.at);
    expect(lags).toHaveLength(TIMES.length);
    for (const lag of lags) expect(lag).toBeLessThan(0.03);
  });
});
