/**
 * The audio group (issue #8, "Benchmarks"):
 * - audio.render_speed, seconds of the full band rendered per wall second — the agents played on a
 *   virtual clock (daemon/render.ts `playBand`) and rendered by the audio adapter's offline engine
 *   (adapters/audio/render.ts), 16 s at 120 BPM, 48 kHz stereo, as `performia render` does. Baseline in
 *   the same run: one bare OfflineAudioContext of the same length and rate with 8 oscillators into its
 *   destination (PERFORMANCE-NOTES.md, "Audio": ~300× here), the machine's raw offline render speed.
 * - audio.soak_growth_kb_per_1k_voices, how much the real-time engine's process grows as voices are
 *   played: short lead notes at {@link SOAK_RATE}/s for {@link SOAK_SECONDS} s through the real child
 *   engine (child-engine.ts, the built engine-host.js) on the `none` sink, the child's RSS read every
 *   {@link SOAK_READ_EVERY} voices after the first quarter of the run, and the least-squares slope of
 *   RSS over voices played, KB per 1,000 voices. Value: with the host's periodic GC (gc-pacer.ts, the
 *   shipped pacing); baseline in the same run: the same host with it off (`gc: false`, V8 alone). The
 *   child's CPU (render thread included), the GC's pauses and the voices dropped are in the details.
 *   Measured here (2 cores, other work running, 2 runs): with the GC -4,700..+930 KB (the RSS falls
 *   when the allocator hands back its early peak; the ~0.8 KB per voice it keeps over longer runs is
 *   below this run's noise), 64-70 % CPU, 39 collections (pauses up to 45-95 ms), none dropped; without
 *   it +15,200..+18,600 KB, 86-94 % CPU, 3,346-4,042 of 8,000 voices dropped as rendering fell behind
 *   the dead nodes, JS heap up to 119 MB (37 MB with the GC).
 */
import { ChildEngine, type ChildEngineOptions } from '../adapters/audio/child-engine.js';
import type { EngineProcessStats } from '../adapters/audio/engine.js';
import type { PlayEvent } from '../adapters/audio/events.js';
import { renderOffline } from '../adapters/audio/render.js';
import { webAudio } from '../adapters/audio/web-audio.js';
import { DEFAULT_CONFIG } from '../config/index.js';
import { silentLogger } from '../daemon/bus/index.js';
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

/**
 * Voices per second of the soak: a flood (a busy band plays ~12/s), to play in seconds what a show
 * plays in an hour, and to give the growth room above the allocator's noise (its trims move the RSS by
 * 10-20 MB at once). Without its GC the host falls behind at this rate (readings missed, voices dropped).
 */
const SOAK_RATE = 400;
/** Seconds per variant: two variants stay under a minute per run. */
const SOAK_SECONDS = 20;
/** Voices between two RSS readings. */
const SOAK_READ_EVERY = 200;
/** A short lead note: an oscillator and a gain, over in ~0.3 s. */
const BLIP: PlayEvent = { kind: 'notes', notes: [69], velocity: 90, duration: 0.01, channel: 1 };

/** What one soak measured. */
export interface Soak {
  /** RSS slope, KB per 1,000 voices played. */
  kbPer1k: number;
  /** The child's CPU while playing, % of one core. */
  cpuPct: number;
  /** The child's largest JS heap read, MB (the finished nodes' wrappers until collected). */
  heapMaxMb: number;
  played: number;
  dropped: number;
  /** Readings that got no answer within 1 s (the host too far behind). */
  missed: number;
  gc: EngineProcessStats['gc'];
}

/**
 * Plays the soak through a child engine, with its periodic GC (`gc`) or without. `child`: how the host
 * is started (default the built engine-host.js; a script trying this from the sources passes theirs).
 */
export async function soak(gc: boolean, child: ChildEngineOptions = {}): Promise<Soak> {
  const engine = new ChildEngine(
    {
      sinkId: 'none',
      latencyHint: 'balanced',
      band: { masterGain: 0.5, instruments: {}, otherChannels: 'lead', seed: 1, maxVoices: 1024 },
    },
    silentLogger,
    gc ? child : { ...child, gc: false },
  );
  try {
    await engine.open();
    const total = SOAK_RATE * SOAK_SECONDS;
    const points: { voices: number; kb: number }[] = [];
    let missed = 0;
    let heapMax = 0;
    const read = async (): Promise<EngineProcessStats | undefined> => {
      try {
        await engine.sample(() => performance.now());
        return engine.stats().process;
      } catch {
        // A reading the host did not answer in time (the variant without GC falls behind): counted in
        // `missed`; the slope is fitted through the readings that came.
        missed++;
        return undefined;
      }
    };
    const first = await read();
    let sent = 0;
    let next = Math.round(total / 4);
    const t0 = performance.now();
    while (sent < total) {
      const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * SOAK_RATE));
      for (; sent < due; sent++) engine.play(BLIP, 0);
      if (sent >= next) {
        next += SOAK_READ_EVERY;
        const p = await read();
        if (p !== undefined) {
          points.push({ voices: sent, kb: p.rssBytes / 1024 });
          heapMax = Math.max(heapMax, p.heapUsedBytes);
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const wall = performance.now() - t0;
    const last = (await read()) ?? engine.stats().process;
    // The counts come with readings: read until every voice is accounted for (a host far behind may
    // take a while; 3 s at most).
    const deadline = performance.now() + 3000;
    const counted = () => engine.stats().voices + engine.stats().dropped >= total;
    while (!counted() && performance.now() < deadline) await read();
    const stats = engine.stats();
    if (points.length < 2) throw new Error(`the soak got ${points.length} RSS readings (${missed} missed)`);
    return {
      kbPer1k: slope(points) * 1000,
      cpuPct: (((last?.cpuMs ?? 0) - (first?.cpuMs ?? 0)) / wall) * 100,
      heapMaxMb: heapMax / 1e6,
      played: stats.voices,
      dropped: stats.dropped,
      missed,
      gc: last?.gc ?? { enabled: false, count: 0, lastPauseMs: 0, maxPauseMs: 0 },
    };
  } finally {
    await engine.close();
  }
}

/** Least-squares slope of `kb` over `voices` (at least two points). */
function slope(points: readonly { voices: number; kb: number }[]): number {
  const n = points.length;
  const mx = points.reduce((a, p) => a + p.voices, 0) / n;
  const my = points.reduce((a, p) => a + p.kb, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.voices - mx) * (p.kb - my);
    den += (p.voices - mx) ** 2;
  }
  return num / den;
}

export const soakGrowth: Figure = {
  name: 'audio.soak_growth_kb_per_1k_voices',
  unit: 'KB per 1k voices',
  baselineName: 'the same engine process without its periodic GC',
  goal: '< 2000 KB per 1k voices',
  met: (value) => value < 2000,
  async run(): Promise<RunResult> {
    const ours = await soak(true);
    await settle();
    const without = await soak(false);
    return {
      value: ours.kbPer1k,
      baseline: without.kbPer1k,
      details: {
        cpuPct: ours.cpuPct,
        cpuPctWithoutGc: without.cpuPct,
        heapMaxMb: ours.heapMaxMb,
        heapMaxMbWithoutGc: without.heapMaxMb,
        gcCount: ours.gc.count,
        gcPauseLastMs: ours.gc.lastPauseMs,
        gcPauseMaxMs: ours.gc.maxPauseMs,
        dropped: ours.dropped,
        droppedWithoutGc: without.dropped,
        missedReadingsWithoutGc: without.missed,
      },
    };
  },
};

export const figures: readonly Figure[] = [renderSpeed, soakGrowth];
