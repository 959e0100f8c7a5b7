/**
 * The audio adapter (issue #8, "Audio out"): `play_note`, `play_chord` and `play_drums` heard through
 * an audio output, each at its `at`, sample-accurately.
 *
 * - One audio context per run (an AudioContext leaks ~185 KB of native memory when created and closed):
 *   on the configured sink, in a child process for a device (engine.ts says why), in the daemon for
 *   `none`. A device that cannot be opened is logged once, shown `degraded` in /health, and the band
 *   plays on the `none` sink (its clock runs, nothing is heard) while the device is retried in fresh
 *   child processes — or the adapter fails, as `audio.onMissingDevice` says.
 * - Time: every `at` (bus clock, ms) goes through one {@link ClockMapping} to the audio clock, kept in
 *   step by reading both clocks every `clock.syncIntervalMs`. A voice is started early by the band's
 *   limiter delay and the device's output latency, so it leaves the device at `at`. A message without
 *   `at` plays at once; one whose time has passed plays at once and is counted late.
 * - `panic`, and `transport` stop: silence now, including what is scheduled.
 */
import { type AnyMessage, type BusLogger, type MessageBus, RateLimitedLog } from '../../daemon/bus/index.js';
import { AudioDeviceError } from '../../daemon/kernel/errors.js';
import type { PartHealth } from '../../daemon/kernel/part.js';
import type { Timeline } from '../../daemon/kernel/scheduler.js';
import { ChildEngine, type ChildEngineOptions } from './child-engine.js';
import { ClockMapping } from './clock-mapping.js';
import {
  type AudioEngine,
  type EngineInfo,
  type EngineOptions,
  EngineTotals,
  LocalEngine,
} from './engine.js';
import { decodePlay } from './events.js';
import type { InstrumentName } from './instruments.js';

/** The adapter's settings (config `audio`). */
export interface AudioSettings {
  sinkId: string;
  latencyHint: 'interactive' | 'balanced' | 'playback';
  latencySeconds?: number | undefined;
  onMissingDevice: 'fallback' | 'fail';
  retryMs: number;
  isolation: 'auto' | 'process' | 'inline';
  masterGain: number;
  maxVoices: number;
  instruments: Readonly<Partial<Record<string, InstrumentName>>>;
  otherChannels: InstrumentName;
  seed: number;
  clock: { syncIntervalMs: number; windowMs: number; slewMs: number; stepMs: number };
}

/** What the adapter counted. */
export interface AudioCounters {
  /** play_* messages received. */
  received: number;
  /** Played at their `at`. */
  scheduled: number;
  /** Without `at`: played at once. */
  immediate: number;
  /** Their `at` had passed on arrival: played at once. */
  late: number;
  /** Malformed play_* payloads (logged rate-limited). */
  invalid: number;
  /** Received while no engine was ready (between a device failure and the fallback). */
  notReady: number;
  panics: number;
  /** Clock readings that failed (the audio process did not answer). */
  syncErrors: number;
  /** Device retries that failed. */
  retries: number;
}

/** Options for tests and tools: how the child engine is started. */
export interface AudioAdapterOptions {
  child?: ChildEngineOptions;
}

/** Readings at start, a few ms apart, before the first message is mapped (~50 ms). */
const PRIME_SAMPLES = 16;

export class AudioAdapter {
  readonly name = 'audio';
  readonly kind = 'adapter' as const;
  readonly critical: boolean;
  readonly counters: AudioCounters = {
    received: 0,
    scheduled: 0,
    immediate: 0,
    late: 0,
    invalid: 0,
    notReady: 0,
    panics: 0,
    syncErrors: 0,
    retries: 0,
  };
  /** The bus → audio clock mapping of the engine in use. */
  private clockMapping: ClockMapping;
  private state: PartHealth['state'] = 'idle';
  private reason: string | undefined;
  private engine: AudioEngine | undefined;
  private info: EngineInfo | undefined;
  /** The `none` context, made once per run at the first device failure, kept (suspended) after. */
  private fallback: LocalEngine | undefined;
  private device: AudioEngine | undefined;
  private readonly unsubscribe: (() => boolean)[] = [];
  private syncTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private syncing = false;
  private stopPromise: Promise<void> | undefined;
  private lateMaxMs = 0;
  private readonly totals = new EngineTotals();
  private readonly log: RateLimitedLog;

  constructor(
    private readonly settings: AudioSettings,
    private readonly bus: MessageBus,
    private readonly timeline: Timeline,
    private readonly logger: BusLogger,
    private readonly options: AudioAdapterOptions = {},
  ) {
    this.critical = settings.onMissingDevice === 'fail';
    this.clockMapping = this.newMapping();
    this.log = new RateLimitedLog(logger, 1_000, Date.now);
  }

  /** The bus → audio clock mapping in use (a new one for each engine). */
  get mapping(): ClockMapping {
    return this.clockMapping;
  }

