/**
 * Frequency ⇄ note: MIDI numbers in 12-tone equal temperament with A4 = 440 Hz = MIDI 69 (MIDI 1.0
 * Detailed Specification, "Note Number"; ISO 16:1975 for the reference pitch), and scientific pitch
 * names in which C4 is MIDI 60 (middle C).
 */

const NAMES = ['C', 'C#', 'D', 'D#', 'E', 'F', 'F#', 'G', 'G#', 'A', 'A#', 'B'] as const;

/** A frequency as the nearest note and the offset from it. */
export interface NoteOf {
  /** Nearest MIDI note number. */
  midi: number;
  /** Its name with the octave, sharps only: `A4`, `C#3`. */
  note: string;
  /** Offset of the frequency from that note, in cents, in [-50, 50). */
  cents: number;
}

/** MIDI note number (fractional) of a frequency. */
export function midiOf(hz: number, a4 = 440): number {
  return 69 + 12 * Math.log2(hz / a4);
}

/** Frequency of a (fractional) MIDI note number. */
export function hzOf(midi: number, a4 = 440): number {
  return a4 * 2 ** ((midi - 69) / 12);
}

/** Name of a MIDI note number: 69 → `A4`, 60 → `C4`, 21 → `A0`. */
export function noteName(midi: number): string {
  const m = Math.round(midi);
  return `${NAMES[((m % 12) + 12) % 12]}${Math.floor(m / 12) - 1}`;
}

/** The nearest note of `hz` and its offset in cents. */
export function noteOf(hz: number, a4 = 440): NoteOf {
  const exact = midiOf(hz, a4);
  const midi = Math.round(exact);
  // Rounded to 0.1 cent: finer is below any instrument's stability and makes payloads noisy.
  const cents = Math.round((exact - midi) * 1000) / 10;
  return { midi, note: noteName(midi), cents };
}
