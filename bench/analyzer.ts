/**
 * The analyzer group (issue #9, "Benchmarks"): the listening core (adapters/audio/analysis) alone,
 * pure computation, at 48 kHz mono, fed in 128-sample blocks (a Web Audio render quantum, the size a
 * live input delivers).
 *
 * - analyzer.realtime_factor: seconds of audio analyzed per wall second, over {@link SECONDS} s of
 *   music (a plucked and sawtooth melody with drum hits and a noise floor: pitch, onsets and tempo all
 *   busy). Baseline in the same run: the bare FFT over the same frames, the one the analyzer uses,
 *   forward only, one per frame it analyzes (1024 samples every 256 for onsets, 2048 every 512 for
 *   pitch): what the spectra alone cost, so the ratio is the analyzer's share of work beyond them.
 * - analyzer.latency_ms: sound in → event, the mean over {@link LATENCY_SOUNDS} sounds (clicks, plucks,
 *   5 ms-attack notes, drum-like hits) at random sub-hop phases, each measured from the true start of
 *   the sound to the end of the 128-sample block whose `process()` returned its onset event, plus that
 *   call's wall time. So it includes the algorithm's wait (frame, hop, one hop of look-ahead), the
 *   block buffering and the compute; not an audio device's buffers (the live input's own latency)
 *   nor the bus (measured by the part that publishes). Baseline: the onset frame's length alone
 *   (21.3 ms), what a detector waiting for a whole frame after the sound would take. The details add
 *   sound in → pitch event for the pitched sounds (110-510 Hz): YIN needs a few periods and two
 *   agreeing frames, so a note's pitch follows its onset.
 */

import { RealFft } from '../adapters/audio/analysis/fft.js';
import { Analyzer } from '../adapters/audio/analysis/index.js';
import { busLatencyMs } from './analyzer-bus.js';
import type { Figure, RunResult } from './types.js';
import { percentile, settle } from './util.js';

const RATE = 48_000;
const BLOCK = 128;
const SECONDS = 30;
const LATENCY_SOUNDS = 200;

/** A seeded uniform generator in [0, 1) (LCG). */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** A Karplus-Strong pluck (integer delay: the bench needs a busy signal, not a tuned one). */
function pluck(hz: number, n: number, u: () => number): Float32Array {
  const line = Float64Array.from({ length: Math.round(RATE / hz) }, () => u() - 0.5);
  const x = new Float32Array(n);
  for (let i = 0, at = 0, last = 0; i < n; i++) {
    const v = line[at]!;
    x[i] = 0.8 * v;
    line[at] = 0.498 * (v + last);
    last = v;
    at = (at + 1) % line.length;
  }
  return x;
}

/** A sawtooth note with 5 ms linear attack and release. */
function saw(hz: number, n: number): Float32Array {
  const ramp = Math.round(0.005 * RATE);
  return Float32Array.from({ length: n }, (_, i) => {
    const env = Math.min(1, i / ramp, (n - i) / ramp);
    return 0.3 * env * (((i * hz) / RATE) % 1) - 0.15 * env;
  });
}

/** A decaying noise burst (a snare or hat) or a 2 ms click. */
function hit(kind: 'noise' | 'click', n: number, u: () => number): Float32Array {
  const length = kind === 'click' ? Math.round(0.002 * RATE) : n;
  return Float32Array.from({ length }, (_, i) =>
    kind === 'click' ? 0.7 * Math.sin(i * 0.4) * (1 - i / length) : 0.5 * (u() - 0.5) * Math.exp(-i / 2000),
  );
}

/** Adds `part` into `out` at sample `at`. */
function mix(out: Float32Array, part: Float32Array, at: number): void {
  for (let i = 0; i < part.length && at + i < out.length; i++) out[at + i] = out[at + i]! + part[i]!;
}

/** SECONDS of music: a note every eighth at 120 BPM (pluck or saw), a hit on every beat, noise. */
function music(): Float32Array {
  const u = random(1);
  const x = new Float32Array(SECONDS * RATE);
  const eighth = RATE / 4;
  const scale = [110, 123.5, 130.8, 146.8, 164.8, 196, 220, 261.6, 329.6, 440];
  for (let k = 0; (k + 1) * eighth <= x.length; k++) {
    const hz = scale[Math.floor(u() * scale.length)]!;
    mix(x, k % 3 === 0 ? saw(hz, eighth) : pluck(hz, eighth, u), k * eighth);
    if (k % 2 === 0) mix(x, hit('noise', 4000, u), k * eighth);
  }
  for (let i = 0; i < x.length; i++) x[i] = x[i]! + 0.003 * (u() - 0.5);
  return x;
}

/** Seconds of `x` analyzed per wall second, in BLOCK-sample blocks; and the events returned. */
function analyzeSpeed(x: Float32Array): { speed: number; events: number } {
  const analyzer = new Analyzer({ sampleRate: RATE });
  let events = 0;
  const started = performance.now();
  for (let i = 0; i < x.length; i += BLOCK) events += analyzer.process(x.subarray(i, i + BLOCK)).length;
  return { speed: x.length / RATE / ((performance.now() - started) / 1000), events };
}

/** Seconds of `x` per wall second for the bare forward FFTs of the analyzer's frames. */
function fftSpeed(x: Float32Array): number {
  const { onsetFrame, onsetHop, pitchFrame, pitchHop } = new Analyzer({ sampleRate: RATE }).frames;
  const plans = [
    { fft: new RealFft(onsetFrame), frame: new Float64Array(onsetFrame), hop: onsetHop },
    { fft: new RealFft(pitchFrame), frame: new Float64Array(pitchFrame), hop: pitchHop },
  ];
  const re = new Float64Array(pitchFrame / 2 + 1);
  const im = new Float64Array(pitchFrame / 2 + 1);
  const started = performance.now();
  for (const { fft, frame, hop } of plans) {
    for (let end = hop; end <= x.length; end += hop) {
      for (let i = 0, s = end - frame.length; i < frame.length; i++, s++) frame[i] = s < 0 ? 0 : x[s]!;
      fft.forward(frame, re, im);
    }
  }
  return x.length / RATE / ((performance.now() - started) / 1000);
}