  /** The engine in use (tests tap its graph when it is a {@link LocalEngine}). */
  get currentEngine(): AudioEngine | undefined {
    return this.engine;
  }

  async start(): Promise<void> {
    this.state = 'starting';
    const wanted = this.engineFor(this.settings.sinkId);
    try {
      await this.use(wanted);
      this.device = wanted;
    } catch (err) {
      await wanted.close();
      if (this.settings.onMissingDevice === 'fail' || this.settings.sinkId === 'none') {
        this.state = 'failed';
        this.reason = (err as Error).message;
        throw err;
      }
      await this.fallBack((err as Error).message);
    }
    if (this.stopPromise !== undefined) {
      // Stopped while the device was being opened: stop() ran before there was anything to close.
      await Promise.all([this.device?.close(), this.fallback?.close()]);
      return;
    }
    for (const type of ['play_note', 'play_chord', 'play_drums'] as const)
      this.unsubscribe.push(this.bus.subscribe(type, this.onPlay, { name: `audio:${type}` }));
    this.unsubscribe.push(this.bus.subscribe('panic', () => this.silence(), { name: 'audio:panic' }));
    this.unsubscribe.push(
      this.bus.subscribe(
        'transport',
        (m) => {
          // The bus trusts its publishers' types: a malformed payload must not throw here.
          if ((m.payload as { state?: unknown } | null)?.state === 'stop') this.silence();
        },
        { name: 'audio:transport' },
      ),
    );
    this.syncTimer = setInterval(() => void this.sync(), this.settings.clock.syncIntervalMs);
    if (this.state === 'starting') this.state = 'ok';
    this.logger.info({ ...this.info, state: this.state }, 'audio adapter started');
  }

  stop(): Promise<void> {
    this.stopPromise ??= (async () => {
      this.state = 'stopping';
      for (const u of this.unsubscribe.splice(0)) u();
      clearInterval(this.syncTimer);
      clearTimeout(this.retryTimer);
      this.engine?.silence();
      this.engine = undefined;
      await Promise.all([this.device?.close(), this.fallback?.close()]);
      this.state = 'stopped';
    })();
    return this.stopPromise;
  }

  health(): PartHealth {
    const stats = this.totals.with(this.engine);
    const info = this.info;
    return {
      state: this.state,
      ...(this.reason === undefined ? {} : { reason: this.reason }),
      details: {
        sinkId: this.settings.sinkId,
        sink: info?.sink ?? null,
        isolation: info?.isolation ?? null,
        sampleRate: info?.sampleRate ?? null,
        latencyHint: this.settings.latencySeconds ?? this.settings.latencyHint,
        outputLatencyMs: info === undefined ? null : info.outputLatency * 1000,
        compensationMs: info === undefined ? null : this.compensation() * 1000,
        clock: this.mapping.snapshot(),
        ...this.counters,
        lateMaxMs: this.lateMaxMs,
        ...stats,
      },
    };
  }

  /** Silence now (panic, transport stop). */
  silence(): void {
    this.counters.panics++;
    this.engine?.silence();
  }

  /** Seconds a voice is started ahead of `at`: the limiter's delay and the device's output latency. */
  private compensation(): number {
    return this.info === undefined ? 0 : this.info.bandLatency + this.info.outputLatency;
  }

  private readonly onPlay = (m: AnyMessage): void => {
    this.counters.received++;
    const decoded = decodePlay(m);
    if (typeof decoded === 'string') {
      this.counters.invalid++;
      this.log.warn(`invalid:${m.type}`, { type: m.type, from: m.from }, decoded);
      return;
    }
    const engine = this.engine;
    if (engine === undefined || !this.mapping.ready) {
      this.counters.notReady++;
      return;
    }
    if (decoded.at === undefined) {
      this.counters.immediate++;
      engine.play(decoded.event, 0);
      return;
    }
    const when = this.mapping.toAudio(decoded.at) - this.compensation();
    const now = this.mapping.toAudio(this.timeline.now());
    if (when < now) {
      this.counters.late++;
      this.lateMaxMs = Math.max(this.lateMaxMs, (now - when) * 1000);
      engine.play(decoded.event, 0);
      return;
    }
    this.counters.scheduled++;
    engine.play(decoded.event, when);
  };

  /** What an engine on `sinkId` is opened with. */
  private engineOptions(sinkId: string): EngineOptions {
    const s = this.settings;
    return {
      sinkId,
      latencyHint: s.latencySeconds ?? s.latencyHint,
      band: {
        masterGain: s.masterGain,
        instruments: s.instruments,
        otherChannels: s.otherChannels,
        seed: s.seed,
        maxVoices: s.maxVoices,
      },
    };
  }

  /** The engine for a sink, in this process or a child (config `isolation`). */
  private engineFor(sinkId: string): AudioEngine {
    const s = this.settings;
    const options = this.engineOptions(sinkId);
    const inline = s.isolation === 'inline' || (s.isolation === 'auto' && sinkId === 'none');
    if (inline) return new LocalEngine(options);
    return new ChildEngine(options, this.logger, this.options.child);
  }

