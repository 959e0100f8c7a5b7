/**
 * The harmony (issue #8): voices each chord in a register with voice leading and plays it as a pad.
 *
 * A `chord_change` announces a chord for a time (`at`, a bar line for the conductor's chords, a beat
 * ahead); the harmony plays it when the beat at that time arrives, so a chord announced just before a
 * transport stop is never heard. On that beat it voices the chord and publishes `play_chord` at the
 * chord's `at`, lasting `gate` of the rest of the bar (a whole bar on a downbeat).
 *
 * Voicing: the candidates are every set of `voices` distinct notes in the register whose pitch classes
 * are the chord's most telling tones (all of them for a triad, doubling one in 4 voices; for richer chords
 * the first `voices` of its `voicingOrder`: third, seventh, extensions, root, fifth). The first chord
 * takes the closest one (smallest spread, then nearest the register's middle); every next chord the one
 * with the smallest total movement from the previous voicing. For two sorted voicings of equal size,
 * pairing the voices in order is the least-movement assignment (points on a line), so the movement is
 * `Σ |next[i] − prev[i]|`. Ties go to the smaller spread, then to the middle, then to the lower notes.
 */
import type { HarmonyConfig } from '../config/agents-schema.js';
import type { MessageMap } from '../daemon/bus/index.js';
import { AgentConfigError } from '../daemon/kernel/errors.js';
import { Agent, type AgentContext, on, type Subscription } from './agent.js';
import { type Chord, parseChord } from './music/theory.js';

const SAME_TIME_MS = 1e-6;

/** Total movement between two voicings of one size, both ascending: `Σ |b[i] − a[i]|`. */
export function movement(a: readonly number[], b: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(b[i]! - a[i]!);
  return sum;
}

/** The pitch classes a voicing must hold, and those it may hold (see the file comment). */
export function voicingTones(chord: Chord, voices: number): { required: number[]; allowed: Set<number> } {
  const required = chord.voicingOrder.slice(0, voices);
  return { required, allowed: new Set(required) };
}

/** Every voicing of `chord`: `voices` distinct notes in `[low, high]`, ascending (see the file comment). */
export function voicingCandidates(
  chord: Chord,
  register: readonly [number, number],
  voices: number,
): number[][] {
  const { required, allowed } = voicingTones(chord, voices);
  const notes: number[] = [];
  for (let n = register[0]; n <= register[1]; n++) if (allowed.has(n % 12)) notes.push(n);
  const out: number[][] = [];
  const pick = (from: number, chosen: number[]): void => {
    if (chosen.length === voices) {
      if (required.every((pc) => chosen.some((n) => n % 12 === pc))) out.push([...chosen]);
      return;
    }
    for (let i = from; i <= notes.length - (voices - chosen.length); i++) {
      chosen.push(notes[i]!);
      pick(i + 1, chosen);
      chosen.pop();
    }
  };
  pick(0, []);
  return out;
}

/**
 * The voicing of `chord` after `previous` (or the first one, without): least total movement, see the
 * file comment. Throws when the register holds no voicing of the chord.
 */
export function voiceChord(
  chord: Chord,
  previous: readonly number[] | undefined,
  register: readonly [number, number],
  voices: number,
): number[] {
  const middle = (register[0] + register[1]) / 2;
  const cost = (v: readonly number[]): [number, number, number] => [
    previous === undefined || previous.length !== v.length ? 0 : movement(previous, v),
    v[v.length - 1]! - v[0]!,
    Math.abs(v.reduce((a, b) => a + b, 0) / v.length - middle),
  ];
  let best: number[] | undefined;
  let bestCost: [number, number, number] = [Infinity, Infinity, Infinity];
  for (const v of voicingCandidates(chord, register, voices)) {
    const c = cost(v);
    // Candidates come in ascending order, so on a full tie the first (lowest) stays.
    if (
      c[0] < bestCost[0] ||
      (c[0] === bestCost[0] && (c[1] < bestCost[1] || (c[1] === bestCost[1] && c[2] < bestCost[2])))
    ) {
      best = v;
      bestCost = c;
    }
  }
  if (best === undefined) {
    throw new AgentConfigError(
      `no ${voices}-note voicing of ${chord.symbol} in MIDI ${register[0]}..${register[1]}`,
    );
  }
  return best;
}

interface Filed {
  at: number;
  chord: Chord;
}

/** The harmony agent. See the file comment. */
export class Harmony extends Agent<HarmonyConfig> {
  private readonly beatsPerBar: number;
  private readonly register: readonly [number, number];
  /** Chords announced and not yet played, by time. */
  private pending: Filed[] = [];
  private previous: number[] | undefined;
  private lastChord: string | undefined;

  /** @param beatsPerBar the conductor's beats per bar, for the length of a chord. */
  constructor(config: HarmonyConfig, beatsPerBar: number, context: AgentContext, id = 'harmony') {
    super(id, config, context);
    const [low, high] = config.register;
    if (!(high - low >= 11)) {
      throw new AgentConfigError(`agents.harmony.register: [${low}, ${high}] must span at least an octave`);
    }
    this.register = [low, high];
    this.beatsPerBar = beatsPerBar;
  }

  protected subscriptions(): readonly Subscription[] {
    return [on('chord_change', (m) => this.file(m.payload)), on('beat_event', (m) => this.onBeat(m.payload))];
  }

  protected override onStop(): void {
    this.pending = [];
  }

  protected override details(): Record<string, unknown> {
    return { chord: this.lastChord ?? null, voicing: this.previous ?? null, register: this.register };
  }

  private file(payload: MessageMap['chord_change']): void {
    const chord = parseChord(payload.chord);
    const at = payload.at;
    this.pending = this.pending.filter((f) => Math.abs(f.at - at) > SAME_TIME_MS);
    const i = this.pending.findIndex((f) => f.at > at);
    this.pending.splice(i < 0 ? this.pending.length : i, 0, { at, chord });
  }

  private onBeat(beat: MessageMap['beat_event']): void {
    let due = 0;
    while (due < this.pending.length && this.pending[due]!.at <= beat.at + SAME_TIME_MS) due++;
    if (due === 0) return;
    // Of the chords due by this beat the last one wins: the others never had a beat (a stop between).
    const { at, chord } = this.pending[due - 1]!;
    this.pending = this.pending.slice(due);
    const notes = voiceChord(chord, this.previous, this.register, this.config.voices);
    this.previous = notes;
    this.lastChord = chord.symbol;
    const beatsLeft = Math.max(1, this.beatsPerBar - beat.beat + 1);
    this.publish({
      type: 'play_chord',
      payload: {
        notes,
        velocity: this.config.velocity,
        duration: (this.config.gate * beatsLeft * 60) / beat.bpm,
        channel: this.config.channel,
        at,
      },
      at,
    });
  }
}
