/**
 * Music theory the band needs: chord symbols → pitch classes, note names, MIDI ↔ Hz. Pure functions,
 * no state but a cache of parsed chords.
 *
 * Chord grammar: root (`C`, `F#`, `Bb`), quality (`m` `min` `-`, `maj` `M` `Δ`, `dim` `°` `o`, `aug` `+`,
 * `ø`, `mMaj`), extension (`5` `6` `69` `7` `9` `11` `13`), then modifiers in any order (`sus2`, `sus4`,
 * `sus`, `add9`…, `b5` `#5` `b9` `#9` `#11` `b13`, `no3`, `no5`, `alt`), parentheses and commas ignored,
 * and an optional slash bass (`F/A`). `11` is 7-9-11; `13` is 7-9-13 (the 11th left out, as usually
 * played). A `maj` quality makes the seventh major; `Δ` alone means maj7.
 */

/** Pitch-class names, sharps for black keys but Eb, Ab, Bb (the usual spelling in pop and jazz). */
export const PITCH_CLASS_NAMES = ['C', 'C#', 'D', 'Eb', 'E', 'F', 'F#', 'G', 'Ab', 'A', 'Bb', 'B'] as const;

import { AgentChordError } from '../../daemon/kernel/errors.js';

const LETTERS: Readonly<Record<string, number>> = { C: 0, D: 2, E: 4, F: 5, G: 7, A: 9, B: 11 };
const ACCIDENTALS: Readonly<Record<string, number>> = { '': 0, '#': 1, '♯': 1, b: -1, '♭': -1 };

/** A chord symbol that cannot be read: PFM_ERR_AGENT_CHORD, naming the symbol. */
export class ChordSymbolError extends AgentChordError {
  constructor(
    readonly symbol: string,
    reason: string,
  ) {
    super(symbol, reason);
  }
}

/** A parsed chord. Pitch classes are 0 (C) … 11 (B). */
export interface Chord {
  readonly symbol: string;
  /** Pitch class of the root. */
  readonly root: number;
  /** Pitch class of the lowest note: the slash bass (`F/A` → A), else the root. */
  readonly bass: number;
  /** Semitones above the root, ascending, without duplicates (`Cmaj7` → 0 4 7 11). */
  readonly intervals: readonly number[];
  /** The chord's pitch classes, in the order of `intervals`. */
  readonly pitchClasses: readonly number[];
  /**
   * The pitch classes by how much they tell of the chord, for voicings with fewer notes than tones:
   * third (or sus), altered fifth, seventh or sixth, extensions, root, perfect fifth.
   */
  readonly voicingOrder: readonly number[];
  /** Interval of the third (or the sus tone), or null (power chord, no3). */
  readonly third: number | null;
  /** Interval of the fifth, or null (no5). */
  readonly fifth: number | null;
  /** Interval of the seventh (or the sixth of a 6 chord), or null. */
  readonly seventh: number | null;
}

