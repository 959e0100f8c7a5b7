/**
 * An audio engine: one real-time AudioContext with the band on it. The adapter talks to it through
 * {@link AudioEngine}, in this process ({@link LocalEngine}) or in a child process
 * (child-engine.ts, which runs a LocalEngine in engine-host.ts).
 *
 * Why a child process for a device: node-web-audio-api 1.0.9's Linux build looks for a JACK server
 * first (cpal's JACK host, compiled in), and cpal prints `Failed to open client because of error: …`
 * with Rust's `println!` — on the process's stdout, where the daemon writes its JSON log lines — every
 * time a context opens a device, whether or not a device exists. Nothing in the library turns it off,
 * and Node cannot redirect its own fd 1 around a call. A context on `sinkId: 'none'` never looks for a
 * host (measured: no byte on stdout), so it runs in this process.
 */
import { AudioDeviceError } from '../../daemon/kernel/errors.js';
import type { ClockSample } from './clock-mapping.js';
import type { PlayEvent } from './events.js';
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

/** Live figures of an engine. */
export interface EngineStats extends BandCounters {
  voicesActive: number;
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
  stats(): EngineStats;
  /** Closes the context (awaited). Idempotent. */
  close(): Promise<void>;
  /** Called once when the engine fails after it opened (its process exited, its clock stopped). */
  onFailure: (reason: string) => void;
}

const NO_STATS: EngineStats = { voices: 0, dropped: 0, unknownHits: 0, voicesActive: 0 };

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
    const fresh = this.fresh(engine);
    this.retired = {
      voices: this.retired.voices + fresh.voices,
      dropped: this.retired.dropped + fresh.dropped,
      unknownHits: this.retired.unknownHits + fresh.unknownHits,
      voicesActive: 0,
    };
    this.counted.set(engine, engine.stats());
  }

  /** The totals with the engine in use (its voices active are the only ones). */
  with(engine: AudioEngine | undefined): EngineStats {
    const f = engine === undefined ? NO_STATS : this.fresh(engine);
    return {
      voices: this.retired.voices + f.voices,
      dropped: this.retired.dropped + f.dropped,
      unknownHits: this.retired.unknownHits + f.unknownHits,
      voicesActive: f.voicesActive,
    };
  }

  private fresh(engine: AudioEngine): EngineStats {
    const s = engine.stats();
    const c = this.counted.get(engine) ?? NO_STATS;
    return {
      voices: s.voices - c.voices,
      dropped: s.dropped - c.dropped,
      unknownHits: s.unknownHits - c.unknownHits,
      voicesActive: s.voicesActive,
    };
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

  play(event: PlayEvent, when: number): void {
    this.band?.play(event, when);
  }

  silence(): void {
    this.band?.silence();
  }

  stats(): EngineStats {
    const b = this.band;
    if (b === undefined) return { voices: 0, dropped: 0, unknownHits: 0, voicesActive: 0 };
    return { ...b.counters, voicesActive: this.ctx?.state === 'closed' ? 0 : b.activeVoices() };
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
