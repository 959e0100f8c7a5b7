/**
 * What the analyzer emits and how it is set up (issue #9, "Analysis"). Every time is in seconds from
 * the start of the stream (the first sample fed), so a caller maps it to its own clock with one offset.
 *
 * Events are plain data (no class instances): the bus carries them as they are (DESIGN.md, "Record
 * and replay").
 */

/** Fields every event has. */
interface Timed {
  /** When the sound the event describes started (seconds from the stream start). */
  at: number;
  /**
   * The stream time of the last sample the decision needed: the event cannot exist before it, and
   * it is returned by the `process()` call whose block holds that sample. `detectedAt − at` is the
   * algorithmic latency; a caller adds its own block buffering and compute time for "sound in →
   * message" (see Analyzer).
   */
  detectedAt: number;
}

/** A confident pitch that differs from the previous one (or follows an onset or a silence). */
export interface PitchEvent extends Timed {
  kind: 'pitch';
  hz: number;
  /** Nearest MIDI note (A4 = 69). */
  midi: number;
  /** Its name, sharps only: `A4`, `C#3`. */
  note: string;
  /** Offset from that note, cents, in [-50, 50). */
  cents: number;
  /** YIN's 1 − d′ (de Cheveigné & Kawahara 2002), in [0, 1]. */
  confidence: number;
}

/** The start of a sound (a note, a hit, a click). */
export interface OnsetEvent extends Timed {
  kind: 'onset';
  /** How far the detection function rose above its adaptive threshold: 1 − threshold/peak, in (0, 1). */
  strength: number;
}

/**
 * A tempo estimate, emitted when it first becomes confident (again, after a stretch with too few
 * onsets to estimate from) and whenever it moves by half a BPM or more; with `everyUpdate`, at every
 * confident estimate. `at` is a beat of the estimate (the most recent one before `detectedAt`): its phase, for
 * a clock that wants to lock to the musician; it is a best guess (which of the subdivisions is the
 * beat is chosen by where the strongest onsets fall).
 */
export interface TempoEvent extends Timed {
  kind: 'tempo';
  bpm: number;
  /**
   * How well the recent onsets fall on the estimate's sixteenth-note grid, in [0, 1]: 1 when all do,
   * 0 for what onsets at random times reach by chance.
   */
  confidence: number;
}

/** Anything the analyzer emits. */
export type AnalysisEvent = PitchEvent | OnsetEvent | TempoEvent;

/** Pitch settings. */
export interface PitchOptions {
  /** Lowest fundamental, Hz (default 50: below the bass's low E at 41 Hz only a 5-string goes). */
  minHz: number;
  /** Highest fundamental, Hz (default 2000). */
  maxHz: number;
  /** Least confidence for an event (default 0.85). */
  minConfidence: number;
  /** Quieter frames have no pitch, dBFS RMS (default -50). */
  minLevelDb: number;
}

/** Onset settings. */
export interface OnsetOptions {
  /** Shortest time between two onsets, ms (default 50): one sound gives one onset. */
  minIntervalMs: number;
  /** Frames whose peak is quieter have no onset, dBFS (default -55). */
  minLevelDb: number;
  /** Multiplier of the running median in the adaptive threshold (default 1.5; lower is more sensitive). */
  sensitivity: number;
}

/** Tempo settings. */
export interface TempoOptions {
  minBpm: number;
  maxBpm: number;
  /** Seconds of onsets the estimate looks back over (default 8). */
  windowSeconds: number;
  /** Seconds between two estimates (default 0.5). */
  updateSeconds: number;
  /** Least confidence for an event (default 0.5). */
  minConfidence: number;
  /**
   * Emit every confident estimate (each `updateSeconds`), not only the first and those that moved by
   * half a BPM (default false): a follower that locks to the beat's phase needs it refreshed.
   */
  everyUpdate: boolean;
}

/** Settings of an Analyzer: only the sample rate is required. */
export interface AnalyzerOptions {
  /** Hz, 8,000 to 192,000. */
  sampleRate: number;
  pitch?: Partial<PitchOptions>;
  onset?: Partial<OnsetOptions>;
  tempo?: Partial<TempoOptions>;
}