export const realtimeFactor: Figure = {
  name: 'analyzer.realtime_factor',
  unit: 'x real time',
  baselineName: 'the bare FFTs of the same frames',
  goal: '>= 50x real time',
  met: (value) => value >= 50,
  async run(): Promise<RunResult> {
    const x = music();
    analyzeSpeed(x.subarray(0, 5 * RATE)); // warm-up: JIT
    fftSpeed(x.subarray(0, 5 * RATE));
    await settle();
    const ours = analyzeSpeed(x);
    await settle();
    const baseline = fftSpeed(x);
    return {
      value: ours.speed,
      baseline,
      details: { seconds: SECONDS, events: ours.events, msPerAudioSecond: 1000 / ours.speed },
    };
  },
};

/** One sound of the latency set, by index: a click, a pluck, a sawtooth note or a noise hit. */
function sound(k: number, u: () => number): Float32Array {
  const n = Math.round(0.3 * RATE);
  switch (k % 4) {
    case 0:
      return hit('click', n, u);
    case 1:
      return pluck(110 + 400 * u(), n, u);
    case 2:
      return saw(110 + 400 * u(), n);
    default:
      return hit('noise', n, u);
  }
}

/** What the latency run measured, ms per sound. */
export interface Latencies {
  /** Sound in → onset event, per sound found. */
  ms: Float64Array;
  /** The compute part of it (the `process()` call's wall time). */
  computeMs: Float64Array;
  /** Sound in → pitch event, per pitched sound (plucks and sawtooth notes) that got one. */
  pitchMs: number[];
  missed: number;
}

/**
 * `count` sounds of the latency set, one every 500 ms, each at a random sample offset so it falls at
 * any phase of the hops and blocks: the samples at 48 kHz, and each sound's first sample.
 */
export function latencySounds(count: number): { x: Float32Array; starts: number[] } {
  const u = random(2);
  const gap = Math.round(0.5 * RATE);
  const x = new Float32Array(count * gap + gap);
  const starts = Array.from({ length: count }, (_, k) => gap / 2 + k * gap + Math.floor(u() * 1024));
  starts.forEach((s, k) => {
    mix(x, sound(k, u), s);
  });
  return { x, starts };
}

/** Latencies of each sound to its onset event (and of pitched sounds to their pitch event). */
export function latencies(): Latencies {
  const { x, starts } = latencySounds(LATENCY_SOUNDS);
  const analyzer = new Analyzer({ sampleRate: RATE });
  const ms = new Float64Array(LATENCY_SOUNDS);
  const computeMs = new Float64Array(LATENCY_SOUNDS);
  const pitchMs: number[] = [];
  let next = 0;
  for (let i = 0; i < x.length; i += BLOCK) {
    const t0 = performance.now();
    const events = analyzer.process(x.subarray(i, i + BLOCK));
    const compute = performance.now() - t0;
    for (const e of events) {
      if (e.kind === 'pitch') {
        // A pitch event's `at` is its note's onset: the sound it belongs to.
        const k = starts.findIndex((s) => Math.abs(e.at * RATE - s) <= 0.01 * RATE);
        if (k >= 0) pitchMs.push(((i + BLOCK - starts[k]!) / RATE) * 1000 + compute);
      }
      if (e.kind !== 'onset' || next >= LATENCY_SOUNDS) continue;
      // The event belongs to the sound it reports (the start within ±10 ms); later sounds wait.
      if (Math.abs(e.at * RATE - starts[next]!) > 0.01 * RATE) continue;
      ms[next] = ((i + BLOCK - starts[next]!) / RATE) * 1000 + compute;
      computeMs[next] = compute;
      next++;
    }
  }
  return {
    ms: ms.subarray(0, next),
    computeMs: computeMs.subarray(0, next),
    pitchMs,
    missed: LATENCY_SOUNDS - next,
  };
}

export const latencyMs: Figure = {
  name: 'analyzer.latency_ms',
  unit: 'ms',
  baselineName: 'the onset frame length alone',
  goal: '< 30 ms',
  met: (value) => value < 30,
  async run(): Promise<RunResult> {
    latencies(); // warm-up: JIT
    await settle();
    const { ms, computeMs, pitchMs, missed } = latencies();
    if (ms.length === 0) throw new Error('no onset found for any sound');
    const mean = ms.reduce((a, b) => a + b, 0) / ms.length;
    const frameMs = (new Analyzer({ sampleRate: RATE }).frames.onsetFrame / RATE) * 1000;
    return {
      value: mean,
      baseline: frameMs,
      details: {
        p50: percentile(ms.slice(), 50),
        p95: percentile(ms.slice(), 95),
        max: percentile(ms.slice(), 100),
        computeMaxMs: percentile(computeMs.slice(), 100),
        missed,
        pitchP50: pitchMs.length > 0 ? percentile(Float64Array.from(pitchMs), 50) : Number.NaN,
        pitchP95: pitchMs.length > 0 ? percentile(Float64Array.from(pitchMs), 95) : Number.NaN,
        pitched: pitchMs.length,
      },
    };
  },
};

export const figures: readonly Figure[] = [realtimeFactor, latencyMs, busLatencyMs];