  /** Opens `engine`, primes the clock mapping on it, and makes it the one played. */
  private async use(engine: AudioEngine): Promise<void> {
    const info = await engine.open();
    // A new audio clock: a new mapping, primed before it replaces the one the current engine plays by.
    const mapping = this.newMapping();
    for (let i = 0; i < PRIME_SAMPLES; i++) {
      mapping.add(await engine.sample(() => this.timeline.now()));
      // 1..4 ms apart, so the readings fall at every phase of the clock's 2.67 ms steps.
      await new Promise((resolve) => setTimeout(resolve, 1 + (i % 4)));
    }
    mapping.settle();
    engine.onFailure = (reason) => void this.failed(engine, reason);
    if (this.engine !== undefined) this.retire(this.engine);
    this.engine = engine;
    this.clockMapping = mapping;
    this.info = info;
  }

  /** Plays on the `none` sink in this process (created once per run), and retries the device. */
  private async fallBack(reason: string): Promise<void> {
    this.reason = `${reason}; playing on the none sink`;
    this.state = 'degraded';
    const retries = this.canRetry() ? `, the device retried every ${this.settings.retryMs} ms` : '';
    this.logger.warn(
      { code: 'PFM_ERR_AUDIO_DEVICE', sinkId: this.settings.sinkId },
      `${reason}. Playing on the 'none' sink: the audio clock runs, nothing is heard${retries}`,
    );
    if (this.fallback === undefined) {
      this.fallback = new LocalEngine(this.engineOptions('none'));
      await this.use(this.fallback);
    } else {
      await this.fallback.resume();
      await this.use(this.fallback);
    }
    this.scheduleRetry();
  }

  /** Retrying opens a new context each time: only in a child process, whose exit frees it. */
  private canRetry(): boolean {
    const s = this.settings;
    return s.retryMs > 0 && s.isolation !== 'inline' && s.sinkId !== 'none';
  }

  private scheduleRetry(): void {
    if (!this.canRetry() || this.stopPromise !== undefined) return;
    this.retryTimer = setTimeout(() => void this.retry(), this.settings.retryMs);
  }

  private async retry(): Promise<void> {
    const device = this.engineFor(this.settings.sinkId);
    try {
      await device.open();
    } catch (err) {
      this.counters.retries++;
      this.logger.debug({ err: (err as Error).message }, 'audio output still unavailable');
      await device.close();
      this.scheduleRetry();
      return;
    }
    if (this.stopPromise !== undefined) {
      await device.close();
      return;
    }
    try {
      await this.use(device);
    } catch (err) {
      // It opened but its clock could not be read: not usable, retried like a missing device.
      this.counters.retries++;
      this.logger.debug({ err: (err as Error).message }, 'audio output opened but its clock cannot be read');
      await device.close();
      this.scheduleRetry();
      return;
    }
    this.device = device;
    await this.fallback?.suspend();
    this.state = 'ok';
    this.reason = undefined;
    this.logger.info({ sinkId: this.settings.sinkId }, 'audio output back');
  }

  /** The engine in use failed (its process exited): fall back, or fail. */
  private async failed(engine: AudioEngine, reason: string): Promise<void> {
    if (engine !== this.engine || this.stopPromise !== undefined) return;
    this.retire(engine);
    this.engine = undefined;
    await engine.close();
    if (this.settings.onMissingDevice === 'fail') {
      this.state = 'failed';
      this.reason = reason;
      this.logger.error({ code: 'PFM_ERR_AUDIO_DEVICE' }, reason);
      return;
    }
    try {
      await this.fallBack(reason);
    } catch (err) {
      this.state = 'failed';
      this.reason = new AudioDeviceError('none', (err as Error).message).message;
      this.logger.error({ code: 'PFM_ERR_AUDIO_DEVICE' }, this.reason);
    }
  }

  /** Silences an engine leaving service and keeps its totals. */
  private retire(engine: AudioEngine): void {
    engine.silence();
    this.totals.retire(engine);
  }

  private newMapping(): ClockMapping {
    const { syncIntervalMs, windowMs, slewMs, stepMs } = this.settings.clock;
    return new ClockMapping({ windowMs, stepMs, slewMs: Math.max(slewMs, 2 * syncIntervalMs) });
  }

  /** One clock reading into the mapping. */
  private async sync(): Promise<void> {
    const engine = this.engine;
    if (engine === undefined || this.syncing) return;
    this.syncing = true;
    try {
      const s = await engine.sample(() => this.timeline.now());
      if (engine === this.engine) this.mapping.add(s);
    } catch (err) {
      this.counters.syncErrors++;
      this.log.warn('sync', { err: (err as Error).message }, 'audio clock reading failed');
    } finally {
      this.syncing = false;
    }
  }
}
