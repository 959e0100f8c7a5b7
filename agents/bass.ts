/**
 * The bass (issue #8): one note a beat, in time with the conductor's beats. The bar's chord is the
 * chord in force at the beat's time: the last `chord_change` whose `at` is at or before the beat's `at`
 * (the conductor announces each bar's chord a beat ahead, so it is known when the downbeat arrives;
 * chords are filed by time, so arrival order does not matter beyond that).
 *
 * On a downbeat, and on the first beat of a chord that took effect since the previous beat, it plays the
 * chord's bass note (the slash bass for `F/A`); between those, the configured pattern (`root` repeats
 * the bass note, the others start from the root). The bass note lies
 * in MIDI 40..51 (E2..Eb3: A is 45, 110 Hz); pattern notes sit above the root placed there. Notes start
 * at the beat's `at` and last `gate` of a beat.
 */
import type { BassConfig } from '../config/agents-schema.js';
import type { MessageMap } from '../daemon/bus/index.js';
import { Agent, type AgentContext, on, type Subscription } from './agent.js';
import { type Chord, parseChord, placePitchClass } from './music/theory.js';

/** Lowest note of the bass register: E2. Every bass note's pitch class lands in 40..51. */
export const BASS_LOW = 40;

/** Times closer than this (ms) are the same time: beat and chord times are computed, not measured. */
const SAME_TIME_MS = 1e-6;

interface Filed {
  at: number;
  chord: Chord;
}

/**
 * Semitones above the root for step `step` (>= 1) after a chord's first beat: walking goes up the chord
 * (third, fifth, sixth or seventh), arpeggio cycles its tones (root, third, fifth, seventh or octave).
 */
export function patternInterval(pattern: BassConfig['pattern'], chord: Chord, step: number): number {
  const third = chord.third ?? 7;
  const fifth = chord.fifth ?? 7;
  if (pattern === 'walking') {
    const line = [third, fifth, chord.seventh ?? 9];
    return line[(step - 1) % line.length]!;
  }
  if (pattern === 'arpeggio') {
    const tones = [0, third, fifth, chord.seventh ?? 12];
    return tones[step % tones.length]!;
  }
  return 0; // root: the agent repeats the chord's bass note
}

/** The bass agent. See the file comment. */
export class Bass extends Agent<BassConfig> {
  /** Chords by time, ascending; the first is the one in force at the last beat. */
  private chords: Filed[] = [];
  private current: Filed | undefined;
  /** Beats since the current chord's first beat (0 on it). */
  private step = 0;
  private lastNote: number | undefined;
  private skipped = 0;

  constructor(config: BassConfig, context: AgentContext, id = 'bass') {
    super(id, config, context);
  }

  protected subscriptions(): readonly Subscription[] {
    return [on('chord_change', (m) => this.file(m.payload)), on('beat_event', (m) => this.onBeat(m.payload))];
  }

  protected override onStop(): void {
    this.chords = [];
    this.current = undefined;
  }

  protected override details(): Record<string, unknown> {
    return {
      pattern: this.config.pattern,
      chord: this.current?.chord.symbol ?? null,
      lastNote: this.lastNote ?? null,
      beatsWithoutChord: this.skipped,
    };
  }

  private file(payload: MessageMap['chord_change']): void {
    const chord = parseChord(payload.chord);
    const at = payload.at;
    // A chord announced again for the same time (a continue) replaces the first announcement.
    this.chords = this.chords.filter((f) => Math.abs(f.at - at) > SAME_TIME_MS);
    const i = this.chords.findIndex((f) => f.at > at);
    this.chords.splice(i < 0 ? this.chords.length : i, 0, { at, chord });
  }

  private onBeat(beat: MessageMap['beat_event']): void {
    let inForce: Filed | undefined;
    let index = -1;
    this.chords.forEach((f, i) => {
      if (f.at <= beat.at + SAME_TIME_MS) {
        inForce = f;
        index = i;
      }
    });
    if (inForce === undefined) {
      this.skipped++;
      return;
    }
    // Older chords can no longer be in force: beats come in time order.
    this.chords = this.chords.slice(index);
    const changed = inForce !== this.current;
    this.current = inForce;
    this.step = changed || beat.beat === 1 ? 0 : this.step + 1;
    const { chord } = inForce;
    const note =
      this.step === 0 || this.config.pattern === 'root'
        ? placePitchClass(chord.bass, BASS_LOW)
        : placePitchClass(chord.root, BASS_LOW) + patternInterval(this.config.pattern, chord, this.step);
    this.lastNote = note;
    const duration = (this.config.gate * 60) / beat.bpm;
    this.publish({
      type: 'play_note',
      payload: {
        note,
        velocity: this.config.velocity,
        duration,
        channel: this.config.channel,
        at: beat.at,
      },
      at: beat.at,
    });
  }
}
