import { afterEach, describe, expect, it } from 'vitest';
import { BASS_LOW, Bass } from '../../../agents/bass.js';
import { Conductor } from '../../../agents/conductor.js';
import { parseChord } from '../../../agents/music/theory.js';
import { Band, bassConfig, conductorConfig } from './band-harness.js';

let band: Band;
afterEach(async () => {
  await band?.stop();
});

/** Conductor and bass on one virtual clock: beats at 200 + 500 n (120 BPM, 4/4). */
async function play(progression: string[], pattern: 'root' | 'walking' | 'arpeggio', bars: number) {
  band = await new Band(0).start();
  const conductor = new Conductor(conductorConfig({ bpm: 120, progression }), band.context);
  const bass = new Bass(bassConfig({ pattern, velocity: 100, channel: 2 }), band.context);
  await bass.start();
  await conductor.start();
  await band.runTo(200 + bars * 2_000 - 600);
  return { conductor, bass, notes: band.of('play_note') };
}

describe('bass', () => {
  it('plays the bar’s chord root (the slash bass for a slash chord) in 40..51, on every beat', async () => {
    const progression = ['Am', 'F/A', 'C#m7b5', 'Bb', 'E7#9', 'G', 'Eb', 'D/F#'];
    const { notes, bass } = await play(progression, 'root', 8);
    expect(notes).toHaveLength(32);
    const beats = band.of('beat_event');
    notes.forEach((m, i) => {
      const chord = parseChord(progression[Math.floor(i / 4)]!);
      expect(m.payload.note % 12).toBe(chord.bass);
      expect(m.payload.note).toBeGreaterThanOrEqual(40);
      expect(m.payload.note).toBeLessThanOrEqual(51);
      expect(m.payload).toEqual({
        note: m.payload.note,
        velocity: 100,
        duration: 0.45,
        channel: 2,
        at: beats[i]!.payload.at,
      });
      expect(m.at).toBe(beats[i]!.payload.at);
      expect(m.from).toBe('bass');
    });
    // A (110 Hz) is 45; F/A plays A too; then C#, Bb, E, G, Eb, F#.
    expect(notes.filter((_, i) => i % 4 === 0).map((m) => m.payload.note)).toEqual([
      45, 45, 49, 46, 40, 43, 51, 42,
    ]);
    // 9 chords (bar 9 is announced with bar 8's last beat) and 32 beats.
    expect(bass.health().details).toMatchObject({ handled: 9 + 32, published: 32, errors: 0, lastNote: 42 });
  });

  it('walks up the chord between roots', async () => {
    const { notes } = await play(['Cmaj7', 'Am', 'Dm7', 'G7'], 'walking', 4);
    // C: C E G B; Am: A C E F# (sixth, no seventh); Dm7: D F A C; G7: G B D F.
    expect(notes.map((m) => m.payload.note)).toEqual([
      48, 52, 55, 59, 45, 48, 52, 54, 50, 53, 57, 60, 43, 47, 50, 53,
    ]);
  });

  it('arpeggiates the chord, the slash bass on the downbeat', async () => {
    const { notes } = await play(['G7', 'F/A'], 'arpeggio', 2);
    // G7: G B D F; F/A: A, then F's third, fifth and octave above F (41).
    expect(notes.map((m) => m.payload.note)).toEqual([43, 47, 50, 53, 45, 45, 48, 53]);
  });

  it('plays the root on a chord change between bar lines, and the pattern from there', async () => {
    band = await new Band(0).start();
    const bass = new Bass(bassConfig({ pattern: 'walking' }), band.context);
    await bass.start();
    const beat = (n: number) =>
      band.bus.publish({
        type: 'beat_event',
        from: 'clock',
        payload: { beat: (n % 4) + 1, bar: Math.floor(n / 4) + 1, bpm: 60, at: 10_000 + n * 1_000 },
      });
    // No chord known yet: the beat is skipped, and counted.
    beat(0);
    await band.settle();
    band.bus.publish({ type: 'chord_change', from: 'osc', payload: { chord: 'C', bar: 1, at: 10_500 } });
    band.bus.publish({ type: 'chord_change', from: 'osc', payload: { chord: 'F', bar: 1, at: 12_000 } });
    // Delivered before the beats (CRITICAL beats published in the same turn would overtake them).
    await band.settle();
    for (let n = 1; n < 5; n++) beat(n);
    await band.settle();
    // Beat 2 (11 000): C in force since 10 500, its first beat: root. Beat 3: F took effect: root.
    expect(band.of('play_note').map((m) => [m.payload.note, m.payload.at, m.payload.duration])).toEqual([
      [48, 11_000, 0.9],
      [41, 12_000, 0.9],
      [45, 13_000, 0.9],
      [41, 14_000, 0.9],
    ]);
    expect(bass.health().details).toMatchObject({ beatsWithoutChord: 1, chord: 'F' });
  });

  it('counts a chord it cannot read and keeps playing', async () => {
    band = await new Band(0).start();
    const bass = new Bass(bassConfig(), band.context);
    await bass.start();
    band.bus.publish({ type: 'chord_change', from: 'osc', payload: { chord: 'Q7', bar: 1, at: 0 } });
    band.bus.publish({ type: 'chord_change', from: 'osc', payload: { chord: 'D', bar: 1, at: 0 } });
    await band.settle();
    band.bus.publish({ type: 'beat_event', from: 'clock', payload: { beat: 1, bar: 1, bpm: 120, at: 0 } });
    await band.settle();
    expect(band.of('play_note').map((m) => m.payload.note)).toEqual([50]);
    expect(bass.health()).toMatchObject({
      state: 'ok',
      details: { errors: 1, lastError: expect.stringContaining('Invalid chord symbol "Q7"') },
    });
    expect(band.bus.getStats().handlerErrors).toBe(0);
    expect(BASS_LOW).toBe(40);
  });
});
