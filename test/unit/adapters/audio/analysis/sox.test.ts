/**
 * The analyzer on signals made by an outside tool: sox's `synth` (sine, square, sawtooth and its
 * plucked string, white/pink/brown noise), written to 16-bit WAV and read back with the audio
 * adapter's reader (issue #9, "Tests"). sox's square and sawtooth are not band-limited: their aliases
 * are part of the test. Skipped where sox is missing; CI installs it (.ci/run).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clickTrackEffects } from '../../../../helpers/sox.js';
import { analyze, cents, only, place, RATE, rms, sox, soxAvailable, withNoise } from './signals.js';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'performia-analysis-'));
  // Start every tone now: sox runs on the other core while the tests analyze. A failure is ignored
  // here because the test awaiting the same promise (`made`) fails with it.
  if (soxAvailable)
    for (const wave of WAVES) for (const hz of FREQUENCIES) void soxTone(wave, hz).catch(() => {});
});
afterAll(async () => {
  if (dir !== '') await rm(dir, { recursive: true, force: true });
});

const WAVES = ['sine', 'square', 'sawtooth', 'pluck'] as const;
const FREQUENCIES = [55, 110, 220, 440, 880, 1760];

/** Each sox file is made once for the clean and the noisy test. */
const made = new Map<string, Promise<Float32Array>>();
const once = (name: string, effects: string[]): Promise<Float32Array> => {
  if (!made.has(name)) made.set(name, sox(dir, name, effects));
  return made.get(name)!;
};

/** A 0.5 s sox tone at -6 dBFS, placed at 0.2 s in 0.8 s. */
async function soxTone(wave: string, hz: number): Promise<Float32Array> {
  const x = await once(`${wave}-${hz}`, ['synth', '0.5', wave, String(hz), 'gain', '-6']);
  return place(Math.round(0.8 * RATE), [{ at: 0.2, x }]);
}

describe.skipIf(!soxAvailable)('signals made by sox', () => {
  describe.each(WAVES)('sox synth %s', (wave) => {
    it.each(FREQUENCIES)('%d Hz: one pitch event within ±10 cents, one onset at the start', async (hz) => {
      const events = analyze(await soxTone(wave, hz));
      const pitch = only(events, 'pitch');
      expect(pitch).toHaveLength(1);
      expect(Math.abs(cents(pitch[0]!.hz, hz))).toBeLessThan(10);
      const onsets = only(events, 'onset');
      expect(onsets).toHaveLength(1);
      expect(Math.abs(onsets[0]!.at - 0.2)).toBeLessThan(0.01);
    });

    it.each(FREQUENCIES)('%d Hz with sox white noise at 20 dB SNR: within ±20 cents', async (hz) => {
      const noise = await once('white', ['synth', '0.8', 'whitenoise', 'gain', '-6']);
      const tone = await soxTone(wave, hz);
      // 20 dB below the tone's RMS while it sounds (0.5 s of the 0.8).
      const pitch = only(analyze(withNoise(tone, noise, 20, rms(tone) / Math.sqrt(0.5 / 0.8))), 'pitch');
      expect(pitch.length).toBeGreaterThanOrEqual(1);
      for (const p of pitch) expect(Math.abs(cents(p.hz, hz))).toBeLessThan(20);
    });
  });

  it.each(['whitenoise', 'pinknoise', 'brownnoise'])(
    '%s alone: no pitch; one onset, where it starts',
    async (kind) => {
      const noise = await sox(dir, kind, ['synth', '1.5', kind, 'gain', '-6']);
      const events = analyze(place(2 * RATE, [{ at: 0.3, x: noise }]));
      expect(only(events, 'pitch')).toEqual([]);
      const onsets = only(events, 'onset');
      expect(onsets).toHaveLength(1);
      expect(Math.abs(onsets[0]!.at - 0.3)).toBeLessThan(0.01);
    },
  );

  it('plucked notes at known times, one after the other: each onset within ±10 ms, each pitch right', async () => {
    const notes = [
      { at: 0.3, hz: 196 },
      { at: 0.71, hz: 262 },
      { at: 1.05, hz: 330 },
      { at: 1.52, hz: 131 },
      { at: 1.9, hz: 440 },
      { at: 2.6, hz: 0 },
    ];
    // Each note lasts until 30 ms before the next, with a 20 ms fade-out (a monophonic line: notes
    // ringing on under the next are a chord, which the analysis does not take apart).
    const parts = await Promise.all(
      notes.slice(0, -1).map(async ({ at, hz }, i) => {
        const seconds = (notes[i + 1]!.at - at - 0.03).toFixed(3);
        const effects = ['synth', seconds, 'pluck', String(hz), 'gain', '-8', 'fade', '0', seconds, '0.02'];
        return { at, x: await sox(dir, `note-${hz}`, effects) };
      }),
    );
    const played = notes.slice(0, -1);
    const events = analyze(place(Math.round(2.8 * RATE), parts));
    const onsets = only(events, 'onset');
    expect(onsets).toHaveLength(played.length);
    onsets.forEach((o, i) => {
      expect(Math.abs(o.at - played[i]!.at)).toBeLessThan(0.01);
    });
    const pitch = only(events, 'pitch');
    expect(pitch).toHaveLength(played.length);
    pitch.forEach((p, i) => {
      expect(Math.abs(cents(p.hz, played[i]!.hz))).toBeLessThan(10);
      expect(p.at).toBe(onsets[i]!.at);
    });
  });

  it.each([90, 120, 150])(
    'a sox click track at %d BPM: onsets on the beats, tempo within ±1 BPM',
    async (bpm) => {
      const beat = 60 / bpm;
      // One 3 ms click then silence to fill the beat, repeated: 16 beats.
      const track = await sox(dir, `clicks-${bpm}`, clickTrackEffects(bpm, 16));
      const events = analyze(place(track.length + RATE / 2, [{ at: 0.25, x: track }]));
      const onsets = only(events, 'onset');
      expect(onsets).toHaveLength(16);
      onsets.forEach((o, i) => {
        expect(Math.abs(o.at - (0.25 + i * beat))).toBeLessThan(0.01);
      });
      const tempo = only(events, 'tempo');
      expect(tempo.length).toBeGreaterThanOrEqual(1);
      for (const t of tempo) expect(Math.abs(t.bpm - bpm)).toBeLessThan(1);
    },
  );
});
