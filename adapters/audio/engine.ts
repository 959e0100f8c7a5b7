/**
 * An audio engine: one real-time AudioContext with the band on it. The adapter talks to it through
 * {@link AudioEngine}, in this process ({@link LocalEngine}) or in a child process
 * (child-engine.ts, which runs a LocalEngine in engine-host.ts).
 *
 * Why a child process for a device: node-web-audio-api 1.0.9's Linux build looks for a JACK server
 * first (cpal's JACK host, compiled in), and cpal prints `Failed to open client because of error: …`
 * with Rust's `println!` — on the process's stdout, where the daemon writes its JSON log lines — every
 * time a context opens a device, whether or not a device exists. Nothing in the library turns it off,
 * and Node cannot redirect its own fd 1 around a call.
 *
 * Why a child process for the `none` sink too (it prints nothing): every voice creates fresh nodes, and
 * node-web-audio-api keeps a finished node in the render graph and in native memory until its JS
 * wrapper is garbage-collected, which V8 rarely does (it does not see the native size). The render
 * cost and the memory grow with every voice played, unless a major GC runs now and then — a pause the
 * daemon's bus must not take, the engine's own process can (gc-pacer.ts). Inline is for tests and
 * debugging (`audio.isolation: inline`).
 */
import { AudioDeviceError } from '../../daemon/kernel/errors.js';
import type { ClockSample } from './clock-mapping.js';
import type { PlayEvent } from './events.js';
import type { GcStats } from './gc-pacer.js';
import { Band, type BandCounters, type BandSettings } from './instruments.js';
import { type AudioContext, type LatencyHint, webAudio } from './web-audio.js';

/** What an engine is opened with. */
export interface EngineOptions {
  /** `default`, `none`, or a device id of `mediaDevices.enumerateDevices()`. */
  sinkId: string;
  latencyHint: LatencyHint;
  band: BandSettings;
}

/** What an opened engine reports. */
export interface EngineInfo {
  /** Where it plays: `default`, `none` or the device id. */
  sink: string;
  isolation: 'inline' | 'process';
  sampleRate: number;
  /** Seconds between rendering a frame and hearing it (the device's report; 0 for `none`). */
  outputLatency: number;
  /** Seconds the band's limiter delays what it plays. */
  bandLatency: number;
}

/** Figures of the process a child engine runs in (engine-host.ts). */
export interface EngineProcessStats {
  pid: number;
  /** Resident memory of the process, bytes (its native audio nodes included). */
  rssBytes: number;
  /** V8's heap in use, bytes: the JS wrappers of the nodes, finished or not, until a GC frees them. */
  heapUsedBytes: number;
  /** CPU time the process used since it started, ms: the render thread's and the IPC handling's. */
  cpuMs: number;
  /** The periodic major GC (gc-pacer.ts). */
  gc: GcStats;
}

/** Live figures of an engine. */
export interface EngineStats extends BandCounters {
  voicesActive: number;
  /**
   * Plays the engine received after their start time, started at once: the IPC hop or a GC pause of
   * the engine's process made them late (the adapter counts those late on arrival as `late`).
   */
  startedLate: number;
  /** The engine's own process: a child engine's only. */
  process?: EngineProcessStats;
}

/** An audio engine as the adapter drives it. Times are seconds on the engine's audio clock. */
export interface AudioEngine {
  /** Opens the context; rejects with PFM_ERR_AUDIO_DEVICE when the sink cannot be opened. */
  open(): Promise<EngineInfo>;
  /** Reads the audio clock between two reads of `clock` (the bus clock, ms). */
  sample(clock: () => number): Promise<ClockSample>;
  /** Plays `event` from `when` (a time already past: at once). */
  play(event: PlayEvent, when: number): void;
  /** Silence now: every voice, sounding or scheduled. */
  silence(): void;
  /** Stops the clock and the rendering (the fallback, while the device plays). */
  suspend(): Promise<void>;
  /** Runs the clock again after {@link suspend}. */
  resume(): Promise<void>;
  stats(): EngineStats;
  /** Closes the context (awaited). Idempotent. */
  close(): Promise<void>;
  /** Called once when the engine fails after it opened (its process exited, its clock stopped). */
  onFailure: (reason: string) => void;
}

/** Figures of an engine that has played nothing. */
export const NO_STATS: Readonly<EngineStats> = {
  voices: 0,
  dropped: 0,
  unknownHits: 0,
  voicesActive: 0,
  startedLate: 0,
};

/** The figures that count up (totals across engines add them). */
const COUNTS = ['voices', 'dropped', 'unknownHits', 'startedLate'] as const;

/** `a` + `sign` × `b`, count by count; voices active from `active`. */
function combine(a: EngineStats, b: EngineStats, sign: 1 | -1, active: number): EngineStats {
  const out: EngineStats = { ...NO_STATS, voicesActive: active };
  for (const k of COUNTS) out[k] = a[k] + sign * b[k];
  return out;
}

