/**
 * The conductor (issue #8): keeps time and the chord progression, with lookahead scheduling (the
 * Tone.js model, CONVENTIONS.md): every beat is published `lookaheadMs` before its time, as a CRITICAL
 * `beat_event` carrying its exact time `at`, from one timeline entry per beat.
 *
 * Time is an absolute schedule: beat n is at `anchor.time + (n - anchor.beat) * period`, computed, never
 * accumulated, so it does not drift. A tempo change re-anchors at the next beat not yet published: that
 * beat keeps its time (the previous beat's `bpm` announced it), its `bpm` is the new tempo and every
 * interval after it has the new length. No beat moves, none is doubled or skipped.
 *
 * Chords: every bar's chord is announced as a HIGH `chord_change` with `at` on the bar line, one beat
 * ahead, right after the last beat of the bar before (at start or continue, `lookaheadMs` ahead of the
 * first beat). The bus delivers CRITICAL before HIGH, so announcing in the same turn as the downbeat
 * would reach listeners after it; a beat ahead, every listener knows the bar's chord when its downbeat
 * arrives. The time a chord announces is fixed by then (see above), so a tempo change never makes a
 * chord's `at` wrong.
 *
 * Transport: `start` plays from `position` (beats since the song's start, 0 by default) with the
 * progression from its first chord at bar 1; `stop` publishes no more beats (the ones already published
 * within the lookahead still play); `continue` resumes at the next beat not yet published. The first beat
 * after start or continue comes `2 × lookaheadMs` after it: one lookahead to announce the bar's chord
 * ahead of it, one to publish the beat ahead of its time. Beats count `timeSignature[0]` per bar and last
 * 60/bpm s each whatever the denominator (6/8 at 120 BPM: six 500 ms beats a bar); `beat` and `bar` in
 * messages count from 1.
 */
import type { ConductorConfig } from '../config/agents-schema.js';
import { type MessageMap, Priority } from '../daemon/bus/index.js';
import { AgentConfigError } from '../daemon/kernel/errors.js';
import { Agent, type AgentContext, on, type Subscription } from './agent.js';
import { type Heard, heardOf, tempoStep } from './music/follow.js';
import { type Chord, parseChord, transposeSymbol } from './music/theory.js';

/** The message that replaces the progression from the next bar: `{ chords: string[] }`. */
export const PROGRESSION_CHANGE = 'progression_change';

/** Tempo range accepted from `tempo_change` and `setTempo`, BPM (the config's range). */
const MIN_BPM = 20;
const MAX_BPM = 400;
/** A tempo followed longer ago than this starts the following afresh (taken as detected, not folded). */
const FOLLOW_FRESH_MS = 10_000;

/** Where the absolute schedule starts: beat `beat` at `time`, `period` ms per beat from there on. */
interface Anchor {
  beat: number;
  time: number;
  period: number;
}

/** Parses chord symbols; an unreadable one fails naming `where` and its index. */
export function parseProgression(symbols: readonly unknown[], where: string): Chord[] {
  if (symbols.length === 0) throw new AgentConfigError(`${where}: a progression needs at least one chord`);
  return symbols.map((symbol, i) => {
    if (typeof symbol !== 'string') throw new TypeError(`${where}[${i}]: a chord symbol must be a string`);
    try {
      return parseChord(symbol);
    } catch (err) {
      throw new AgentConfigError(`${where}[${i}]: ${(err as Error).message}`, { cause: err });
    }
  });
}

/** The conductor agent. See the file comment. */
export class Conductor extends Agent<ConductorConfig> {
  private bpm: number;
  private readonly beatsPerBar: number;
  private readonly lookahead: number;
  private progression: readonly Chord[];
  /** The bar that plays the progression's first chord. */
  private progressionStartBar = 1;
  private playing = false;
  /** The next beat to publish (0-based, since the song's start). */
  private nextBeat = 0;
  private anchor: Anchor = { beat: 0, time: 0, period: 500 };
  private cancelNext: (() => void) | undefined;
  private last: { beat: number; bar: number; at: number } | undefined;
  /** Announced chords of the bars not yet reached, and the last bar announced. */
  private readonly announced = new Map<number, string>();
  private announcedBar = 0;
  private chordNow: string | undefined;
  /** Following the listening part: the last tempo followed (when, what), the last note heard. */
  private followedAt = Number.NEGATIVE_INFINITY;
  private readonly followed = { tempos: 0, lastShiftMs: 0, chords: 0 };
  private heard: Heard | undefined;

