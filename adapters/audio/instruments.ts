/**
 * The band's instruments, built from Web Audio nodes on any BaseAudioContext (real-time or offline):
 * a bass, a chord pad, a lead and the drum kit (drum-kit.ts), through a master gain, a limiter
 * (DynamicsCompressor) and a safety clipper, so nothing reaches 0 dBFS (issue #8, "Audio out").
 *
 * Which instrument plays a note: by channel, from config (`audio.instruments`, default channel 2 →
 * bass, 3 → pad, any other → lead); `play_drums` → the kit. Deterministic for a seed: the only
 * randomness (the noise buffer, where a hit starts in it) comes from a seeded PRNG, and Web Audio
 * rendering itself is deterministic, so the same messages and seed render the same samples.
 *
 * Bounded: at most `maxVoices` voices (a note of a chord, a drum hit) are alive at once, scheduled or
 * sounding; beyond it a voice is dropped and counted, so a flood of messages cannot exhaust memory.
 */
import { GM_NOTE_HITS, KIT } from './drum-kit.js';
import type { PlayEvent } from './events.js';
import { mulberry32, NOISE_SECONDS, noiseSamples, type Prng } from './noise.js';
import {
  type Adsr,
  adsr,
  amp,
  chain,
  filter,
  midiToHz,
  oscillator,
  sharedFilter,
  type Voice,
  type VoiceTarget,
  velocityGain,
} from './voice.js';
import { VoiceHeap } from './voice-heap.js';
import type { AudioBuffer, AudioNode, BaseAudioContext, GainNode } from './web-audio.js';

/** The instruments a channel can be played by. */
export const INSTRUMENT_NAMES = ['bass', 'pad', 'lead', 'kit'] as const;
export type InstrumentName = (typeof INSTRUMENT_NAMES)[number];

/** How the band sounds (config `audio`, the keys that shape sound). */
export interface BandSettings {
  /** Linear gain before the limiter, 0..1. */
  masterGain: number;
  /** Instrument by MIDI channel ('1'..'16'). */
  instruments: Readonly<Partial<Record<string, InstrumentName>>>;
  /** Instrument of a channel not in `instruments`. */
  otherChannels: InstrumentName;
  /** Seed of the noise and of everything random. */
  seed: number;
  /** Voices alive at once at most; `Infinity` for an offline render (its input is bounded). */
  maxVoices: number;
}

/** What the band did, for counters. */
export interface BandCounters {
  voices: number;
  dropped: number;
  /** Drum names (or kit notes) the kit does not know: skipped. */
  unknownHits: number;
}

/** A melodic instrument: its envelope, and how to build a voice of `hz`, gain `level`, `when` → `off`. */
interface Melodic {
  readonly env: Adsr;
  build(t: VoiceTarget, hz: number, when: number, off: number, level: number): Voice;
}

/** A sawtooth and a sine at the root, through a low-pass whose cutoff falls after the attack (a pluck). */
const bass: Melodic = {
  env: { attack: 0.004, decay: 0.3, sustain: 0.6, release: 0.025 },
  build(t, hz, when, off, level) {
    const a = amp(t);
    const end = adsr(a.gain, when, off, level * 0.5, this.env);
    const saw = oscillator(t, 'sawtooth', hz, when, end);
    const sub = oscillator(t, 'sine', hz, when, end);
    const top = Math.min(hz * 16, 6000);
    const lp = filter(t, 'lowpass', top, 3);
    // A ramp that ends, not a setTarget: a filter frequency still moving is recomputed every sample.
    lp.frequency.setValueAtTime(top, when);
    lp.frequency.exponentialRampToValueAtTime(hz * 4, when + 0.15);
    saw.connect(lp);
    chain(sub, lp, a, t.out);
    return { sources: [saw, sub], end };
  },
};

/** A square wave through a low-pass shared by every lead voice. */
const lead: Melodic = {
  env: { attack: 0.005, decay: 0.2, sustain: 0.5, release: 0.04 },
  build(t, hz, when, off, level) {
    const a = amp(t);
    const end = adsr(a.gain, when, off, level * 0.35, this.env);
    const sq = oscillator(t, 'square', hz, when, end);
    chain(sq, a, sharedFilter(t, 'lead:lowpass', 'lowpass', 3500, 1));
    return { sources: [sq], end };
  },
};

/** Detuned sawtooths, slow attack and release, through a low-pass shared by every pad voice. */
const pad: Melodic = {
  env: { attack: 0.25, decay: 0.5, sustain: 0.8, release: 0.2 },
  build(t, hz, when, off, level) {
    const a = amp(t);
    const end = adsr(a.gain, when, off, level * 0.12, this.env);
    const sources = [-7, 7].map((cents) => {
      const o = oscillator(t, 'sawtooth', hz, when, end, cents);
      o.connect(a);
      return o;
    });
    a.connect(sharedFilter(t, 'pad:lowpass', 'lowpass', 1800, 0.7));
    return { sources, end };
  },
};

const MELODIC: Readonly<Record<Exclude<InstrumentName, 'kit'>, Melodic>> = { bass, pad, lead };

