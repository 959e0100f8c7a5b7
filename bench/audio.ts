/**
 * The audio group (issue #8, "Benchmarks"): audio.render_speed, seconds of the full band rendered per
 * wall second — the agents played on a virtual clock (daemon/render.ts `playBand`) and rendered by the
 * audio adapter's offline engine (adapters/audio/render.ts), 16 s at 120 BPM, 48 kHz stereo, as
 * `performia render` does. Baseline in the same run: one bare OfflineAudioContext of the same length
 * and rate with 8 oscillators into its destination (PERFORMANCE-NOTES.md, "Audio": ~300× here), the
 * machine's raw offline render speed.
 */
import { renderOffline } from '../adapters/audio/render.js';
import { webAudio } from '../adapters/audio/web-audio.js';
import { DEFAULT_CONFIG } from '../config/index.js';
import { playBand } from '../daemon/render.js';
import type { Figure, RunResult } from './types.js';
import { settle } from './util.js';

const BARS = 8;
const BPM = 120;
const RATE = 48_000;

/** Seconds of band per wall second, for one render. */
async function band(): Promise<{ speed: number; seconds: number; voices: number }> {
  const started = performance.now();
  const { messages, seconds } = await playBand(DEFAULT_CONFIG, BARS, BPM);
  const a = DEFAULT_CONFIG.audio;
  const r = await renderOffline({
    duration: seconds,
    sampleRate: RATE,
    channels: 2,
    band: {
      masterGain: a.masterGain,
      instruments: a.instruments,
      otherChannels: a.otherChannels,
      seed: a.seed,
    },
    messages: messages.map((m) => ({ type: m.type, payload: m.payload, at: m.at })),
  });
  return { speed: seconds / ((performance.now() - started) / 1000), seconds, voices: r.voices };
}

/** Seconds of 8 bare oscillators per wall second. */
async function bare(seconds: number): Promise<number> {
  const { OfflineAudioContext } = webAudio();
  const started = performance.now();
  const ctx = new OfflineAudioContext({
    numberOfChannels: 2,
    length: Math.round(seconds * RATE),
    sampleRate: RATE,
  });
  for (let i = 0; i < 8; i++) {
    const osc = ctx.createOscillator();
    osc.frequency.value = 110 * (i + 1);
    const gain = ctx.createGain();
    gain.gain.value = 0.05;
    osc.connect(gain).connect(ctx.destination);
    osc.start(0);
  }
  await ctx.startRendering();
  return seconds / ((performance.now() - started) / 1000);
}

export const renderSpeed: Figure = {
  name: 'audio.render_speed',
  unit: 'x real time',
  baselineName: '8 bare oscillators in one OfflineAudioContext',
  goal: '>= 50x real time',
  met: (value) => value >= 50,
  async run(): Promise<RunResult> {
    await band(); // warm-up: JIT and the native module's first contexts
    await settle();
    const ours = await band();
    await settle();
    const baseline = await bare(ours.seconds);
    return { value: ours.speed, baseline, details: { seconds: ours.seconds, voices: ours.voices } };
  },
};

export const figures: readonly Figure[] = [renderSpeed];