  constructor(config: ConductorConfig, context: AgentContext, id = 'conductor') {
    super(id, config, context);
    this.bpm = checkBpm(config.bpm);
    this.beatsPerBar = config.timeSignature[0];
    this.lookahead = config.lookaheadMs;
    this.progression = parseProgression(config.progression, 'agents.conductor.progression');
  }

  protected subscriptions(): readonly Subscription[] {
    return [
      on('tempo_change', (m) => this.setTempo(m.payload.bpm)),
      // Its own announcement (autoStart) is already in effect.
      on('transport', (m) => {
        if (m.from !== this.id) this.transport(m.payload.state, m.payload.position);
      }),
      on(PROGRESSION_CHANGE, (m) => this.setProgression(chordsOf(m.payload))),
      ...(this.config.follow.tempo ? [on('tempo_detected', (m) => this.followTempo(m.payload))] : []),
      ...(this.config.follow.pitch ? [on('pitch_detected', (m) => this.hear(m.payload))] : []),
    ];
  }

  /**
   * autoStart: plays, and says so with a `transport` start whose `at` is the first beat's time, so the
   * other parts (the MIDI clock out) start with it.
   */
  protected override onStart(): void {
    if (!this.config.autoStart) return;
    this.transport('start', 0);
    const at = this.timeOf(this.nextBeat);
    this.publish({
      type: 'transport',
      payload: { state: 'start', position: 0 },
      priority: Priority.CRITICAL,
      at,
    });
  }

  protected override onStop(): void {
    // The base class cancelled the pending beat; the next agent start begins a new transport.
    this.cancelNext = undefined;
    this.playing = false;
  }

  /** True while beats are being published. */
  get isPlaying(): boolean {
    return this.playing;
  }

  /** Sets the tempo from the next beat not yet published (see the file comment). Never republishes. */
  setTempo(bpm: number): void {
    const checked = checkBpm(bpm);
    if (this.playing) {
      this.anchor = { beat: this.nextBeat, time: this.timeOf(this.nextBeat), period: 60_000 / checked };
    }
    this.bpm = checked;
  }

  /**
   * A tempo the listening part heard (music/follow.ts): the tempo from the next beat not yet published,
   * and, while playing, that beat moved toward the musician's — unless it is a downbeat whose chord is
   * announced (the chord's `at` is fixed) or the move would leave it less than the lookahead ahead.
   */
  followTempo(detected: MessageMap['tempo_detected']): void {
    if (!(detected.confidence >= this.config.follow.minConfidence)) return;
    const now = this.timeline.now();
    const following = now - this.followedAt < FOLLOW_FRESH_MS;
    const nextBeatAt = this.playing ? this.timeOf(this.nextBeat) : now;
    const step = tempoStep(
      { bpm: this.bpm, nextBeatAt, following },
      detected,
      this.config.follow.phase && this.playing,
      MIN_BPM,
      MAX_BPM,
    );
    this.followedAt = now;
    this.followed.tempos++;
    if (Math.abs(step.bpm - this.bpm) >= 0.05) this.setTempo(step.bpm);
    const downbeatFixed =
      this.nextBeat % this.beatsPerBar === 0 && this.announced.has(this.barOf(this.nextBeat));
    const moved = this.timeOf(this.nextBeat) + step.shiftMs;
    if (step.shiftMs === 0 || !this.playing || downbeatFixed || moved - this.lookahead <= now + 1) return;
    this.anchor = { ...this.anchor, time: this.anchor.time + step.shiftMs };
    this.followed.lastShiftMs = step.shiftMs;
    this.cancelNext?.();
    this.scheduleBeat(this.nextBeat);
  }

  /** A note the listening part heard: the root of the next bar's chord when `follow.pitch` is on. */
  private hear(pitch: MessageMap['pitch_detected']): void {
    if (pitch.confidence >= this.config.follow.minConfidence) this.heard = heardOf(pitch);
  }

  /** Replaces the progression from the next bar not yet announced; its first chord plays there. */
  setProgression(symbols: readonly unknown[]): void {
    const chords = parseProgression(symbols, PROGRESSION_CHANGE);
    this.progression = chords;
    // While stopped, the next bar is the first bar line at or after the beat that plays next.
    this.progressionStartBar = this.playing
      ? this.announcedBar + 1
      : Math.ceil(this.nextBeat / this.beatsPerBar) + 1;
  }

