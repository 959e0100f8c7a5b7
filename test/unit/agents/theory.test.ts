import { describe, expect, it } from 'vitest';
import {
  ChordSymbolError,
  hzToMidi,
  midiToHz,
  noteName,
  noteNumber,
  parseChord,
  pitchClassOf,
  placePitchClass,
} from '../../../agents/music/theory.js';

/** Pitch classes by name, for readable expectations. */
const pcs = (...names: string[]) => names.map(pitchClassOf);

describe('chord symbols', () => {
  it.each([
    ['C', 'C', ['C', 'E', 'G'], [0, 4, 7]],
    ['Am', 'A', ['A', 'C', 'E'], [0, 3, 7]],
    ['Cmaj7', 'C', ['C', 'E', 'G', 'B'], [0, 4, 7, 11]],
    ['G7', 'G', ['G', 'B', 'D', 'F'], [0, 4, 7, 10]],
    ['Bb', 'Bb', ['Bb', 'D', 'F'], [0, 4, 7]],
    ['C#m7b5', 'C#', ['C#', 'E', 'G', 'B'], [0, 3, 6, 10]],
    ['Dm7', 'D', ['D', 'F', 'A', 'C'], [0, 3, 7, 10]],
    ['E7#9', 'E', ['E', 'G#', 'B', 'D', 'G'], [0, 4, 7, 10, 15]],
    ['Fsus4', 'F', ['F', 'Bb', 'C'], [0, 5, 7]],
    ['Dsus2', 'D', ['D', 'E', 'A'], [0, 2, 7]],
    ['Gdim', 'G', ['G', 'Bb', 'C#'], [0, 3, 6]],
    ['Bdim7', 'B', ['B', 'D', 'F', 'Ab'], [0, 3, 6, 9]],
    ['Aaug', 'A', ['A', 'C#', 'F'], [0, 4, 8]],
    ['C6', 'C', ['C', 'E', 'G', 'A'], [0, 4, 7, 9]],
    ['Cadd9', 'C', ['C', 'E', 'G', 'D'], [0, 4, 7, 14]],
    ['Ebmaj9', 'Eb', ['Eb', 'G', 'Bb', 'D', 'F'], [0, 4, 7, 11, 14]],
    ['Cm(maj7)', 'C', ['C', 'Eb', 'G', 'B'], [0, 3, 7, 11]],
    ['F#ø7', 'F#', ['F#', 'A', 'C', 'E'], [0, 3, 6, 10]],
    ['G13', 'G', ['G', 'B', 'D', 'F', 'A', 'E'], [0, 4, 7, 10, 14, 21]],
    ['C7sus4', 'C', ['C', 'F', 'G', 'Bb'], [0, 5, 7, 10]],
    ['A5', 'A', ['A', 'E'], [0, 7]],
    ['C(omit5)', 'C', ['C', 'E'], [0, 4]],
    ['Co7', 'C', ['C', 'Eb', 'F#', 'A'], [0, 3, 6, 9]],
    ['Db7b9', 'Db', ['Db', 'F', 'Ab', 'B', 'D'], [0, 4, 7, 10, 13]],
  ])('%s: root %s, tones %j', (symbol, root, tones, intervals) => {
    const chord = parseChord(symbol);
    expect(chord.root).toBe(pitchClassOf(root));
    expect(chord.bass).toBe(pitchClassOf(root));
    expect(chord.intervals).toEqual(intervals);
    expect(chord.pitchClasses).toEqual(pcs(...tones));
  });

  it('reads a slash bass: F/A is F major over A', () => {
    const chord = parseChord('F/A');
    expect(chord.root).toBe(5);
    expect(chord.bass).toBe(9);
    expect(chord.pitchClasses).toEqual(pcs('F', 'A', 'C'));
    expect(parseChord('C/Bb').bass).toBe(10);
    expect(parseChord('Am7/G').pitchClasses).toEqual(pcs('A', 'C', 'E', 'G'));
  });

  it('orders tones by how much they tell: third, altered fifth, seventh, extensions, root, fifth', () => {
    expect(parseChord('Cmaj7').voicingOrder).toEqual(pcs('E', 'B', 'C', 'G'));
    expect(parseChord('C#m7b5').voicingOrder).toEqual(pcs('E', 'G', 'B', 'C#'));
    expect(parseChord('Ebmaj9').voicingOrder).toEqual(pcs('G', 'D', 'F', 'Eb', 'Bb'));
    expect(parseChord('C6').voicingOrder).toEqual(pcs('E', 'A', 'C', 'G'));
    expect(parseChord('C').voicingOrder).toEqual(pcs('E', 'C', 'G'));
  });

  it('names the symbol it cannot read', () => {
    expect(() => parseChord('H7')).toThrow(ChordSymbolError);
    expect(() => parseChord('H7')).toThrow('Invalid chord symbol "H7": a chord starts with its root, A to G');
    expect(() => parseChord('Cxyz')).toThrow('Invalid chord symbol "Cxyz": cannot read "xyz"');
    expect(() => parseChord('Am/X')).toThrow(
      'Invalid chord symbol "Am/X": the bass after "/" must be a note name',
    );
    expect(() => parseChord('')).toThrow('Invalid chord symbol "": empty');
    try {
      parseChord('G7#13');
    } catch (err) {
      expect((err as ChordSymbolError).symbol).toBe('G7#13');
    }
    expect.assertions(6);
  });
});

describe('notes', () => {
  it('names MIDI notes and reads names back, middle C = C4', () => {
    expect(noteName(60)).toBe('C4');
    expect(noteName(69)).toBe('A4');
    expect(noteName(45)).toBe('A2');
    expect(noteName(61)).toBe('C#4');
    expect(noteName(0)).toBe('C-1');
    expect(noteNumber('A4')).toBe(69);
    expect(noteNumber('C#3')).toBe(49);
    expect(noteNumber('Bb2')).toBe(46);
    expect(noteNumber('Cb4')).toBe(59);
    expect(noteNumber('C-1')).toBe(0);
    for (let n = 0; n < 128; n++) expect(noteNumber(noteName(n))).toBe(n);
    expect(() => noteNumber('A')).toThrow('"A" is not a note name with octave');
    expect(() => pitchClassOf('X#')).toThrow('"X#" is not a note name');
  });

  it('converts MIDI and Hz both ways (A4 = 440 Hz)', () => {
    expect(midiToHz(69)).toBe(440);
    expect(midiToHz(45)).toBe(110);
    expect(midiToHz(60)).toBeCloseTo(261.6256, 4);
    expect(midiToHz(69, 432)).toBe(432);
    expect(hzToMidi(110)).toBe(45);
    expect(hzToMidi(466.1637615180899)).toBeCloseTo(70, 10);
    expect(() => hzToMidi(0)).toThrow('frequency 0 is not positive');
  });

  it('places a pitch class in the octave from a low note', () => {
    expect(placePitchClass(9, 40)).toBe(45);
    expect(placePitchClass(4, 40)).toBe(40);
    expect(placePitchClass(3, 40)).toBe(51);
    expect(placePitchClass(-3, 40)).toBe(45);
  });
});
