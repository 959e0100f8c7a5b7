import { afterEach, describe, expect, it } from 'vitest';
import { Conductor } from '../../../agents/conductor.js';
import { Harmony, movement, voiceChord } from '../../../agents/harmony.js';
import { parseChord } from '../../../agents/music/theory.js';
import { Band, conductorConfig, harmonyConfig } from './band-harness.js';

let band: Band;
afterEach(async () => {
  await band?.stop();
});

/** Every k-subset of [low, high], ascending. */
function subsets(low: number, high: number, k: number): number[][] {
  const out: number[][] = [];
  const walk = (from: number, chosen: number[]): void => {
    if (chosen.length === k) out.push([...chosen]);
    else for (let n = from; n <= high; n++) walk(n + 1, [...chosen, n]);
  };
  walk(low, []);
  return out;
}

function permutations(list: number[]): number[][] {
  if (list.length <= 1) return [list];
  return list.flatMap((x, i) =>
    permutations([...list.slice(0, i), ...list.slice(i + 1)]).map((p) => [x, ...p]),
  );
}

/**
 * Brute force, independent of the agent's search: over every set of `voices` notes of the register that
 * holds exactly the chord's chosen tones, and every way of assigning its notes to the previous voices,
 * the least total movement.
 */
function bruteForceLeast(
  symbol: string,
  previous: number[],
  register: [number, number],
  voices: number,
): number {
  const tones = parseChord(symbol).voicingOrder.slice(0, voices);
  let best = Number.POSITIVE_INFINITY;
  for (const set of subsets(register[0], register[1], voices)) {
    const pcs = new Set(set.map((n) => n % 12));
    if (![...pcs].every((pc) => tones.includes(pc)) || !tones.every((pc) => pcs.has(pc))) continue;
    for (const p of permutations(set)) {
      best = Math.min(
        best,
        p.reduce((sum, n, i) => sum + Math.abs(n - previous[i]!), 0),
      );
    }
  }
  return best;
}

/** Plays `progression` through conductor and harmony for `bars` bars; returns the voicings. */
async function play(progression: string[], bars: number, voices: 3 | 4 = 4) {
  band = await new Band(0).start();
  const conductor = new Conductor(conductorConfig({ bpm: 120, progression }), band.context);
  const harmony = new Harmony(harmonyConfig({ voices }), 4, band.context);
  await harmony.start();
  await conductor.start();
  await band.runTo(200 + bars * 2_000 - 600);
  return { harmony, chords: band.of('play_chord') };
}

