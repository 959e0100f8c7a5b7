/**
 * The audio adapter (issue #8, "Audio out"): `play_note`, `play_chord` and `play_drums` heard through
 * an audio output, each at its `at`, sample-accurately.
 *
 * - One audio context per run (an AudioContext leaks ~185 KB of native memory when created and closed):
 *   on the configured sink, in a child process (engine.ts says why: the device's stdout noise, and the
 *   periodic GC that bounds what every voice leaves behind), or in the daemon when
 *   `audio.isolation: inline` says so (tests, debugging). A device that cannot be opened is logged once,
 *   shown `degraded` in /health, and the band plays on the `none` sink (its clock runs, nothing is
 *   heard; one engine per run, kept suspended while the device plays) while the device is retried in
 *   fresh child processes — or the adapter fails, as `audio.onMissingDevice` says.
 * - Time: every `at` (bus clock, ms) goes through one {@link ClockMapping} to the audio clock, kept in
 *   step by reading both clocks every `clock.syncIntervalMs`. A voice is started early by the band's
 *   limiter delay and the device's output latency, so it leaves the device at `at`. A message without
 *   `at` plays at once; one whose time has passed plays at once and is counted late.
 * - `panic`, and `transport` stop: silence now, including what is scheduled.
 */
import { type AnyMessage, type BusLogger, type MessageBus, RateLimitedLog } from '../../daemon/bus/index.js';
import type { PartHealth } from '../../daemon/kernel/part.js';
import type { Timeline } from '../../daemon/kernel/scheduler.js';
import {
  type AudioAdapterOptions,
  type AudioCounters,
  type AudioSettings,
  deviceError,
  engineFor,
} from './audio-settings.js';
import { ClockMapping } from './clock-mapping.js';
import { type AudioEngine, type EngineInfo, EngineTotals } from './engine.js';
import { decodePlay } from './events.js';

