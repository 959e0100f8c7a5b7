/**
 * Following a live musician (issue #9, "Following the musician"): what the conductor does with what
 * the listening part hears. Pure functions of the conductor's schedule and the detections, so they
 * are tested on numbers and the conductor stays about keeping time.
 *
 * - Tempo: a detected tempo is taken as it is when the conductor is not yet following (the first
 *   confident estimate, or after a long pause). Once following, it is folded to the octave nearest the
 *   tempo playing: beat trackers often report double or half time (a slow song counted in eighths),
 *   and a band that jumps to double time on such a report is worse than one that stays.
 * - Phase: the next beat is moved part of the way toward the musician's nearest beat (the detection's
 *   `beat`), at most an eighth of a beat each time, so the band slides onto the musician's beat over a
 *   few estimates instead of jumping.
 * - Pitch: the last confident note heard during a bar becomes the root of the next bar's chord, its
 *   quality kept from the progression (`Am` and a sung D → `Dm`).
 */
import { mod12 } from './theory.js';

/** The conductor's schedule when a tempo arrives. */
export interface Playing {
  bpm: number;
  /** The time of the next beat not yet published, ms. */
  nextBeatAt: number;
  /** Whether the last followed estimate is recent (the conductor is following). */
  following: boolean;
}

/** What a tempo detection asks for: a tempo, and how far to move the next beat (ms). */
export interface TempoStep {
  bpm: number;
  shiftMs: number;
}

/** Part of the phase error removed per estimate, and the largest move, as a fraction of a beat. */
const PHASE_GAIN = 0.5;
const MAX_SHIFT_BEATS = 1 / 8;

/** The detected tempo folded to the octave nearest `current` (×½, ×1, ×2), within `min`..`max`. */
export function foldTempo(detected: number, current: number, min: number, max: number): number {
  const candidates = [detected / 2, detected, detected * 2].filter((b) => b >= min && b <= max);
  if (candidates.length === 0) return Math.min(max, Math.max(min, detected));
  let best = candidates[0] as number;
  for (const b of candidates)
    if (Math.abs(Math.log(b / current)) < Math.abs(Math.log(best / current))) best = b;
  return best;
}

/**
 * The tempo and the phase move for a detection of `bpm` with a beat at `beat` (ms; undefined: tempo
 * only). `min`, `max`: the conductor's tempo range.
 */
export function tempoStep(
  playing: Playing,
  detected: { bpm: number; beat?: number | undefined },
  phase: boolean,
  min: number,
  max: number,
): TempoStep {
  const bpm = playing.following
    ? foldTempo(detected.bpm, playing.bpm, min, max)
    : Math.min(max, Math.max(min, detected.bpm));
  if (!phase || detected.beat === undefined || !Number.isFinite(detected.beat)) return { bpm, shiftMs: 0 };
  // The musician's beats: `beat` + k × period, at the detected tempo (a folded tempo's beats include them
  // when doubled, and every other one of them when halved: the nearest still lines up on the downbeat side).
  const period = 60_000 / detected.bpm;
  const error = nearestOffset(detected.beat - playing.nextBeatAt, period);
  const limit = (60_000 / bpm) * MAX_SHIFT_BEATS;
  return { bpm, shiftMs: Math.max(-limit, Math.min(limit, error * PHASE_GAIN)) };
}

/** `d` reduced to the nearest multiple of `period`: in [-period/2, period/2). */
function nearestOffset(d: number, period: number): number {
  const r = d - Math.round(d / period) * period;
  return r >= period / 2 ? r - period : r;
}

/** The last confident note heard, by pitch class, and when. */
export interface Heard {
  pitchClass: number;
  at: number;
}

/** A note heard from a `pitch_detected` payload. */
export function heardOf(payload: { midi: number; at: number }): Heard {
  return { pitchClass: mod12(Math.round(payload.midi)), at: payload.at };
}
