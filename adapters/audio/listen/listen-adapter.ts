/**
 * The listening part (issue #9): an audio input (a microphone, a line in, or a WAV file played in real
 * time) analyzed in a process of its own (listen-host.ts), and what it hears published on the bus:
 * CRITICAL `pitch_detected` and `onset_detected`, HIGH `tempo_detected`, each `at` when its sound began.
 *
 * No input (none on the machine, a device not found, a file that cannot be read, the process gone):
 * the part is `degraded` with the reason, and the input is tried again after `listen.retryMs`, the wait
 * doubling up to a minute; the rest of the daemon runs on.
 *
 * Latency, "sound in → message on the bus": the message's publish time minus the time its sound entered
 * the input (`at`, for pitches and onsets; for a tempo, the time its last onset was decided), over the
 * last minute or two, in /health (`details.latencyMs`) and /metrics (`performia_listen_latency_seconds`).
 * It covers the analysis window, the block buffering, the analysis, the IPC hop and the publish; not
 * what the device and its driver buffer before the block reaches the process (the device's input
 * latency, a few ms; JACK reports it, cpal does not pass it on).
 */
import type { PerformiaConfig } from '../../../config/index.js';
import { type BusLogger, type MessageBus, RateLimitedLog } from '../../../daemon/bus/index.js';
import { AudioInputError } from '../../../daemon/kernel/errors.js';
import type { PartHealth } from '../../../daemon/kernel/part.js';
import { LatencyWindowMs } from './latency.js';
import { ListenChild, type ListenChildOptions, OpenFailure } from './listen-child.js';
import type { InputInfo, InputStats, ListenEvent, ListenOptions } from './protocol.js';

/** The `listen:` section of the config. */
export type ListenSettings = PerformiaConfig['listen'];

/** The longest wait between two tries of a missing input (unless `retryMs` is longer). */
const MAX_RETRY_MS = 60_000;
/** How long `start()` waits for the input before it resolves with the part still `starting`. */
const START_WAIT_MS = 4_000;
/** No new block for this long: the input has stopped (the process reports its blocks once a second). */
const STALL_MS = 3_000;
const WATCHDOG_MS = 1_000;

/** What the part counts. */
export interface ListenCounters {
  pitch: number;
  onset: number;
  tempo: number;
  /** Messages the bus refused (full queue, stopped). */
  refused: number;
  /** Times the input failed or could not be opened. */
  failures: number;
  /** Messages from the listening process that were not what the protocol says (dropped). */
  invalid: number;
}

export class ListenAdapter {
  readonly name = 'listen';
  readonly kind = 'adapter' as const;
  readonly reloadable = ['listen'] as const;
  readonly counters: ListenCounters = { pitch: 0, onset: 0, tempo: 0, refused: 0, failures: 0, invalid: 0 };
  /** Sound in → message published, ms, by event kind. */
  readonly latency = {
    pitch: new LatencyWindowMs(),
    onset: new LatencyWindowMs(),
    tempo: new LatencyWindowMs(),
  };
  /** Called with each latency measured (the metrics' histogram). */
  onLatency: (kind: ListenEvent['kind'], ms: number) => void = () => {};
  private state: PartHealth['state'] = 'idle';
  private reason: string | undefined;
  /** The child in use (opening or open); a child that is not this one any more is ignored and closed. */
  private child: ListenChild | undefined;
  private info: InputInfo | undefined;
  private input: InputStats | undefined;
  private ended = false;
  private retryTimer: NodeJS.Timeout | undefined;
  /** The wait of the pending retry, and the one after it. */
  private retryInMs: number | undefined;
  private retryMs: number;
  private stopped = false;
  /** The stall watchdog: blocks seen at the last stats, and when they last moved. */
  private watchdog: NodeJS.Timeout | undefined;
  private progress = { blocks: -1, at: 0 };
  /** The last reason warned of (a retry failing the same way logs at debug). */
  private warned: string | undefined;
  private readonly log: RateLimitedLog;

  constructor(
    private settings: ListenSettings,
    private readonly bus: MessageBus,
    private readonly logger: BusLogger,
    private readonly childOptions: ListenChildOptions = {},
  ) {
    this.retryMs = settings.retryMs;
    this.log = new RateLimitedLog(logger, 5_000, Date.now);
  }