export type { AudioAdapterOptions, AudioCounters, AudioSettings } from './audio-settings.js';

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
  /**
   * The `none` engine, made once per run at the first device failure, kept (suspended) after; made
   * again only if its process died.
   */
  private fallback: { engine: AudioEngine; info: EngineInfo } | undefined;
  private device: AudioEngine | undefined;
  private readonly unsubscribe: (() => boolean)[] = [];
  private syncTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private retrying = false;
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
    const wanted = this.newEngine(this.settings.sinkId);
    try {
      await this.use(wanted, await wanted.open());
      this.device = wanted;
    } catch (err) {
      await wanted.close();
      if (this.settings.onMissingDevice === 'fail' || this.settings.sinkId === 'none') {
        this.state = 'failed';
        this.reason = (err as Error).message;
        throw err;
      }
      try {
        await this.fallBack((err as Error).message);
      } catch (fallbackErr) {
        // Not even the `none` sink plays (its process cannot start): nothing to degrade to.
        const failure = deviceError(fallbackErr);
        this.state = 'failed';
        this.reason = failure.message;
        throw failure;
      }
    }
    if (this.stopPromise !== undefined) {
      // Stopped while the device was being opened: stop() ran before there was anything to close.
      await Promise.all([this.device?.close(), this.fallback?.engine.close()]);
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
      await Promise.all([this.device?.close(), this.fallback?.engine.close()]);
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
        // The engine process's memory, CPU and periodic GC pauses (gc-pacer.ts); null when inline.
        engineProcess: this.engine?.stats().process ?? null,
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

  /** The engine for a sink (config `isolation`). */
  private newEngine(sinkId: string): AudioEngine {
    return engineFor(this.settings, sinkId, this.logger, this.options.child);
  }

  /** Primes the clock mapping on `engine` (open, `info`), and makes it the one played. */
  private async use(engine: AudioEngine, info: EngineInfo): Promise<void> {
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

  /** Plays on the `none` sink (an engine made once per run), and retries the device. */
  private async fallBack(reason: string): Promise<void> {
    this.reason = `${reason}; playing on the none sink`;
    this.state = 'degraded';
    const retries = this.canRetry() ? `, the device retried every ${this.settings.retryMs} ms` : '';
    this.logger.warn(
      { code: 'PFM_ERR_AUDIO_DEVICE', sinkId: this.settings.sinkId },
      `${reason}. Playing on the 'none' sink: the audio clock runs, nothing is heard${retries}`,
    );
    await this.useFallback();
    this.scheduleRetry();
  }

  /** Plays on the kept fallback engine, resumed; on a new one at the first failure (or if it broke). */
  private async useFallback(): Promise<void> {
    const kept = this.fallback;
    if (kept !== undefined) {
      try {
        await kept.engine.resume();
        await this.use(kept.engine, kept.info);
        return;
      } catch (err) {
        // Its process died while it rested: a new one below (the old one's memory went with it).
        this.logger.debug({ err: (err as Error).message }, 'the none-sink fallback is gone: a new one');
        this.fallback = undefined;
        await kept.engine.close();
      }
    }
    const engine = this.newEngine('none');
    try {
      const info = await engine.open();
      this.fallback = { engine, info };
      await this.use(engine, info);
    } catch (err) {
      this.fallback = undefined;
      await engine.close();
      throw err;
    }
  }

  /** Retrying opens a new context each time: only in a child process, whose exit frees it. */
  private canRetry(): boolean {
    const s = this.settings;
    return s.retryMs > 0 && s.isolation !== 'inline' && s.sinkId !== 'none';
  }

  /** One retry pending or running at a time (the fallback failing while one is pending asks again). */
  private scheduleRetry(): void {
    if (!this.canRetry() || this.stopPromise !== undefined) return;
    if (this.retryTimer !== undefined || this.retrying) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.retrying = true;
      void this.retry().finally(() => {
        this.retrying = false;
        if (this.state !== 'ok') this.scheduleRetry();
      });
    }, this.settings.retryMs);
  }

  /** Opens the device in a fresh process; plays on it if it opened and its clock reads. */
  private async retry(): Promise<void> {
    const device = this.newEngine(this.settings.sinkId);
    let info: EngineInfo;
    try {
      info = await device.open();
    } catch (err) {
      this.counters.retries++;
      this.logger.debug({ err: (err as Error).message }, 'audio output still unavailable');
      await device.close();
      return;
    }
    if (this.stopPromise !== undefined) {
      await device.close();
      return;
    }
    try {
      await this.use(device, info);
    } catch (err) {
      // It opened but its clock could not be read: not usable, retried like a missing device.
      this.counters.retries++;
      this.logger.debug({ err: (err as Error).message }, 'audio output opened but its clock cannot be read');
      await device.close();
      return;
    }
    this.device = device;
    this.state = 'ok';
    this.reason = undefined;
    this.logger.info({ sinkId: this.settings.sinkId }, 'audio output back');
    await this.suspendFallback();
  }

  /** The fallback rests while the device plays; one that cannot is closed (a new one is made if needed). */
  private async suspendFallback(): Promise<void> {
    const kept = this.fallback;
    if (kept === undefined) return;
    try {
      await kept.engine.suspend();
    } catch (err) {
      this.logger.warn(
        { code: 'PFM_ERR_AUDIO_DEVICE', err: (err as Error).message },
        'the none-sink fallback could not be suspended: closed',
      );
      if (this.fallback === kept) this.fallback = undefined;
      await kept.engine.close();
    }
  }

  /**
   * An engine failed (its process exited). The one in use: fall back (to a new fallback if it was the
   * fallback), or fail. The fallback while it rested: dropped, a new one is made when needed.
   */
  private async failed(engine: AudioEngine, reason: string): Promise<void> {
    if (this.stopPromise !== undefined) return;
    if (this.fallback?.engine === engine) this.fallback = undefined;
    if (engine !== this.engine) {
      await engine.close();
      return;
    }
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
      this.reason = deviceError(err).message;
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