  /** Start (from `position`, in beats), stop, or continue. A continue while playing does nothing. */
  transport(state: 'start' | 'stop' | 'continue', position = 0): void {
    if (state === 'stop') {
      this.halt();
      return;
    }
    if (!this.running) throw new Error(`${this.id} is stopped: start the agent before the transport`);
    if (state === 'continue') {
      if (!this.playing) this.begin(this.nextBeat % this.beatsPerBar === 0);
      return;
    }
    this.halt();
    this.nextBeat = Number.isFinite(position) && position > 0 ? Math.ceil(position) : 0;
    this.progressionStartBar = 1;
    this.announced.clear();
    this.begin(true);
  }

  protected override details(): Record<string, unknown> {
    return {
      bpm: this.bpm,
      bar: this.last?.bar ?? 0,
      beat: this.last?.beat ?? 0,
      running: this.playing,
      chord: this.chordNow ?? null,
      timeSignature: this.config.timeSignature,
      progression: this.progression.map((c) => c.symbol),
      lookaheadMs: this.lookahead,
      ...(this.config.follow.tempo || this.config.follow.pitch ? { followed: { ...this.followed } } : {}),
    };
  }

  /** The time of beat `n` on the current schedule (n at or after the anchor). */
  private timeOf(n: number): number {
    return this.anchor.time + (n - this.anchor.beat) * this.anchor.period;
  }

  private halt(): void {
    this.cancelNext?.();
    this.cancelNext = undefined;
    this.playing = false;
  }

  /** Plays from `nextBeat`, 2 × lookahead from now; announces its bar's chord first when asked. */
  private begin(announce: boolean): void {
    const first = this.timeline.now() + 2 * this.lookahead;
    this.anchor = { beat: this.nextBeat, time: first, period: 60_000 / this.bpm };
    this.playing = true;
    if (announce) this.announce(this.barOf(this.nextBeat), first);
    this.scheduleBeat(this.nextBeat);
  }

  private scheduleBeat(n: number): void {
    this.cancelNext = this.schedule(this.timeOf(n) - this.lookahead, () => this.tick(n));
  }

  /** Publishes beat `n`, announces the next bar's chord after a bar's last beat, schedules beat n + 1. */
  private tick(n: number): void {
    this.cancelNext = undefined;
    const at = this.timeOf(n);
    const bar = this.barOf(n);
    const beat = (n % this.beatsPerBar) + 1;
    this.publish({
      type: 'beat_event',
      payload: { beat, bar, bpm: this.bpm, at },
      priority: Priority.CRITICAL,
      at,
    });
    this.last = { beat, bar, at };
    this.chordNow = this.announced.get(bar) ?? this.chordNow;
    for (const b of this.announced.keys()) if (b < bar) this.announced.delete(b);
    this.nextBeat = n + 1;
    if (this.nextBeat % this.beatsPerBar === 0)
      this.announce(this.barOf(this.nextBeat), this.timeOf(this.nextBeat));
    this.scheduleBeat(this.nextBeat);
  }

  private announce(bar: number, at: number): void {
    const len = this.progression.length;
    let chord = this.progression[(((bar - this.progressionStartBar) % len) + len) % len]!.symbol;
    // follow.pitch: the last note heard since the previous announcement (by when its message came:
    // a note's pitch is known some 40 ms after it began) roots this bar's chord, once.
    const heard = this.heard;
    if (heard !== undefined) {
      chord = transposeSymbol(chord, heard.pitchClass);
      this.followed.chords++;
      this.heard = undefined;
    }
    this.publish({ type: 'chord_change', payload: { chord, bar, at }, priority: Priority.HIGH, at });
    this.announced.set(bar, chord);
    this.announcedBar = bar;
  }

  private barOf(n: number): number {
    return Math.floor(n / this.beatsPerBar) + 1;
  }
}

function checkBpm(bpm: number): number {
  if (typeof bpm !== 'number' || !Number.isFinite(bpm) || bpm < MIN_BPM || bpm > MAX_BPM) {
    throw new AgentConfigError(`tempo ${String(bpm)} BPM is outside ${MIN_BPM}..${MAX_BPM}`);
  }
  return bpm;
}

/** The chord list of a progression_change payload, or a TypeError saying what is wrong. */
function chordsOf(payload: unknown): unknown[] {
  const chords = (payload as { chords?: unknown } | null)?.chords;
  if (!Array.isArray(chords)) throw new TypeError(`${PROGRESSION_CHANGE}: payload.chords must be a list`);
  return chords;
}
