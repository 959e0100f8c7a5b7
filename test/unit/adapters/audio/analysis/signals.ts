/**
 * Test signals for the analyzer, made here (plain arrays) or by sox (an outside tool, read back with
 * the audio adapter's WAV reader), and a helper that feeds them to an Analyzer.
 */
import { execFile, spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  type AnalysisEvent,
  Analyzer,
  type AnalyzerOptions,
} from '../../../../../adapters/audio/analysis/index.js';
import { decodeWav } from '../../../../../adapters/audio/wav.js';

export const RATE = 48_000;

/** Whether sox is on the PATH (CI installs it: .ci/run). */
export const soxAvailable = spawnSync('sox', ['--version']).status === 0;
const run = promisify(execFile);

/**
 * Runs `sox -R -D -n -r 48000 -c 1 -b 16 FILE ...effects` (repeatable noise, no dither: the same
 * bytes every run) and reads the result.
 */
export async function sox(dir: string, name: string, effects: readonly string[]): Promise<Float32Array> {
  const file = join(dir, `${name}.wav`);
  await run('sox', ['-R', '-D', '-n', '-r', String(RATE), '-c', '1', '-b', '16', file, ...effects]);
  const wav = decodeWav(await readFile(file));
  if (typeof wav === 'string') throw new Error(`${file}: ${wav}`);
  if (wav.sampleRate !== RATE || wav.channels.length !== 1) throw new Error(`${file}: not 48 kHz mono`);
  return wav.channels[0]!;
}

/** A seeded uniform generator (LCG): the same "noise" every run. */
export function random(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Gaussian white noise of RMS `rms` (Box–Muller), seeded. */
export function whiteNoise(length: number, rms: number, seed = 7): Float32Array {
  const u = random(seed);
  const x = new Float32Array(length);
  for (let i = 0; i < length; i++)
    x[i] = rms * Math.sqrt(-2 * Math.log(u() + 1e-12)) * Math.cos(2 * Math.PI * u());
  return x;
}

export type Wave = 'sine' | 'sawtooth' | 'square';

/**
 * A band-limited periodic tone (harmonics summed up to Nyquist, so no aliasing), peak ~`amp`, with
 * `fadeMs` linear fades in and out (0: starts and stops at once).
 */
export function tone(wave: Wave, hz: number, seconds: number, amp = 0.5, fadeMs = 0): Float32Array {
  const n = Math.round(seconds * RATE);
  const x = new Float32Array(n);
  const top = Math.floor(RATE / 2 / hz);
  for (let h = 1; h <= (wave === 'sine' ? 1 : top); h++) {
    if (wave === 'square' && h % 2 === 0) continue;
    // Fourier series: sawtooth 2/π·Σ sin(hωt)/h (peak ~1.18, scaled to ~1), square 4/π·Σ odd.
    const gain = wave === 'sine' ? 1 : wave === 'sawtooth' ? 0.54 / h : 0.9 / h;
    // sin(h·ω·i) by rotating a unit phasor (exact to ~1e-12 over these lengths; Math.sin per sample
    // made a 55 Hz sawtooth's 436 harmonics take 0.3 s).
    const w = (2 * Math.PI * h * hz) / RATE;
    const c = Math.cos(w);
    const s = Math.sin(w);
    let re = 1;
    let im = 0;
    for (let i = 0; i < n; i++) {
      x[i] = x[i]! + amp * gain * im;
      const next = re * c - im * s;
      im = re * s + im * c;
      re = next;
    }
  }
  return fade(x, fadeMs);
}

/**
 * A plucked string: Karplus & Strong, "Digital Synthesis of Plucked-String and Drum Timbres" (CMJ
 * 7(2), 1983), with Jaffe & Smith's first-order allpass for the fractional part of the delay (CMJ
 * 7(2), 1983, "Extensions of the Karplus-Strong Plucked-String Algorithm") so it is in tune.
 */
export function pluck(hz: number, seconds: number, amp = 0.5, seed = 3): Float32Array {
  const n = Math.round(seconds * RATE);
  const x = new Float32Array(n);
  // The two-point average delays by half a sample; the allpass supplies the rest of the fraction.
  const delay = RATE / hz - 0.5;
  let length = Math.floor(delay);
  let frac = delay - length;
  if (frac < 0.1) {
    length--;
    frac++;
  }
  const g = (1 - frac) / (1 + frac);
  const u = random(seed);
  const line = Float64Array.from({ length }, () => 2 * u() - 1);
  let at = 0;
  let last = 0;
  let apIn = 0;
  let apOut = 0;
  for (let i = 0; i < n; i++) {
    const v = line[at]!;
    x[i] = amp * v;
    const avg = 0.4985 * (v + last); // slight loss: a ~1 s decay at 220 Hz
    last = v;
    apOut = g * avg + apIn - g * apOut;
    apIn = avg;
    line[at] = apOut;
    at = (at + 1) % length;
  }
  return x;
}

/** Linear fades of `ms` at both ends, in place. */
export function fade(x: Float32Array, ms: number): Float32Array {
  const n = Math.min(Math.round((ms / 1000) * RATE), x.length >> 1);
  for (let i = 0; i < n; i++) {
    x[i] = x[i]! * (i / n);
    x[x.length - 1 - i] = x[x.length - 1 - i]! * (i / n);
  }
  return x;
}

/** RMS of a signal. */
export function rms(x: Float32Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]! * x[i]!;
  return Math.sqrt(s / x.length);
}

/**
 * `signal` with `noise` added over its whole length (repeated if short) at `snrDb` below `reference`
 * (an RMS; default the signal's own, silences included: pass the tone's RMS for a tone in silence).
 */
export function withNoise(
  signal: Float32Array,
  noise: Float32Array,
  snrDb: number,
  reference = rms(signal),
): Float32Array {
  const k = reference / rms(noise) / 10 ** (snrDb / 20);
  return signal.map((v, i) => v + k * noise[i % noise.length]!);
}

/** `length` samples of silence with each part placed at its time (seconds). */
export function place(length: number, parts: readonly { at: number; x: Float32Array }[]): Float32Array {
  const out = new Float32Array(length);
  for (const { at, x } of parts) {
    const o = Math.round(at * RATE);
    for (let i = 0; i < x.length && o + i < length; i++) out[o + i] = out[o + i]! + x[i]!;
  }
  return out;
}

/** Feeds `x` to a new Analyzer in blocks of `block` samples; every event, in order. */
export function analyze(
  x: Float32Array,
  block = 128,
  options: Omit<AnalyzerOptions, 'sampleRate'> = {},
): AnalysisEvent[] {
  const a = new Analyzer({ sampleRate: RATE, ...options });
  const events: AnalysisEvent[] = [];
  for (let i = 0; i < x.length; i += block) events.push(...a.process(x.subarray(i, i + block)));
  return events;
}

/** The events of one kind. */
export function only<K extends AnalysisEvent['kind']>(
  events: readonly AnalysisEvent[],
  kind: K,
): Extract<AnalysisEvent, { kind: K }>[] {
  return events.filter((e): e is Extract<AnalysisEvent, { kind: K }> => e.kind === kind);
}

/** Cents from `reference` to `hz`. */
export const cents = (hz: number, reference: number): number => 1200 * Math.log2(hz / reference);
