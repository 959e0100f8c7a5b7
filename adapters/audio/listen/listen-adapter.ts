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

/** What the part counts. */
export interface ListenCounters {
  pitch: number;
  onset: number;
  tempo: number;
  /** Messages the bus refused (full queue, stopped). */
  refused: number;
  /** Times the input failed or could not be opened. */
  failures: number;
}

export class ListenAdapter {
  readonly name = 'listen';
  readonly kind = 'adapter' as const;
  readonly reloadable = ['listen'] as const;
  readonly counters: ListenCounters = { pitch: 0, onset: 0, tempo: 0, refused: 0, failures: 0 };
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
  private child: ListenChild | undefined;
  private info: InputInfo | undefined;
  private input: InputStats | undefined;
  private ended = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryMs: number;
  private stopped = false;
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

  /** Opens the input; resolves once it listens, or once it is known missing (degraded, retried). */
  async start(): Promise<void> {
    this.stopped = false;
    this.state = 'starting';
    await this.open();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.state = 'stopping';
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    await this.child?.close();
    this.child = undefined;
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
    clearTimeout(this.retryTimer);
    await this.child?.close();
    this.child = undefined;
    await this.open();
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
    if (this.retryTimer !== undefined) details.retryInMs = this.retryMs;
    return this.reason === undefined
      ? { state: this.state, details }
      : { state: this.state, reason: this.reason, details };
  }

  private async open(): Promise<void> {
    const child = new ListenChild(
      {
        events: (events) => this.publish(events),
        stats: (stats) => {
          this.input = stats;
        },
        ended: () => this.fileEnded(),
        failed: (reason, device) => this.failed(child, reason, device),
      },
      this.logger,
      this.childOptions,
    );
    this.child = child;
    this.ended = false;
    try {
      this.info = await child.open(this.options());
    } catch (err) {
      if (this.child === child) this.child = undefined;
      if (this.stopped) return;
      this.missing(err instanceof OpenFailure ? err.message : (err as Error).message);
      return;
    }
    if (this.stopped) {
      await child.close();
      return;
    }
    if (this.state === 'degraded') this.logger.info({ input: this.info }, 'audio input back');
    else this.logger.info({ input: this.info }, 'listening');
    this.state = 'ok';
    this.reason = undefined;
    this.warned = undefined;
    this.retryMs = this.settings.retryMs;
  }

  private options(): ListenOptions {
    const s = this.settings;
    return {
      device: s.device,
      file: s.file,
      loop: s.loop,
      channel: s.channel,
      blockFrames: s.blockFrames,
      analysis: { pitch: s.pitch, onset: s.onset, tempo: s.tempo },
    };
  }

  /** The input is missing or failed: degraded, tried again later. */
  private missing(why: string): void {
    const input = this.settings.file === '' ? this.settings.device : this.settings.file;
    const err = new AudioInputError(input, why);
    this.counters.failures++;
    this.state = 'degraded';
    this.reason = err.message;
    this.info = undefined;
    // Once per reason: a missing microphone retried every minute all night is one warning, not 600.
    if (err.message !== this.warned)
      this.log.warn('missing', { code: err.code, retryInMs: this.retryMs }, err.message);
    else this.logger.debug({ code: err.code, retryInMs: this.retryMs }, err.message);
    this.warned = err.message;
    const wait = this.retryMs;
    this.retryMs = Math.min(this.retryMs * 2, Math.max(MAX_RETRY_MS, this.settings.retryMs));
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (!this.stopped) void this.open();
    }, wait);
    // A retry timer alone does not keep the daemon running (its sockets and the API do).
    this.retryTimer.unref();
  }

  private failed(child: ListenChild, reason: string, _device: boolean): void {
    if (this.child !== child || this.stopped) return;
    this.child = undefined;
    void child.close();
    this.missing(reason);
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
