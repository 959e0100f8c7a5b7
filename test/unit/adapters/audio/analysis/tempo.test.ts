/**
 * Tempo (issue #9, "Tests"): drum patterns at 90, 120 and 150 BPM within ±1 BPM; estimates updated
 * as the music goes, none without a beat.
 */
import { describe, expect, it } from 'vitest';
import { Analyzer } from '../../../../../adapters/audio/analysis/index.js';
import { renderOffline } from '../../../../../adapters/audio/render.js';
import { analyze, only, place, RATE, random, whiteNoise } from './signals.js';

/** Eighth-note drum hits: kick on beats 1 and 3, snare on 2 and 4, hat on every eighth. */
function rockHits(bpm: number, seconds: number, from = 0.2): { at: number; hits: string[] }[] {
  const eighth = 30 / bpm;
  const out: { at: number; hits: string[] }[] = [];
  for (let i = 0; from + i * eighth < seconds - 0.1; i++) {
    const hits = ['hat'];
    if (i % 4 === 0) hits.push('kick');
    if (i % 4 === 2) hits.push('snare');
    out.push({ at: from + i * eighth, hits });
  }
  return out;
}

/** The pattern played by the project's drum kit (adapters/audio, rendered offline). */
async function kit(bpm: number, seconds: number): Promise<Float32Array> {
  const r = await renderOffline({
    duration: seconds,
    band: { masterGain: 0.5, instruments: {}, otherChannels: 'lead', seed: 1 },
    messages: rockHits(bpm, seconds).map(({ at, hits }, i) => ({
      type: 'play_drums' as const,
      payload: { hits, velocity: i % 2 === 0 ? 110 : 80 },
      at: at * 1000,
    })),
  });
  return r.channels[0]!;
}

/** The same pattern from plain arrays: a pitch-swept sine kick, a noise snare, a short noise hat. */
function synthesized(bpm: number, seconds: number): Float32Array {
  const n = (s: number) => Math.round(s * RATE);
  const kick = Float32Array.from({ length: n(0.25) }, (_, i) => {
    const t = i / RATE;
    return 0.8 * Math.exp(-t * 18) * Math.sin(2 * Math.PI * (50 * t + (120 / 30) * (1 - Math.exp(-t * 30))));
  });
  const snare = whiteNoise(n(0.15), 0.3, 11).map((v, i) => v * Math.exp((-i / RATE) * 30));
  const hat = whiteNoise(n(0.04), 0.15, 12).map(
    (v, i, a) => (v - (a[i - 1] ?? 0)) * Math.exp((-i / RATE) * 90),
  );
  const sounds: Record<string, Float32Array> = { kick, snare, hat };
  return place(
    n(seconds),
    rockHits(bpm, seconds).flatMap(({ at, hits }) => hits.map((h) => ({ at, x: sounds[h]! }))),
  );
}

const BPMS = [90, 120, 150];

describe('tempo of drum patterns', () => {
  it.each(BPMS)("the project's drum kit at %d BPM: within ±1 BPM, steady", async (bpm) => {
    const tempo = only(analyze(await kit(bpm, 6)), 'tempo');
    expect(tempo.length).toBeGreaterThanOrEqual(1);
    // Emitted once confident, then only on a change of half a BPM or more: no flapping.
    expect(tempo.length).toBeLessThanOrEqual(2);
    for (const t of tempo) {
      expect(Math.abs(t.bpm - bpm)).toBeLessThan(1);
      expect(t.confidence).toBeGreaterThan(0.8);
    }
    // The first estimate comes after ~2.5 s of music (six onsets over two seconds, then an update).
    expect(tempo[0]!.detectedAt).toBeLessThan(3.5);
  });

  it.each(BPMS)('a synthesized kit at %d BPM: within ±1 BPM, its beat on the kick and snare', (bpm) => {
    const tempo = only(analyze(synthesized(bpm, 6)), 'tempo');
    expect(tempo.length).toBeGreaterThanOrEqual(1);
    const last = tempo[tempo.length - 1]!;
    expect(Math.abs(last.bpm - bpm)).toBeLessThan(1);
    // `at` is a beat: a whole number of beats from the first kick (at 0.2 s), within 20 ms.
    const beats = (last.at - 0.2) / (60 / bpm);
    expect(Math.abs(beats - Math.round(beats)) * (60 / bpm)).toBeLessThan(0.02);
    expect(last.at).toBeLessThanOrEqual(last.detectedAt);
  });

  it('follows a change from 120 to 96 BPM', () => {
    const first = synthesized(120, 6);
    const x = new Float32Array(first.length + 9 * RATE);
    x.set(first);
    x.set(synthesized(96, 9), first.length);
    const tempo = only(analyze(x), 'tempo');
    expect(Math.abs(tempo[0]!.bpm - 120)).toBeLessThan(1);
    expect(Math.abs(tempo[tempo.length - 1]!.bpm - 96)).toBeLessThan(1);
  });

  it('forgets the tempo in a long rest, and reports it again when the music comes back', () => {
    const part = synthesized(120, 6);
    const x = new Float32Array(part.length * 2 + 9 * RATE);
    x.set(part);
    x.set(part, part.length + 9 * RATE);
    const a = new Analyzer({ sampleRate: RATE });
    const during = only(a.process(x.subarray(0, part.length + 9 * RATE)), 'tempo');
    expect(during.length).toBeGreaterThanOrEqual(1);
    expect(a.tempo).toBeUndefined();
    const after = only(a.process(x.subarray(part.length + 9 * RATE)), 'tempo');
    expect(after.length).toBeGreaterThanOrEqual(1);
    expect(Math.abs(after[0]!.bpm - 120)).toBeLessThan(1);
    expect(a.tempo?.bpm).toBeCloseTo(120, 0);
  });
});

describe('no tempo without a beat', () => {
  it('silence: none', () => {
    expect(only(analyze(new Float32Array(4 * RATE)), 'tempo')).toEqual([]);
  });

  it.each([1, 2])('hits at random times (seed %d): none', (seed) => {
    const u = random(seed);
    const click = Float32Array.from({ length: 96 }, (_, i) => 0.5 * Math.sin(i) * (1 - i / 96));
    const times: number[] = [];
    for (let t = 0.2; t < 7.5; t += 0.12 + 0.5 * u()) times.push(t);
    const events = analyze(
      place(
        8 * RATE,
        times.map((at) => ({ at, x: click })),
      ),
      4800,
    );
    expect(only(events, 'onset')).toHaveLength(times.length);
    expect(only(events, 'tempo')).toEqual([]);
  });
});