/**
 * Totals across the engines of a run (a fallback, a device that came back, failed, came back): what
 * engines out of service counted is kept, so the totals never go back. An engine can serve twice (the
 * fallback): only what it counted since it was last retired is added.
 */
export class EngineTotals {
  private retired: EngineStats = { ...NO_STATS };
  private readonly counted = new WeakMap<AudioEngine, EngineStats>();

  /** Keeps what `engine` counted so far. */
  retire(engine: AudioEngine): void {
    this.retired = combine(this.retired, this.fresh(engine), 1, 0);
    this.counted.set(engine, engine.stats());
  }

  /** The totals with the engine in use (its voices active are the only ones). */
  with(engine: AudioEngine | undefined): EngineStats {
    const f = engine === undefined ? NO_STATS : this.fresh(engine);
    return combine(this.retired, f, 1, f.voicesActive);
  }

  private fresh(engine: AudioEngine): EngineStats {
    const s = engine.stats();
    return combine(s, this.counted.get(engine) ?? NO_STATS, -1, s.voicesActive);
  }
}

/** How long a new context may take before its clock moves. */
const START_TIMEOUT_MS = 3000;

/** The sink option node-web-audio-api takes: `''` is the default device. */
function sinkOption(sinkId: string): string {
  return sinkId === 'default' ? '' : sinkId;
}

/** An AudioContext and the band, in this process. */
export class LocalEngine implements AudioEngine {
  onFailure: (reason: string) => void = () => {};
  private ctx: AudioContext | undefined;
  private band: Band | undefined;
  private closing: Promise<void> | undefined;
  private startedLate = 0;

  constructor(
    private readonly options: EngineOptions,
    private readonly isolation: 'inline' | 'process' = 'inline',
  ) {}

  /** The context and the band's output, for taps (tests, a future level meter). */
  get graph(): { context: AudioContext; band: Band } | undefined {
    return this.ctx === undefined || this.band === undefined
      ? undefined
      : { context: this.ctx, band: this.band };
  }

  async open(): Promise<EngineInfo> {
    const { sinkId, latencyHint } = this.options;
    let ctx: AudioContext;
    try {
      ctx = new (webAudio().AudioContext)({ sinkId: sinkOption(sinkId), latencyHint });
    } catch (err) {
      throw new AudioDeviceError(sinkId, (err as Error).message, { cause: err });
    }
    this.ctx = ctx;
    try {
      await clockMoves(ctx);
    } catch (err) {
      await this.close();
      throw new AudioDeviceError(sinkId, (err as Error).message, { cause: err });
    }
    this.band = new Band(ctx, this.options.band);
    return {
      sink: sinkId,
      isolation: this.isolation,
      sampleRate: ctx.sampleRate,
      outputLatency: Number.isFinite(ctx.outputLatency) ? ctx.outputLatency : 0,
      bandLatency: this.band.latency,
    };
  }

  async sample(clock: () => number): Promise<ClockSample> {
    return this.sampleNow(clock);
  }

  /** The synchronous read behind `sample`. */
  sampleNow(clock: () => number): ClockSample {
    const ctx = this.context();
    const before = clock();
    const audioTime = ctx.currentTime;
    const after = clock();
    return { busTime: after, audioTime, rttMs: after - before };
  }

  /** The audio clock now, s. */
  currentTime(): number {
    return this.context().currentTime;
  }

  /** Returns the voices started (see {@link Band.play}). */
  play(event: PlayEvent, when: number): number {
    const band = this.band;
    if (band === undefined) return 0;
    // 0 is "at once" (the adapter's choice); any other time already past arrived late.
    if (when > 0 && when < this.context().currentTime) this.startedLate++;
    return band.play(event, when);
  }

  silence(): void {
    this.band?.silence();
  }

  stats(): EngineStats {
    const b = this.band;
    if (b === undefined) return { ...NO_STATS };
    return {
      ...b.counters,
      voicesActive: this.ctx?.state === 'closed' ? 0 : b.activeVoices(),
      startedLate: this.startedLate,
    };
  }

  /** Stops the clock and the rendering (the fallback, while the device plays). */
  async suspend(): Promise<void> {
    this.band?.silence();
    if (this.ctx?.state === 'running') await this.ctx.suspend();
  }

  /** Runs the clock again after {@link suspend}. */
  async resume(): Promise<void> {
    if (this.ctx?.state === 'suspended') await this.ctx.resume();
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      const ctx = this.ctx;
      this.band = undefined;
      if (ctx !== undefined && ctx.state !== 'closed') await ctx.close();
    })();
    return this.closing;
  }

  private context(): AudioContext {
    if (this.ctx === undefined) throw new Error('audio engine not open');
    return this.ctx;
  }
}

/** Resolves once the context's clock has moved (the device, or the `none` sink's thread, is rendering). */
async function clockMoves(ctx: AudioContext): Promise<void> {
  const start = Date.now();
  const t0 = ctx.currentTime;
  while (ctx.currentTime === t0) {
    if (Date.now() - start > START_TIMEOUT_MS)
      throw new Error(`the audio clock did not move within ${START_TIMEOUT_MS} ms (state ${ctx.state})`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}