/** Gain after the limiter, taking back most of its make-up gain. */
const POST_TRIM = 0.6;

/** Linear → soft clip: the identity up to 0.9, then a tanh knee that never exceeds 0.99 (−0.09 dBFS). */
function clipCurve(points = 4097): Float32Array {
  const curve = new Float32Array(points);
  for (let i = 0; i < points; i++) {
    // The shaper maps input [-1, 1] onto the curve; inputs beyond it take the end values. Input here
    // is the mix halved, so the curve spans mix levels [-2, 2].
    const x = ((i / (points - 1)) * 2 - 1) * 2;
    const m = Math.abs(x);
    const y = m <= 0.9 ? m : 0.9 + 0.09 * Math.tanh((m - 0.9) / 0.09);
    curve[i] = Math.sign(x) * y;
  }
  return curve;
}

/**
 * Frames the limiter delays its input: node-web-audio-api's DynamicsCompressor looks ahead ~6 ms,
 * rounded up to whole render quanta (web-audio-api-rs, `dynamics_compressor.rs`: 384 frames at 48 kHz).
 */
export function limiterDelayFrames(sampleRate: number): number {
  return Math.ceil((sampleRate * 0.006) / 128) * 128;
}

/**
 * The voices of the band on one context, dry (before the master chain): the instruments, the shared
 * nodes, voice accounting and the cap. Its `out` carries the mix.
 */
export class Voices {
  readonly counters: BandCounters = { voices: 0, dropped: 0, unknownHits: 0 };
  private bus: GainNode;
  private shared = new Map<string, AudioNode>();
  private readonly heap = new VoiceHeap();
  private readonly target: Omit<VoiceTarget, 'out' | 'shared'>;

  /**
   * `out`: where the mix goes. `seeded`: the noise and the PRNG that continues the seed's sequence
   * (made from the seed when absent; an offline render shares one across its contexts: an AudioBuffer
   * plays in any context).
   */
  constructor(
    private readonly ctx: BaseAudioContext,
    private readonly settings: BandSettings,
    private readonly out: AudioNode,
    seeded: Seeded = seededNoise(ctx, settings.seed),
  ) {
    this.target = { ctx, noise: seeded.noise, random: seeded.random };
    this.bus = this.newBus();
  }

  /** Voices scheduled or sounding now. */
  activeVoices(): number {
    this.heap.prune(this.ctx.currentTime);
    return this.heap.size;
  }

  /**
   * Plays `event` from `when` (s on the context's clock; a time already past plays at once). Returns
   * the voices started; the others were dropped (voice cap) or unknown drum names.
   */
  play(event: PlayEvent, when: number): number {
    const start = Math.max(when, this.ctx.currentTime);
    const level = velocityGain(event.velocity);
    if (level === 0) return 0;
    let started = 0;
    if (event.kind === 'drums') {
      for (const name of event.hits) started += this.drum(name, start, level);
      return started;
    }
    const instrument = instrumentOf(this.settings, event.channel);
    for (const note of event.notes) {
      if (instrument === 'kit') {
        const name = GM_NOTE_HITS[note];
        if (name === undefined) this.counters.unknownHits++;
        else started += this.drum(name, start, level);
        continue;
      }
      if (!this.admit()) continue;
      const off = start + Math.max(event.duration, MIN_NOTE_SECONDS);
      this.add(MELODIC[instrument].build(this.voiceTarget(), midiToHz(note), start, off, level), start);
      started++;
    }
    return started;
  }

  /**
   * Silence now (panic), or at `at` (s on the context's clock; an offline render schedules it): every
   * voice played so far, sounding or scheduled, fades out within ~10 ms and is stopped; voices played
   * after this call play on a fresh bus.
   */
  silence(at?: number): void {
    const now = Math.max(at ?? 0, this.ctx.currentTime);
    // Voices that ended by then need no stop (a later stop time would only keep them in the graph).
    this.heap.prune(now);
    const old = this.bus;
    old.gain.cancelScheduledValues(now);
    old.gain.setValueAtTime(1, now);
    old.gain.linearRampToValueAtTime(0, now + 0.01);
    for (const v of this.heap.all()) {
      for (const s of v.sources) {
        try {
          // Not before its start: node-web-audio-api throws for that (the faded bus silences it anyway).
          s.stop(Math.max(now + 0.02, v.start));
        } catch {
          // Already stopped by its own schedule: nothing left to stop.
        }
      }
    }
    this.heap.clear();
    this.bus = this.newBus();
  }

  private voiceTarget(): VoiceTarget {
    return { ...this.target, out: this.bus, shared: this.sharedNode };
  }

  private readonly sharedNode = (key: string, make: () => AudioNode): AudioNode => {
    let node = this.shared.get(key);
    if (node === undefined) {
      node = make();
      node.connect(this.bus);
      this.shared.set(key, node);
    }
    return node;
  };

  private drum(name: string, when: number, level: number): number {
    const build = Object.hasOwn(KIT, name) ? KIT[name] : undefined;
    if (build === undefined) {
      this.counters.unknownHits++;
      return 0;
    }
    if (!this.admit()) return 0;
    this.add(build.build(this.voiceTarget(), when, level), when);
    return 1;
  }

