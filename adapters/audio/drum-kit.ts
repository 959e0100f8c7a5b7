/**
 * The drum kit: each hit a few Web Audio nodes (classic analogue-drum-machine recipes): kick a sine
 * with a falling pitch, snare noise plus a tone, hats and cymbals high-passed noise, clap noise in
 * bursts. Names are those of `play_drums` hits (the General MIDI names of config/midi-schema.ts).
 * Fixed filters are shared by every hit of a kind (voice.ts, `shared`).
 */
import {
  amp,
  chain,
  HIT_ATTACK,
  hit,
  noise,
  oscillator,
  sharedFilter,
  type Voice,
  type VoiceTarget,
} from './voice.js';

/** A hit: how long it lasts at most (s), and how to build it at `when` with peak gain `level`. */
export interface Hit {
  readonly seconds: number;
  build(t: VoiceTarget, when: number, level: number): Voice;
}

/** Seconds a percussive envelope of time constant `tau` lasts (voice.ts, `hit`). */
const lasts = (tau: number): number => HIT_ATTACK + 6 * tau;

/** A sine whose pitch falls from `from` to `to` Hz in `sweep` s, decaying with `tau` (kick, toms). */
function sweptSine(from: number, to: number, sweep: number, tau: number, gain: number): Hit {
  return {
    seconds: lasts(tau),
    build(t, when, level) {
      const a = amp(t);
      const end = hit(a.gain, when, level * gain, tau);
      const o = oscillator(t, 'sine', from, when, end);
      o.frequency.setValueAtTime(from, when);
      o.frequency.exponentialRampToValueAtTime(to, when + sweep);
      chain(o, a, t.out);
      return { sources: [o], end };
    },
  };
}

/** Noise through a filter shared by the hits of its kind, decaying with `tau` (hats, cymbals). */
function filteredNoise(type: 'highpass' | 'bandpass', hz: number, q: number, tau: number, gain: number): Hit {
  const key = `${type}:${hz}:${q}`;
  return {
    seconds: lasts(tau),
    build(t, when, level) {
      const a = amp(t);
      const end = hit(a.gain, when, level * gain, tau);
      const n = noise(t, when, end);
      chain(n, a, sharedFilter(t, key, type, hz, q));
      return { sources: [n], end };
    },
  };
}

const snare: Hit = {
  seconds: lasts(0.05),
  build(t, when, level) {
    const na = amp(t);
    const end = hit(na.gain, when, level * 0.55, 0.05);
    const n = noise(t, when, end);
    chain(n, na, sharedFilter(t, 'highpass:1200', 'highpass', 1200));
    const oa = amp(t);
    hit(oa.gain, when, level * 0.5, 0.04);
    const o = oscillator(t, 'triangle', 185, when, end);
    chain(o, oa, t.out);
    return { sources: [n, o], end };
  },
};

/** Three quick bursts, then a tail: many hands. */
const clap: Hit = {
  seconds: 0.034 + lasts(0.05),
  build(t, when, level) {
    const a = amp(t);
    const g = a.gain;
    g.setValueAtTime(0, when);
    for (const dt of [0, 0.011, 0.022]) {
      g.setValueAtTime(0, when + dt);
      g.linearRampToValueAtTime(level * 0.6, when + dt + HIT_ATTACK);
      g.setTargetAtTime(0, when + dt + HIT_ATTACK, 0.004);
    }
    const end = hit(g, when + 0.033, level * 0.6, 0.05);
    const n = noise(t, when, end);
    chain(n, a, sharedFilter(t, 'bandpass:1200:0.8', 'bandpass', 1200, 0.8));
    return { sources: [n], end };
  },
};

const rim: Hit = {
  seconds: lasts(0.01),
  build(t, when, level) {
    const a = amp(t);
    const end = hit(a.gain, when, level * 0.45, 0.01);
    const o = oscillator(t, 'triangle', 1700, when, end);
    chain(o, a, t.out);
    return { sources: [o], end };
  },
};

const cowbell: Hit = {
  seconds: lasts(0.08),
  build(t, when, level) {
    const a = amp(t);
    const end = hit(a.gain, when, level * 0.25, 0.08);
    const lo = oscillator(t, 'square', 540, when, end);
    const hi = oscillator(t, 'square', 800, when, end);
    lo.connect(a);
    chain(hi, a, sharedFilter(t, 'bandpass:800:2', 'bandpass', 800, 2));
    return { sources: [lo, hi], end };
  },
};

const hat = filteredNoise('highpass', 7000, 0.7, 0.015, 0.5);

/** Every hit the kit plays, by the name `play_drums` uses. */
export const KIT: Readonly<Record<string, Hit>> = {
  kick: sweptSine(150, 45, 0.12, 0.07, 1),
  snare,
  clap,
  rim,
  hat,
  hihat: hat,
  pedalhat: filteredNoise('highpass', 6500, 0.7, 0.01, 0.25),
  openhat: filteredNoise('highpass', 7000, 0.7, 0.12, 0.3),
  tom: sweptSine(140, 100, 0.2, 0.12, 0.8),
  lowtom: sweptSine(110, 80, 0.2, 0.13, 0.8),
  midtom: sweptSine(160, 120, 0.2, 0.12, 0.8),
  hightom: sweptSine(220, 170, 0.2, 0.1, 0.8),
  crash: filteredNoise('highpass', 3500, 0.7, 0.45, 0.3),
  ride: filteredNoise('bandpass', 6000, 1.2, 0.35, 0.25),
  cowbell,
};

/** General MIDI percussion notes (GM1 sound set, channel 10) → kit hits, for a channel played by the kit. */
export const GM_NOTE_HITS: Readonly<Record<number, string>> = {
  35: 'kick',
  36: 'kick',
  37: 'rim',
  38: 'snare',
  39: 'clap',
  40: 'snare',
  41: 'lowtom',
  42: 'hat',
  43: 'lowtom',
  44: 'pedalhat',
  45: 'midtom',
  46: 'openhat',
  47: 'midtom',
  48: 'hightom',
  49: 'crash',
  50: 'hightom',
  51: 'ride',
  56: 'cowbell',
  57: 'crash',
  59: 'ride',
};