describe('harmony', () => {
  it('voices C Am F G in 52..76 with each voice moving a few semitones at most, least total movement', async () => {
    const progression = ['C', 'Am', 'F', 'G'];
    const { chords, harmony } = await play(progression, 8);
    expect(chords).toHaveLength(8);
    chords.forEach((m, i) => {
      const chord = parseChord(progression[i % 4]!);
      expect(m.payload).toMatchObject({ velocity: 70, channel: 3, at: 200 + i * 2_000 });
      expect(m.payload.duration).toBeCloseTo(0.95 * 2, 12);
      expect(m.at).toBe(m.payload.at);
      const notes = m.payload.notes;
      expect(notes).toHaveLength(4);
      expect([...notes].sort((a, b) => a - b)).toEqual(notes);
      for (const n of notes) {
        expect(n).toBeGreaterThanOrEqual(52);
        expect(n).toBeLessThanOrEqual(76);
        expect(chord.pitchClasses).toContain(n % 12);
      }
      for (const pc of chord.pitchClasses) expect(notes.map((n) => n % 12)).toContain(pc);
      if (i === 0) return;
      const prev = chords[i - 1]!.payload.notes;
      for (let v = 0; v < 4; v++) expect(Math.abs(notes[v]! - prev[v]!)).toBeLessThanOrEqual(3);
      expect(movement(prev, notes)).toBe(bruteForceLeast(progression[i % 4]!, prev, [52, 76], 4));
    });
    // The first voicing is the closest one around the middle of the register (64).
    expect(chords[0]!.payload.notes).toEqual([60, 64, 67, 72]);
    expect(harmony.health().details).toMatchObject({ chord: 'G', errors: 0 });
  });

  it('leads the voices of ii-V-I turnarounds and richer chords minimally, in 3 and 4 voices', async () => {
    const progression = ['Dm7', 'G7', 'Cmaj7', 'A7', 'Dm9', 'G13', 'Ebmaj9', 'C#m7b5', 'F/A', 'E7#9'];
    for (const voices of [3, 4] as const) {
      const { chords } = await play(progression, progression.length, voices);
      expect(chords).toHaveLength(progression.length);
      for (let i = 1; i < chords.length; i++) {
        const prev = chords[i - 1]!.payload.notes;
        const notes = chords[i]!.payload.notes;
        expect(notes).toHaveLength(voices);
        expect(movement(prev, notes)).toBe(bruteForceLeast(progression[i]!, prev, [52, 76], voices));
        for (let v = 0; v < voices; v++) expect(Math.abs(notes[v]! - prev[v]!)).toBeLessThanOrEqual(4);
      }
      await band.stop();
    }
  });

  it('voices a chord with the most telling tones when it has more than the voices', () => {
    // Ebmaj9 in 4 voices: G, D, F, Eb (no fifth); in 3: G, D, F (rootless).
    expect(
      voiceChord(parseChord('Ebmaj9'), undefined, [52, 76], 4)
        .map((n) => n % 12)
        .sort(),
    ).toEqual([2, 3, 5, 7]);
    expect(
      voiceChord(parseChord('Ebmaj9'), undefined, [52, 76], 3)
        .map((n) => n % 12)
        .sort(),
    ).toEqual([2, 5, 7]);
    expect(() => voiceChord(parseChord('C'), undefined, [60, 62], 3)).toThrow(
      'no 3-note voicing of C in MIDI 60..62',
    );
  });

  it('plays a chord on its beat, not when announced: a chord announced before a stop is never heard', async () => {
    band = await new Band(0).start();
    const conductor = new Conductor(conductorConfig({ bpm: 120 }), band.context);
    const harmony = new Harmony(harmonyConfig(), 4, band.context);
    await harmony.start();
    await conductor.start();
    // Bar 2's chord (Am, at 2200) is announced at 1600 with the last beat of bar 1; stop at 1700.
    await band.runTo(1_700);
    expect(band.of('chord_change')).toHaveLength(2);
    conductor.transport('stop');
    await band.runTo(10_000);
    expect(band.of('play_chord').map((m) => m.payload.at)).toEqual([200]);
    // Continued, Am plays at its new time, for the whole bar.
    conductor.transport('continue');
    await band.runTo(10_200);
    expect(band.of('play_chord').map((m) => [m.payload.at, m.payload.duration])).toEqual([
      [200, 1.9],
      [10_200, 1.9],
    ]);
  });

  it('plays the rest of the bar when a chord starts mid-bar', async () => {
    band = await new Band(0).start();
    const conductor = new Conductor(conductorConfig({ bpm: 120, autoStart: false }), band.context);
    const harmony = new Harmony(harmonyConfig({ gate: 1 }), 4, band.context);
    await harmony.start();
    await conductor.start();
    conductor.transport('start', 2); // bar 1 beat 3
    await band.runTo(400);
    expect(band.of('play_chord').map((m) => [m.payload.at, m.payload.duration])).toEqual([[200, 1]]);
  });

  it('refuses a register narrower than an octave, naming the key', () => {
    band = new Band(0);
    expect(() => new Harmony(harmonyConfig({ register: [60, 70] }), 4, band.context)).toThrow(
      'agents.harmony.register: [60, 70] must span at least an octave',
    );
  });
});