  private admit(): boolean {
    if (this.heap.size >= this.settings.maxVoices) this.heap.prune(this.ctx.currentTime);
    if (this.heap.size < this.settings.maxVoices) return true;
    this.counters.dropped++;
    return false;
  }

  private add(v: Voice, start: number): void {
    this.heap.push({ ...v, start });
    this.counters.voices++;
  }

  private newBus(): GainNode {
    const bus = this.ctx.createGain();
    bus.connect(this.out);
    this.shared = new Map();
    return bus;
  }
}

/** The instrument that plays notes of `channel`. */
export function instrumentOf(
  settings: Pick<BandSettings, 'instruments' | 'otherChannels'>,
  channel: number,
): InstrumentName {
  return settings.instruments[String(channel)] ?? settings.otherChannels;
}

/** Seconds a note lasts at least, so a zero-length note still sounds its attack. */
const MIN_NOTE_SECONDS = 0.02;

/** The ringing of the filters after a voice's gain is 0 (a biquad's tail), s: under -100 dBFS after it. */
const FILTER_TAIL_SECONDS = 0.05;

/**
 * How long after its start every voice of `event` is silent, s (an offline render's segment length):
 * the voice's own length plus {@link FILTER_TAIL_SECONDS}.
 */
export function eventSeconds(
  event: PlayEvent,
  settings: Pick<BandSettings, 'instruments' | 'otherChannels'>,
): number {
  const hitSeconds = (name: string | undefined) =>
    name !== undefined && Object.hasOwn(KIT, name) ? KIT[name]!.seconds : 0;
  let seconds: number;
  if (event.kind === 'drums') seconds = Math.max(0, ...event.hits.map(hitSeconds));
  else {
    const instrument = instrumentOf(settings, event.channel);
    seconds =
      instrument === 'kit'
        ? Math.max(0, ...event.notes.map((n) => hitSeconds(GM_NOTE_HITS[n])))
        : Math.max(event.duration, MIN_NOTE_SECONDS) + 6 * MELODIC[instrument].env.release;
  }
  return seconds + FILTER_TAIL_SECONDS;
}

/** The seed's noise, as a buffer, and the PRNG that continues after it. */
export interface Seeded {
  noise: AudioBuffer;
  random: Prng;
}

/** The noise of `seed` on `ctx` (its sample rate), and the PRNG that continues after it. */
export function seededNoise(ctx: BaseAudioContext, seed: number): Seeded {
  const random = mulberry32(seed);
  const samples = noiseSamples(random, Math.round(ctx.sampleRate * NOISE_SECONDS));
  const noise = ctx.createBuffer(1, samples.length, ctx.sampleRate);
  noise.copyToChannel(samples, 0);
  return { noise, random };
}

/**
 * The master chain: gain, limiter (DynamicsCompressor), a trim, and a soft clipper that never exceeds
 * 0.99, so nothing clips even when the limiter's attack lets a transient through. Returns its input.
 */
export function masterChain(
  ctx: BaseAudioContext,
  masterGain: number,
  destination: AudioNode,
): { input: GainNode; output: AudioNode } {
  const master = ctx.createGain();
  master.gain.value = masterGain;
  const limiter = ctx.createDynamicsCompressor();
  limiter.threshold.value = -10;
  limiter.knee.value = 6;
  limiter.ratio.value = 12;
  limiter.attack.value = 0.003;
  limiter.release.value = 0.25;
  // The compressor adds make-up gain (Web Audio §1.20: (1 / its curve at 0 dBFS)^0.6, here ~+5.5 dB):
  // trimmed back so a loud band sits a few dB under full scale. Halved for the clipper (clipCurve).
  const half = ctx.createGain();
  half.gain.value = 0.5 * POST_TRIM;
  const clipper = ctx.createWaveShaper();
  clipper.curve = clipCurve();
  clipper.oversample = 'none';
  chain(master, limiter, half, clipper, destination);
  return { input: master, output: clipper };
}

/** The band on one context: its voices through the master chain to `destination`. */
export class Band {
  /** Seconds the limiter delays everything: a voice started at `t` is heard from `t + latency`. */
  readonly latency: number;
  /** Where the voices go: the master chain's input. */
  readonly input: GainNode;
  /** The last node of the band, connected to the destination (taps listen here). */
  readonly output: AudioNode;
  private readonly voices: Voices;

  constructor(ctx: BaseAudioContext, settings: BandSettings, destination: AudioNode = ctx.destination) {
    ({ input: this.input, output: this.output } = masterChain(ctx, settings.masterGain, destination));
    this.voices = new Voices(ctx, settings, this.input);
    this.latency = limiterDelayFrames(ctx.sampleRate) / ctx.sampleRate;
  }

  get counters(): BandCounters {
    return this.voices.counters;
  }

  /** Voices scheduled or sounding now. */
  activeVoices(): number {
    return this.voices.activeVoices();
  }

  /** See {@link Voices.play}. */
  play(event: PlayEvent, when: number): number {
    return this.voices.play(event, when);
  }

  /** See {@link Voices.silence}. */
  silence(): void {
    this.voices.silence();
  }
}