  /**
   * Opens the input; resolves once it listens, once it is known missing (degraded, retried), or after
   * {@link START_WAIT_MS} while a slow machine is still opening it (`starting`, it goes on): a slow
   * input must not make the daemon's start deadline mark the part failed.
   */
  async start(): Promise<void> {
    this.stopped = false;
    this.state = 'starting';
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.open(),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, START_WAIT_MS);
      }),
    ]);
    clearTimeout(timer);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.state = 'stopping';
    this.cancelRetry();
    clearInterval(this.watchdog);
    this.watchdog = undefined;
    const child = this.child;
    this.child = undefined;
    await child?.close();
    this.state = 'stopped';
  }

  /** A reload: a changed `listen` section reopens the input with it (`enabled` waits for a restart). */
  async reconfigure(config: PerformiaConfig): Promise<readonly string[]> {
    const next = config.listen;
    if (JSON.stringify(next) === JSON.stringify(this.settings)) return [];
    const restart = next.enabled !== this.settings.enabled ? ['listen.enabled'] : [];
    this.settings = next;
    this.retryMs = next.retryMs;
    if (this.stopped || this.state === 'idle') return restart;
    this.cancelRetry();
    const old = this.child;
    this.child = undefined;
    await old?.close();
    if (!this.stopped && this.child === undefined) await this.open();
    return restart;
  }

  health(): PartHealth {
    const s = this.settings;
    const details: Record<string, unknown> = {
      source: s.file === '' ? 'device' : 'file',
      wanted: s.file === '' ? s.device : s.file,
      input: this.info ?? null,
      ended: this.ended,
      ...this.counters,
      latencyMs: {
        pitch: this.latency.pitch.summary(),
        onset: this.latency.onset.summary(),
        tempo: this.latency.tempo.summary(),
      },
      level: this.input === undefined ? null : { peakDb: this.input.peakDb },
      process: this.input ?? null,
      pid: this.child?.pid ?? null,
    };
    if (this.retryInMs !== undefined) details.retryInMs = this.retryInMs;
    return this.reason === undefined
      ? { state: this.state, details }
      : { state: this.state, reason: this.reason, details };
  }

  /** Whether the input is being listened to now (not missing, not a file that ended). */
  get listening(): boolean {
    return this.state === 'ok' && !this.ended;
  }

  private async open(): Promise<void> {
    const child: ListenChild = new ListenChild(
      {
        // Only the child in use speaks for the part; one being replaced or closed is ignored.
        events: (events) => {
          if (this.child === child) this.publish(events);
        },
        stats: (stats) => {
          if (this.child === child) this.stats(stats);
        },
        ended: () => {
          if (this.child === child) this.fileEnded();
        },
        failed: (reason) => this.failed(child, reason),
        invalid: (why) => this.invalid(why),
      },
      this.logger,
      this.childOptions,
    );
    this.child = child;
    this.ended = false;
    let info: InputInfo;
    try {
      info = await child.open(this.options());
    } catch (err) {
      // Replaced (a reload) or stopped while it opened: the one that replaced it speaks now.
      if (this.child !== child || this.stopped) return;
      this.child = undefined;
      this.missing(err instanceof OpenFailure ? err.message : (err as Error).message);
      return;
    }
    if (this.child !== child || this.stopped) {
      await child.close();
      return;
    }
    this.info = info;
    if (this.state === 'degraded') this.logger.info({ input: info }, 'audio input back');
    else this.logger.info({ input: info }, 'listening');
    this.state = 'ok';
    this.reason = undefined;
    this.warned = undefined;
    this.retryMs = this.settings.retryMs;
    this.progress = { blocks: -1, at: Date.now() };
    this.watchdog ??= setInterval(() => this.checkProgress(), WATCHDOG_MS).unref();
  }

  private options(): ListenOptions {
    const s = this.settings;
    return {
      device: s.device,
      file: s.file,
      loop: s.loop,
      channel: s.channel,
      blockFrames: s.blockFrames,
      // Every confident tempo estimate (each updateSeconds), with its beat: the conductor's phase
      // following needs it refreshed, not only when the tempo moves.
      analysis: { pitch: s.pitch, onset: s.onset, tempo: { ...s.tempo, everyUpdate: true } },
    };
  }

  private stats(stats: InputStats): void {
    this.input = stats;
    if (stats.blocks !== this.progress.blocks) this.progress = { blocks: stats.blocks, at: Date.now() };
  }

  /**
   * An input that stops delivering (a device unplugged, a JACK server gone, a hung process) says nothing:
   * no blocks for {@link STALL_MS} is a failure like any other (degraded, retried).
   */
  private checkProgress(): void {
    const child = this.child;
    if (child === undefined || this.state !== 'ok' || this.ended) return;
    if (Date.now() - this.progress.at > STALL_MS)
      this.failed(child, `no audio from the input for ${STALL_MS / 1000} s`);
  }

  /** The input is missing or failed: degraded, tried again later. */
  private missing(why: string): void {
    const input = this.settings.file === '' ? this.settings.device : this.settings.file;
    const err = new AudioInputError(input, why);
    this.counters.failures++;
    this.state = 'degraded';
    this.reason = err.message;
    this.info = undefined;
    this.input = undefined;
    // Once per reason: a missing microphone retried every minute all night is one warning, not 600.
    if (err.message !== this.warned)
      this.log.warn('missing', { code: err.code, retryInMs: this.retryMs }, err.message);
    else this.logger.debug({ code: err.code, retryInMs: this.retryMs }, err.message);
    this.warned = err.message;
    this.cancelRetry();
    const wait = this.retryMs;
    this.retryMs = Math.min(this.retryMs * 2, Math.max(MAX_RETRY_MS, this.settings.retryMs));
    this.retryInMs = wait;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.retryInMs = undefined;
      if (!this.stopped && this.child === undefined) void this.open();
    }, wait);
    // A retry timer alone does not keep the daemon running (its sockets and the API do).
    this.retryTimer.unref();
  }

  private cancelRetry(): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.retryInMs = undefined;
  }

  private failed(child: ListenChild, reason: string): void {
    if (this.child !== child || this.stopped) return;
    this.child = undefined;
    void child.close();
    this.missing(reason);
  }

  /** A message from the listening process that is not what the protocol says: counted, dropped. */
  private invalid(why: string): void {
    this.counters.invalid++;
    this.log.warn(
      'invalid',
      { code: 'PFM_ERR_AUDIO_INPUT' },
      `a message from the listening process was dropped: ${why}`,
    );
  }

  private fileEnded(): void {
    this.ended = true;
    this.logger.info({ file: this.settings.file }, 'the input file ended');
    const child = this.child;
    this.child = undefined;
    void child?.close();
  }

  private publish(events: ListenEvent[]): void {
    const s = this.settings.publish;
    for (const e of events) {
      if (e.kind === 'pitch' ? !s.pitch : e.kind === 'onset' ? !s.onset : !s.tempo) continue;
      try {
        const m =
          e.kind === 'pitch'
            ? this.bus.publish({
                type: 'pitch_detected',
                from: this.name,
                payload: {
                  hz: e.hz,
                  midi: e.midi,
                  note: e.note,
                  cents: e.cents,
                  confidence: e.confidence,
                  at: e.at,
                },
              })
            : e.kind === 'onset'
              ? this.bus.publish({
                  type: 'onset_detected',
                  from: this.name,
                  payload: { at: e.at, strength: e.strength },
                })
              : this.bus.publish({
                  type: 'tempo_detected',
                  from: this.name,
                  payload: { bpm: e.bpm, confidence: e.confidence, beat: e.at },
                });
        this.counters[e.kind]++;
        const ms = m.timestamp - (e.kind === 'tempo' ? e.detectedAt : e.at);
        this.latency[e.kind].record(ms, m.timestamp);
        this.onLatency(e.kind, ms);
      } catch (err) {
        this.counters.refused++;
        const code = (err as { code?: string }).code;
        this.log.warn(`bus:${code}`, { code, kind: e.kind }, (err as Error).message);
      }
    }
  }
}
