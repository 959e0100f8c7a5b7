/** Bus messages for the audio tests (times in ms from the start of a render). */
import type { RenderMessage } from '../../../../adapters/audio/render.js';

export const note = (n: number, at: number, channel = 2, duration = 1, velocity = 100): RenderMessage => ({
  type: 'play_note',
  payload: { note: n, velocity, duration, channel },
  at,
});
export const drums = (hits: string[], at: number, velocity = 110): RenderMessage => ({
  type: 'play_drums',
  payload: { hits, velocity },
  at,
});
export const chord = (
  notes: number[],
  at: number,
  channel: number,
  velocity = 127,
  duration = 1,
): RenderMessage => ({
  type: 'play_chord',
  payload: { notes, velocity, duration, channel },
  at,
});

/** A dense band: bass, pad chords, drums on every eighth at 120 BPM, for `seconds`. */
export function denseBand(seconds: number): RenderMessage[] {
  const out: RenderMessage[] = [];
  const eighth = 250;
  const roots = [45, 41, 48, 43]; // Am F C G
  for (let i = 0; i * eighth < seconds * 1000; i++) {
    const at = i * eighth;
    const bar = Math.floor(i / 8);
    const root = roots[bar % 4]!;
    const hits = ['hat'];
    if (i % 4 === 0) hits.push('kick');
    if (i % 4 === 2) hits.push('snare');
    if (i % 16 === 15) hits.push('openhat');
    out.push(drums(hits, at, i % 2 === 0 ? 110 : 80));
    if (i % 2 === 0) out.push(note(i % 4 === 0 ? root : root + 7, at, 2, 0.22, 100));
    if (i % 8 === 0) out.push(chord([root + 24, root + 27, root + 31, root + 34], at, 3, 90, 1.9));
  }
  return out;
}
