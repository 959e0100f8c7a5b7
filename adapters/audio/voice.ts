/**
 * What every instrument builds a voice with: where it plays, shared noise, seeded randomness, and
 * envelope helpers on AudioParams. Times are seconds on the context's clock.
 */
import type { Prng } from './noise.js';
import type {
  AudioBuffer,
  AudioNode,
  AudioParam,
  AudioScheduledSourceNode,
  BaseAudioContext,
  BiquadFilterType,
  OscillatorType,
} from './web-audio.js';

/** Where a voice is built. */
export interface VoiceTarget {
  readonly ctx: BaseAudioContext;
  /** The node every voice of the band connects to. */
  readonly out: AudioNode;
  /** Shared white noise (mono, looped by the sources that read it). */
  readonly noise: AudioBuffer;
  readonly random: Prng;
  /**
   * A node shared by every voice of a kind (`key`), made by `make` on first use and connected to `out`:
   * a fixed filter after each voice's envelope is the same sound as one per voice (both are linear), and
   * creating a node costs ~0.1-0.4 ms in node-web-audio-api, more than rendering it.
   */
  shared(key: string, make: () => AudioNode): AudioNode;
}

/** A voice as built: its sources (to stop them on panic) and when its last source stops. */
export interface Voice {
  readonly sources: readonly AudioScheduledSourceNode[];
  readonly end: number;
}

/** The attack of every percussive envelope, s: short enough for onsets within 1 ms, long enough not to click. */
export const HIT_ATTACK = 0.001;

/** MIDI note number → Hz (A4 = note 69 = 440 Hz, equal temperament). */
export function midiToHz(note: number): number {
  return 440 * 2 ** ((note - 69) / 12);
}

/** Velocity 0..127 → linear gain 0..1, squared: velocity feels like loudness, not like amplitude. */
export function velocityGain(velocity: number): number {
  const v = Math.min(127, Math.max(0, velocity)) / 127;
  return v * v;
}

/** An oscillator of `type` at `hz`, started at `when`, stopped at `end`. */
export function oscillator(
  t: VoiceTarget,
  type: OscillatorType,
  hz: number,
  when: number,
  end: number,
  detuneCents = 0,
): AudioScheduledSourceNode & { frequency: AudioParam } {
  const o = t.ctx.createOscillator();
  o.type = type;
  o.frequency.value = hz;
  if (detuneCents !== 0) o.detune.value = detuneCents;
  o.start(when);
  o.stop(end);
  return o;
}

/** Looped noise from a seeded offset into the shared buffer, started at `when`, stopped at `end`. */
export function noise(t: VoiceTarget, when: number, end: number): AudioScheduledSourceNode {
  const s = t.ctx.createBufferSource();
  s.buffer = t.noise;
  s.loop = true;
  s.start(when, t.random() * t.noise.duration);
  s.stop(end);
  return s;
}

/** A biquad filter of `type` at `hz` (quality `q`). */
export function filter(
  t: VoiceTarget,
  type: BiquadFilterType,
  hz: number,
  q = Math.SQRT1_2,
): AudioNode & {
  frequency: AudioParam;
} {
  const f = t.ctx.createBiquadFilter();
  f.type = type;
  f.frequency.value = hz;
  f.Q.value = q;
  return f;
}

/** A fixed filter shared by every voice of `key` (see {@link VoiceTarget.shared}). */
export function sharedFilter(
  t: VoiceTarget,
  key: string,
  type: BiquadFilterType,
  hz: number,
  q = Math.SQRT1_2,
): AudioNode {
  return t.shared(key, () => filter(t, type, hz, q));
}

/** A gain node at 0, its gain to be shaped by an envelope. */
export function amp(t: VoiceTarget): AudioNode & { gain: AudioParam } {
  const g = t.ctx.createGain();
  g.gain.value = 0;
  return g;
}

/** Connects `nodes` in a chain and returns the last. */
export function chain(...nodes: AudioNode[]): AudioNode {
  for (let i = 1; i < nodes.length; i++) nodes[i - 1]!.connect(nodes[i]!);
  return nodes[nodes.length - 1]!;
}

/**
 * A percussive envelope: 0 at `when`, `peak` after {@link HIT_ATTACK}, then an exponential decay with
 * time constant `tau`, held at 0 from `when + 6·tau` (then ~52 dB down): a parameter that no longer
 * moves costs node-web-audio-api far less than one still approaching its target. Returns that end.
 */
export function hit(param: AudioParam, when: number, peak: number, tau: number): number {
  const end = when + HIT_ATTACK + 6 * tau;
  param.setValueAtTime(0, when);
  param.linearRampToValueAtTime(peak, when + HIT_ATTACK);
  param.setTargetAtTime(0, when + HIT_ATTACK, tau);
  param.setValueAtTime(0, end);
  return end;
}

/** Shape of a sustained note: attack (linear, s), decay (time constant, s) to `sustain` × peak, release. */
export interface Adsr {
  attack: number;
  decay: number;
  sustain: number;
  /** Time constant of the release, s; the voice stops 6 time constants after the note off. */
  release: number;
}

/**
 * An ADSR envelope from `when` to the note off at `off`; returns when the voice can stop (the release
 * is then ~52 dB down, and the gain is held at 0 from there, as in {@link hit}).
 */
export function adsr(param: AudioParam, when: number, off: number, peak: number, e: Adsr): number {
  const top = Math.min(when + e.attack, off);
  param.setValueAtTime(0, when);
  param.linearRampToValueAtTime(peak, top);
  if (top < off) param.setTargetAtTime(peak * e.sustain, top, e.decay);
  param.setTargetAtTime(0, off, e.release);
  const end = off + 6 * e.release;
  param.setValueAtTime(0, end);
  return end;
}