/** Pitch class of a note name without octave: `C` → 0, `F#` → 6, `Bb` → 10, `Cb` → 11. */
export function pitchClassOf(name: string): number {
  const m = /^([A-G])(#|♯|b|♭)?$/.exec(name.trim());
  if (m === null) throw new RangeError(`"${name}" is not a note name (C, F#, Bb…)`);
  return mod12(LETTERS[m[1]!]! + ACCIDENTALS[m[2] ?? '']!);
}

/** Name of a MIDI note, middle C = `C4` (60), A440 = `A4` (69). */
export function noteName(midi: number): string {
  if (!Number.isInteger(midi)) throw new RangeError(`MIDI note ${midi} is not an integer`);
  return `${PITCH_CLASS_NAMES[mod12(midi)]}${Math.floor(midi / 12) - 1}`;
}

/** MIDI note of a name with octave: `A4` → 69, `C#3` → 49, `Bb-1` → 10. */
export function noteNumber(name: string): number {
  const m = /^([A-G](?:#|♯|b|♭)?)(-?\d+)$/.exec(name.trim());
  if (m === null) throw new RangeError(`"${name}" is not a note name with octave (A4, C#3, Bb2…)`);
  const letter = m[1]![0]!;
  // The octave belongs to the letter: B#3 is C4, Cb4 is B3.
  return LETTERS[letter]! + ACCIDENTALS[m[1]!.slice(1)]! + (Number(m[2]) + 1) * 12;
}

/** Frequency of a MIDI note (fractional notes allowed), equal temperament. */
export function midiToHz(midi: number, a4Hz = 440): number {
  return a4Hz * 2 ** ((midi - 69) / 12);
}

/** MIDI note (fractional) of a frequency, equal temperament. */
export function hzToMidi(hz: number, a4Hz = 440): number {
  if (!(hz > 0)) throw new RangeError(`frequency ${hz} is not positive`);
  return 69 + 12 * Math.log2(hz / a4Hz);
}

/** The MIDI note of pitch class `pc` in the octave `[low, low + 11]`. */
export function placePitchClass(pc: number, low: number): number {
  return low + mod12(pc - low);
}

/** `n` mod 12, never negative. */
export function mod12(n: number): number {
  return ((n % 12) + 12) % 12;
}

/** What the suffix says, filled in as it is read. */
interface Shape {
  third: number | null;
  fifth: number | null;
  seventh: number | null;
  /** Seventh asked for by the extension; its size depends on the quality. */
  wantsSeventh: boolean;
  seventhSize: number;
  /** Extensions and added tones, semitones above the root (9 = 14, 11 = 17, 13 = 21). */
  extensions: Set<number>;
}

type Step = (shape: Shape) => void;

const QUALITIES: readonly [RegExp, Step][] = [
  [
    /^(mMaj|mmaj|mM|minMaj|m\+?Δ)/,
    (s) => {
      s.third = 3;
      s.seventhSize = 11;
      s.wantsSeventh = true;
    },
  ],
  [/^(maj|Maj|MA|M)/, (s) => (s.seventhSize = 11)],
  [
    /^Δ/,
    (s) => {
      s.seventhSize = 11;
      s.wantsSeventh = true;
    },
  ],
  [/^(min|mi|m|-)/, (s) => (s.third = 3)],
  [
    /^(dim|°|o(?!mit))/,
    (s) => {
      s.third = 3;
      s.fifth = 6;
      s.seventhSize = 9;
    },
  ],
  [/^(aug|\+)/, (s) => (s.fifth = 8)],
  [
    /^(ø|Ø)/,
    (s) => {
      s.third = 3;
      s.fifth = 6;
      s.wantsSeventh = true;
    },
  ],
];

const EXTENSIONS: Readonly<Record<string, Step>> = {
  '5': (s) => (s.third = null),
  '6': (s) => s.extensions.add(9),
  '69': (s) => {
    s.extensions.add(9);
    s.extensions.add(14);
  },
  '7': (s) => (s.wantsSeventh = true),
  '9': (s) => {
    s.wantsSeventh = true;
    s.extensions.add(14);
  },
  '11': (s) => {
    s.wantsSeventh = true;
    s.extensions.add(14);
    s.extensions.add(17);
  },
  '13': (s) => {
    s.wantsSeventh = true;
    s.extensions.add(14);
    s.extensions.add(21);
  },
};

const ADDED: Readonly<Record<string, number>> = { '2': 2, '4': 5, '6': 9, '9': 14, '11': 17, '13': 21 };
/** Altered tones: the natural tone they replace, and their size. */
const ALTERED: Readonly<Record<string, [natural: number, size: number]>> = {
  b5: [7, 6],
  '#5': [7, 8],
  b9: [14, 13],
  '#9': [14, 15],
  '#11': [17, 18],
  b13: [21, 20],
};

/** Reads one modifier at the start of `rest`; returns how many characters it took (0: none). */
function readModifier(rest: string, s: Shape): number {
  let m = /^sus(2|4)?/.exec(rest);
  if (m !== null) {
    s.third = m[1] === '2' ? 2 : 5;
    return m[0].length;
  }
  m = /^add([b#]?)(13|11|9|6|4|2)/.exec(rest);
  if (m !== null) {
    const size = ADDED[m[2]!]! + (m[1] === 'b' ? -1 : m[1] === '#' ? 1 : 0);
    s.extensions.add(size);
    return m[0].length;
  }
  m = /^([b#♭♯+-])(13|11|9|5)/.exec(rest);
  if (m !== null) {
    const sign = m[1] === 'b' || m[1] === '♭' || m[1] === '-' ? 'b' : '#';
    const altered = ALTERED[`${sign}${m[2]}`];
    if (altered === undefined) return 0;
    const [natural, size] = altered;
    if (natural === 7) s.fifth = size;
    else {
      s.extensions.delete(natural);
      s.extensions.add(size);
    }
    return m[0].length;
  }
  m = /^(no|omit)(3|5)/.exec(rest);
  if (m !== null) {
    if (m[2] === '3') s.third = null;
    else s.fifth = null;
    return m[0].length;
  }
  if (rest.startsWith('alt')) {
    s.wantsSeventh = true;
    s.fifth = 8;
    s.extensions.add(13).add(15);
    return 3;
  }
  return 0;
}

/** Reads the part after the root (`m7b5`, `maj9`, `7#9`) into a shape. */
function readSuffix(symbol: string, suffix: string): Shape {
  const s: Shape = {
    third: 4,
    fifth: 7,
    seventh: null,
    wantsSeventh: false,
    seventhSize: 10,
    extensions: new Set(),
  };
  let rest = suffix.replace(/[(),\s]/g, '');
  const quality = QUALITIES.find(([re]) => re.test(rest));
  if (quality !== undefined) {
    quality[1](s);
    rest = rest.replace(quality[0], '');
  }
  const ext = /^(69|13|11|9|7|6|5)/.exec(rest);
  if (ext !== null) {
    EXTENSIONS[ext[1]!]!(s);
    rest = rest.slice(ext[1]!.length);
  }
  while (rest.length > 0) {
    const taken = readModifier(rest, s);
    if (taken === 0) throw new ChordSymbolError(symbol, `cannot read "${rest}"`);
    rest = rest.slice(taken);
  }
  if (s.wantsSeventh) s.seventh = s.seventhSize;
  return s;
}

const cache = new Map<string, Chord>();

/**
 * Parses a chord symbol (`Cmaj7`, `Am`, `F/A`, `G7`, `Bb`, `C#m7b5`, `E7#9`, `Fsus4`, `Gdim`, `Aaug`,
 * `C6`, `Cadd9`, `Ebmaj9`…). Throws {@link ChordSymbolError} naming the symbol when it cannot.
 */
export function parseChord(symbol: string): Chord {
  const cached = cache.get(symbol);
  if (cached !== undefined) return cached;
  if (typeof symbol !== 'string' || symbol.trim() === '') {
    throw new ChordSymbolError(String(symbol), 'empty');
  }
  const text = symbol.trim().replace('6/9', '69');
  const head = /^([A-G])(#|♯|b|♭)?/.exec(text);
  if (head === null) throw new ChordSymbolError(symbol, 'a chord starts with its root, A to G');
  const root = pitchClassOf(head[0]);
  let suffix = text.slice(head[0].length);
  let bass = root;
  const slash = suffix.lastIndexOf('/');
  if (slash >= 0) {
    const bassName = suffix.slice(slash + 1);
    if (!/^[A-G](#|♯|b|♭)?$/.test(bassName)) {
      throw new ChordSymbolError(symbol, `the bass after "/" must be a note name, got "${bassName}"`);
    }
    bass = pitchClassOf(bassName);
    suffix = suffix.slice(0, slash);
  }
  const chord = build(symbol, root, bass, readSuffix(symbol, suffix));
  if (cache.size < 1024) cache.set(symbol, chord);
  return chord;
}

function build(symbol: string, root: number, bass: number, s: Shape): Chord {
  // [interval, rank]: the rank orders voicingOrder (lower tells more of the chord).
  const tones: [number, number][] = [[0, 4]];
  if (s.third !== null) tones.push([s.third, 0]);
  if (s.fifth !== null) tones.push([s.fifth, s.fifth === 7 ? 5 : 1]);
  if (s.seventh !== null) tones.push([s.seventh, 2]);
  for (const e of s.extensions) tones.push([e, e === 9 && s.seventh === null ? 2 : 3]);
  const seen = new Set<number>();
  const unique = tones
    .sort((a, b) => a[0] - b[0])
    .filter(([i]) => {
      const pc = mod12(root + i);
      if (seen.has(pc)) return false;
      seen.add(pc);
      return true;
    });
  const sixth = s.seventh === null && s.extensions.has(9) ? 9 : null;
  const byRank = [...unique].sort((a, b) => a[1] - b[1] || a[0] - b[0]);
  return {
    symbol,
    root,
    bass,
    intervals: unique.map(([i]) => i),
    pitchClasses: unique.map(([i]) => mod12(root + i)),
    voicingOrder: byRank.map(([i]) => mod12(root + i)),
    third: s.third,
    fifth: s.fifth,
    seventh: s.seventh ?? sixth,
  };
}

/**
 * The symbol of `symbol`'s chord moved to root pitch class `root`, its quality kept and a slash bass
 * moved by the same interval (`Am` to D → `Dm`, `F/A` to G → `G/B`). Roots are spelled as
 * {@link PITCH_CLASS_NAMES} spells them.
 */
export function transposeSymbol(symbol: string, root: number): string {
  const chord = parseChord(symbol);
  const shift = mod12(root - chord.root);
  const head = /^([A-G])(#|♯|b|♭)?/.exec(symbol.trim())?.[0] ?? '';
  let suffix = symbol.trim().slice(head.length);
  const slash = suffix.lastIndexOf('/');
  let bass = '';
  if (slash >= 0) {
    bass = `/${PITCH_CLASS_NAMES[mod12(chord.bass + shift)]}`;
    suffix = suffix.slice(0, slash);
  }
  return `${PITCH_CLASS_NAMES[mod12(root)]}${suffix}${bass}`;
}
