/**
 * Musical time as the page shows it (issue #12, "Musical time, where the band exists"): tempo, bar and
 * beat, the chord, each beat's lateness, the MIDI clock in and out, the audio output's late events and
 * its clock drift. Read from the parts' details in /health (found by their shape, not their name, so
 * a part that lands later with the same figures shows too) and from the beats on /stream. Pure, no DOM.
 */
import { HISTORY_POINTS } from './bus-figures.js';
import { Series } from './series.js';
import type { AnyMessage, BeatPayload, PartInfo } from './types.js';

/** A beat published later than this after its schedule counts as late. */
export const LATE_BEAT_MS = 5;

export interface ConductorView {
  part: string;
  bpm: number;
  bar: number;
  beat: number;
  running: boolean;
  chord: string | undefined;
  progression: string[];
  lookaheadMs: number | undefined;
}

export interface ClockInView {
  endpoint: string;
  bpm: number | undefined;
  locked: boolean;
  running: boolean;
}

export interface AudioTimeView {
  part: string;
  late: number;
  lateMaxMs: number | undefined;
  driftPpm: number | undefined;
  residualMs: number | undefined;
  sink: string | undefined;
}

export interface BeatView {
  bar: number;
  beat: number;
  bpm: number;
  /** How late the conductor published it against its schedule (`at − lookahead`), ms; undefined unknown. */
  latenessMs: number | undefined;
  /** Page clock time at which the beat sounds (its lead over the bus added to the arrival). */
  soundsAt: number;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const rec = (v: unknown): Record<string, unknown> | undefined =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;

function conductorOf(parts: readonly PartInfo[]): ConductorView | undefined {
  for (const p of parts) {
    const d = p.details;
    const bpm = num(d?.bpm);
    if (d === undefined || bpm === undefined || num(d.bar) === undefined || typeof d.running !== 'boolean')
      continue;
    return {
      part: p.name,
      bpm,
      bar: num(d.bar) ?? 0,
      beat: num(d.beat) ?? 0,
      running: d.running,
      chord: typeof d.chord === 'string' ? d.chord : undefined,
      progression: Array.isArray(d.progression) ? d.progression.map(String) : [],
      lookaheadMs: num(d.lookaheadMs),
    };
  }
  return undefined;
}

function clocksInOf(parts: readonly PartInfo[]): ClockInView[] {
  const out: ClockInView[] = [];
  for (const p of parts) {
    const clocks = rec(p.details?.clockIn);
    if (clocks === undefined) continue;
    for (const [endpoint, c] of Object.entries(clocks)) {
      const clock = rec(c);
      if (clock === undefined) continue;
      out.push({
        endpoint,
        bpm: num(clock.bpm),
        locked: clock.locked === true,
        running: clock.running === true,
      });
    }
  }
  return out;
}

function clockOutOf(parts: readonly PartInfo[]): Record<string, unknown> | undefined {
  for (const p of parts) {
    const c = rec(p.details?.clockOut);
    if (c !== undefined) return c;
  }
  return undefined;
}

function audioOf(parts: readonly PartInfo[]): AudioTimeView | undefined {
  for (const p of parts) {
    const d = p.details;
    const clock = rec(d?.clock);
    if (d === undefined || clock === undefined || num(d.late) === undefined) continue;
    return {
      part: p.name,
      late: num(d.late) ?? 0,
      lateMaxMs: num(d.lateMaxMs),
      driftPpm: num(clock.driftPpm),
      residualMs: num(clock.residualMs),
      sink: typeof d.sink === 'string' ? d.sink : undefined,
    };
  }
  return undefined;
}

/** Musical time, fed with /health answers and stream messages. */
export class MusicTime {
  conductor: ConductorView | undefined;
  clocksIn: ClockInView[] = [];
  clockOut: Record<string, unknown> | undefined;
  audio: AudioTimeView | undefined;
  lastBeat: BeatView | undefined;
  /** The last tempo_change, chord_change and transport seen on the stream. */
  lastTempo: { bpm: number; from: string } | undefined;
  lastChord: { chord: string; bar: number } | undefined;
  lastTransport: string | undefined;
  beats = 0;
  lateBeats = 0;
  /** Each beat's lateness (ms), at the page time it arrived. */
  readonly lateness = new Series(['beat lateness ms'], HISTORY_POINTS * 2);

  /** What the /health part of the view shows, as text: it changed when this did. */
  signature(): string {
    return JSON.stringify([this.conductor, this.clocksIn, this.clockOut, this.audio]);
  }

  addHealth(parts: readonly PartInfo[]): void {
    this.conductor = conductorOf(parts);
    this.clocksIn = clocksInOf(parts);
    this.clockOut = clockOutOf(parts);
    this.audio = audioOf(parts);
  }

  /** A stream message that arrived at `now` (page clock, ms); true when it changed what is shown. */
  addMessage(m: AnyMessage, now: number): boolean {
    const p = rec(m.payload);
    if (p === undefined) return false;
    switch (m.type) {
      case 'beat_event':
        this.addBeat(m, p as unknown as BeatPayload, now);
        return true;
      case 'tempo_change':
        if (num(p.bpm) !== undefined) this.lastTempo = { bpm: num(p.bpm) as number, from: m.from };
        return true;
      case 'chord_change':
        if (typeof p.chord === 'string') this.lastChord = { chord: p.chord, bar: num(p.bar) ?? 0 };
        return true;
      case 'transport':
        if (typeof p.state === 'string') this.lastTransport = p.state;
        return true;
      default:
        return false;
    }
  }

  private addBeat(m: AnyMessage, p: BeatPayload, now: number): void {
    const at = num(p.at) ?? num(m.at);
    const lookahead = this.conductor?.lookaheadMs;
    const lateness = at === undefined || lookahead === undefined ? undefined : m.timestamp - (at - lookahead);
    this.beats++;
    if (lateness !== undefined && lateness > LATE_BEAT_MS) this.lateBeats++;
    this.lastBeat = {
      bar: p.bar,
      beat: p.beat,
      bpm: p.bpm,
      latenessMs: lateness,
      soundsAt: now + (at === undefined ? 0 : Math.max(0, at - m.timestamp)),
    };
    this.lateness.push(now / 1000, [lateness ?? null]);
  }
}
