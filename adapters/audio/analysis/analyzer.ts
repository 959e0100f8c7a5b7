/**
 * The listening core (issue #9, "Analysis"): mono samples in, pitch, onset and tempo events out.
 * Pure: no I/O, no timers, no clock; time is the count of samples fed, so the same samples give the
 * same events whatever the block sizes, live or from a file.
 *
 * At 48 kHz: onsets every 256-sample hop over 1024-sample frames (onset.ts), pitch every 512 samples
 * over 2048-sample frames (yin.ts), tempo every 0.5 s over the last 8 s of onsets (tempo.ts).
 */
import { OnsetDetector } from './onset.js';
import { PitchTracker } from './pitch-tracker.js';
import { RiseFinder } from './rise.js';
import { SampleRing } from './sample-ring.js';
import { type TempoEstimate, TempoTracker } from './tempo.js';
import type { AnalysisEvent, AnalyzerOptions, OnsetOptions, PitchOptions, TempoOptions } from './types.js';
import { Yin } from './yin.js';

/** Pitch defaults (see PitchOptions); the config schema of the live part can start from these. */
export const DEFAULT_PITCH: Readonly<PitchOptions> = Object.freeze({
  minHz: 50,
  maxHz: 2000,
  minConfidence: 0.85,
  minLevelDb: -50,
});
/** Onset defaults (see OnsetOptions). */
export const DEFAULT_ONSET: Readonly<OnsetOptions> = Object.freeze({
  minIntervalMs: 50,
  minLevelDb: -55,
  sensitivity: 1.5,
});
/** Tempo defaults (see TempoOptions). */
export const DEFAULT_TEMPO: Readonly<TempoOptions> = Object.freeze({
  minBpm: 60,
  maxBpm: 200,
  windowSeconds: 8,
  updateSeconds: 0.5,
  minConfidence: 0.5,
  everyUpdate: false,
});

/** YIN's absolute threshold (de Cheveigné & Kawahara 2002, §II.D; 0.1 there, 0.15 tolerates noise). */
const YIN_THRESHOLD = 0.15;
/**
 * Pitch every other onset hop (512 samples at 48 kHz): a quarter of YIN's window, two agreeing frames
 * ~11 ms apart, at half the cost of every hop.
 */
const PITCH_EVERY = 2;

/** The analyzer's frame and hop sizes, in samples: what its algorithmic latency is made of. */
export interface AnalyzerFrames {
  onsetFrame: number;
  onsetHop: number;
  pitchFrame: number;
  pitchHop: number;
}

/**
 * Feed it blocks of mono samples (any size, any split: a Web Audio render quantum of 128, a WAV
 * reader's 64 k) with {@link process}; it returns the events decided by each block, in the order
 * they were decided.
 *
 * Latency: each event carries `at` (when its sound started) and `detectedAt` (the stream time of
 * the sample that completed the decision). For "sound in → message", a caller adds the time the
 * block spent being buffered before `process` got it (a live input's block is delivered when its
 * last sample arrives) and the time from `process` returning to the publish.
 */
export class Analyzer {
  readonly sampleRate: number;
  readonly frames: AnalyzerFrames;
  private readonly ring: SampleRing;
  private readonly onsets: OnsetDetector;
  private readonly yin: Yin;
  private readonly pitch: PitchTracker;
  private readonly tempoTracker: TempoTracker;
  private readonly pitchMinRms: number;
  private readonly rise: RiseFinder;
  private sinceHop = 0;
  private hops = 0;

  constructor(options: AnalyzerOptions) {
    const { sampleRate } = options;
    if (!(Number.isInteger(sampleRate) && sampleRate >= 8000 && sampleRate <= 192_000))
      throw new RangeError(`sample rate must be an integer from 8000 to 192000 Hz, got ${sampleRate}`);
    this.sampleRate = sampleRate;
    // The default top of the pitch range stays under a quarter of the rate (YIN's shortest lag is
    // 4 samples): 1,920 Hz at 8 kHz.
    const pitch = {
      ...DEFAULT_PITCH,
      maxHz: Math.min(DEFAULT_PITCH.maxHz, 0.24 * sampleRate),
      ...options.pitch,
    };
    const onset = { ...DEFAULT_ONSET, ...options.onset };
    const tempo = { ...DEFAULT_TEMPO, ...options.tempo };
    this.onsets = new OnsetDetector(sampleRate, onset);
    this.yin = new Yin({ sampleRate, minHz: pitch.minHz, maxHz: pitch.maxHz, threshold: YIN_THRESHOLD });
    this.pitch = new PitchTracker(pitch.minConfidence);
    this.pitchMinRms = 10 ** (pitch.minLevelDb / 20);
    this.rise = new RiseFinder({ sampleRate, minLevel: this.pitchMinRms });
    const hop = this.onsets.hop;
    this.tempoTracker = new TempoTracker(hop / sampleRate, tempo);
    this.frames = {
      onsetFrame: this.onsets.frameLength,
      onsetHop: hop,
      pitchFrame: this.yin.frameLength,
      pitchHop: hop * PITCH_EVERY,
    };
    // Room for YIN's frame, and for the start searches: an onset frame, a hop and the rise's 20 ms
    // look-back (under 2 onset frames at every rate from 8 to 192 kHz).
    this.ring = new SampleRing(this.yin.frameLength + 2 * this.onsets.frameLength);
  }

  /** Seconds of audio fed so far. */
  get time(): number {
    return this.ring.total / this.sampleRate;
  }

  /** The latest tempo estimate, confident or not (undefined before there are enough onsets). */
  get tempo(): TempoEstimate | undefined {
    return this.tempoTracker.estimate;
  }

  /** Analyzes the next block of mono samples (nominally in [-1, 1]); the events it completed. */
  process(block: ArrayLike<number>): AnalysisEvent[] {
    const events: AnalysisEvent[] = [];
    const hop = this.onsets.hop;
    for (let i = 0; i < block.length; ) {
      const take = Math.min(block.length - i, hop - this.sinceHop);
      this.ring.write(block, i, i + take);
      i += take;
      this.sinceHop += take;
      if (this.sinceHop === hop) {
        this.sinceHop = 0;
        this.step(events);
      }
    }
    return events;
  }

  /** Forgets everything: the next sample starts a new stream at time 0. */
  reset(): void {
    this.ring.clear();
    this.onsets.reset();
    this.pitch.reset();
    this.tempoTracker.reset();
    this.sinceHop = 0;
    this.hops = 0;
  }

  /** When the sound in YIN's window started: its energy rise, or the window's first sample. */
  private readonly windowStart = (): number => {
    const end = this.ring.total;
    const from = end - this.yin.frameLength / 2;
    return (this.rise.find(this.ring, from, end) ?? from) / this.sampleRate;
  };

  /** One hop: onsets, then pitch every {@link PITCH_EVERY} hops, then tempo when due. */
  private step(events: AnalysisEvent[]): void {
    const { ring, sampleRate } = this;
    const onset = this.onsets.step(ring);
    this.tempoTracker.flux(this.onsets.flux);
    if (onset !== undefined) {
      events.push(onset);
      this.pitch.onset(onset.at);
      this.tempoTracker.onset(onset.at, onset.strength);
    }
    const end = ring.total;
    if (++this.hops % PITCH_EVERY === 0) {
      const estimate = this.yin.estimate(ring, this.pitchMinRms);
      const p = this.pitch.frame(estimate, this.windowStart, end / sampleRate);
      if (p !== undefined) events.push(p);
    }
    const tempo = this.tempoTracker.update(end / sampleRate);
    if (tempo !== undefined) events.push(tempo);
  }
}
