/**
 * The adapter's codec: a `play_note` / `play_chord` / `play_drums` bus message → a {@link PlayEvent}
 * and its target time. Pure, no audio. The bus trusts its publishers' types, and a mapping rule can
 * publish any payload under a catalog name, so every field is checked here; a message that does not fit
 * gets a reason instead (counted as invalid by the adapter, never thrown).
 */
import type { AnyMessage } from '../../daemon/bus/index.js';

/** Longest note played, s: a longer `duration` is cut to this, so a typo cannot hold a voice for hours. */
export const MAX_NOTE_SECONDS = 60;
/** Most notes of one chord, hits of one drum message. */
export const MAX_NOTES_PER_MESSAGE = 32;

/** Notes (one for play_note, several for play_chord) on a channel. */
export interface NoteEvent {
  readonly kind: 'notes';
  readonly notes: readonly number[];
  readonly velocity: number;
  /** Seconds, as the bus carries it. */
  readonly duration: number;
  readonly channel: number;
}

/** Drum hits at once, by name. */
export interface DrumEvent {
  readonly kind: 'drums';
  readonly hits: readonly string[];
  readonly velocity: number;
}

/** Something to play. */
export type PlayEvent = NoteEvent | DrumEvent;

/** What the codec reads of a bus message: its type, payload and `at`. */
export type PlayMessage = Pick<AnyMessage, 'type' | 'payload'> & { readonly at?: number | undefined };

/** A decoded message: what to play and when (bus clock, ms; undefined: at once). */
export interface TimedEvent {
  readonly event: PlayEvent;
  readonly at: number | undefined;
}

const isInt = (v: unknown, lo: number, hi: number): v is number =>
  Number.isInteger(v) && (v as number) >= lo && (v as number) <= hi;

/** The message's target time: the envelope's `at`, else the payload's (both are bus clock ms). */
function targetTime(m: PlayMessage, payload: Record<string, unknown>): number | undefined | string {
  const at = m.at ?? payload.at;
  if (at === undefined) return undefined;
  return typeof at === 'number' && Number.isFinite(at) ? at : `at must be a finite number, got ${String(at)}`;
}

function notesOf(type: string, p: Record<string, unknown>): readonly number[] | string {
  if (type === 'play_note') return isInt(p.note, 0, 127) ? [p.note] : 'note must be an integer 0..127';
  const notes = p.notes;
  if (!Array.isArray(notes) || notes.length === 0 || notes.length > MAX_NOTES_PER_MESSAGE)
    return `notes must be a list of 1..${MAX_NOTES_PER_MESSAGE} notes`;
  return notes.every((n) => isInt(n, 0, 127)) ? (notes as number[]) : 'notes must be integers 0..127';
}

/**
 * Decodes a play_* message; returns a reason (string) when it does not fit. `duration` is in seconds
 * (daemon/bus/messages.ts) and is cut to {@link MAX_NOTE_SECONDS}.
 */
export function decodePlay(m: PlayMessage): TimedEvent | string {
  const p = m.payload as Record<string, unknown> | null;
  if (typeof p !== 'object' || p === null) return `${m.type}: payload must be an object`;
  const at = targetTime(m, p);
  if (typeof at === 'string') return `${m.type}: ${at}`;
  if (!isInt(p.velocity, 0, 127)) return `${m.type}: velocity must be an integer 0..127`;
  if (m.type === 'play_drums') {
    const hits = p.hits;
    if (
      !Array.isArray(hits) ||
      hits.length > MAX_NOTES_PER_MESSAGE ||
      !hits.every((h) => typeof h === 'string')
    )
      return `play_drums: hits must be a list of at most ${MAX_NOTES_PER_MESSAGE} names`;
    return { event: { kind: 'drums', hits: hits as string[], velocity: p.velocity }, at };
  }
  const notes = notesOf(m.type, p);
  if (typeof notes === 'string') return `${m.type}: ${notes}`;
  if (!isInt(p.channel, 1, 16)) return `${m.type}: channel must be an integer 1..16`;
  const d = p.duration;
  if (typeof d !== 'number' || !Number.isFinite(d) || d < 0)
    return `${m.type}: duration must be a number of seconds >= 0`;
  const duration = Math.min(d, MAX_NOTE_SECONDS);
  return { event: { kind: 'notes', notes, velocity: p.velocity, duration, channel: p.channel }, at };
}
