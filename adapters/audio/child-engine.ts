/**
 * An audio engine in a child process (engine-host.ts), so that whatever the audio stack prints on
 * stdout (cpal's JACK probe: `Failed to open client … libjack.so.0`, see engine.ts) lands in a pipe the
 * adapter reads and logs as JSON, never on the daemon's stdout. It also keeps a native crash of the
 * audio stack, and the memory a context leaks when closed (~185 KB), out of the daemon: a retry is a
 * new process. And the host runs a major GC now and then (gc-pacer.ts), which bounds the nodes every
 * voice leaves in the render graph; the pause is the child's, not the daemon's bus's.
 *
 * Protocol (Node IPC, JSON): the parent sends `open`, `time`, `play`, `silence`, `suspend`, `resume`,
 * `close`; the child answers `opened` / `error`, `time` (the audio clock and its figures, the process's
 * own included), `done` (suspend, resume), `closed`. The bus-to-audio clock mapping stays in the parent:
 * `time` is read across the round trip, and the pair carries it.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { BusLogger } from '../../daemon/bus/index.js';
import { AudioDeviceError } from '../../daemon/kernel/errors.js';
import { ChildLines } from './child-lines.js';
import type { ClockSample } from './clock-mapping.js';
import {
  type AudioEngine,
  type EngineInfo,
  type EngineOptions,
  type EngineStats,
  NO_STATS,
} from './engine.js';
import type { PlayEvent } from './events.js';
import { DEFAULT_GC_PACING, type GcPacing } from './gc-pacer.js';

/** Parent → child. */
export type HostRequest =
  | { op: 'open'; options: EngineOptions; gc: GcPacing | false }
  | { op: 'time'; id: number }
  | { op: 'play'; event: PlayEvent; when: number }
  | { op: 'silence' }
  | { op: 'suspend'; id: number }
  | { op: 'resume'; id: number }
  | { op: 'close' };

/** Child → parent. `gc`: whether the host collects (`unavailable`: it runs without `--expose-gc`). */
export type HostReply =
  | { op: 'opened'; info: EngineInfo; gc: 'on' | 'off' | 'unavailable' }
  | { op: 'error'; message: string; device: boolean }
  | { op: 'time'; id: number; audioTime: number; stats: EngineStats }
  | { op: 'done'; id: number; error?: string }
  | { op: 'closed' };

/** A reply to a request with an id. */
type Answer = Extract<HostReply, { op: 'time' | 'done' }>;

/** Where the host script is and how to start Node for it. */
export interface ChildEngineOptions {
  /** The host script; default engine-host.js next to this module (the build). */
  hostScript?: URL;
  /**
   * Node flags of the child, after `--expose-gc` (tests add a TypeScript loader; `--no-expose-gc`
   * takes the GC away). Default none.
   */
  execArgv?: string[];
  /** How long `open` may take. Default 10 s. */
  openTimeoutMs?: number;
  /**
   * When the child runs a major GC ({@link DEFAULT_GC_PACING}); `false`: never (the bench's baseline,
   * to measure what the GC bounds).
   */
  gc?: GcPacing | false;
}

const SAMPLE_TIMEOUT_MS = 1000;
/** How long a suspend or resume may take. */
const CONTROL_TIMEOUT_MS = 3000;
/**
 * Messages handed to the IPC channel and not yet written to the child, at most: beyond it a play is
 * dropped and counted (a flood must not queue up in this process's memory either).
 */
const MAX_UNSENT = 2000;
const CLOSE_TIMEOUT_MS = 3000;

export class ChildEngine implements AudioEngine {
  onFailure: (reason: string) => void = () => {};
  private child: ChildProcess | undefined;
  private closing: Promise<void> | undefined;
  private exited: Promise<void> | undefined;
  private opened = false;
  private lastStats: EngineStats = { ...NO_STATS };
  private nextId = 1;
  private unsent = 0;
  /** Plays dropped because the IPC channel was backed up. */
  private ipcDropped = 0;
  private readonly pending = new Map<number, (reply: Answer | Error) => void>();
  private output: ChildLines | undefined;
  private onOpenReply: ((reply: HostReply) => void) | undefined;

  constructor(
    private readonly options: EngineOptions,
    private readonly logger: BusLogger,
    private readonly childOptions: ChildEngineOptions = {},
  ) {}

  /** The child's process id (tests, diagnostics). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  async open(): Promise<EngineInfo> {
    const script = this.childOptions.hostScript ?? new URL('./engine-host.js', import.meta.url);
    const path = fileURLToPath(script);
    if (!existsSync(path))
      throw new AudioDeviceError(
        this.options.sinkId,
        `the audio engine host ${path} is missing (run from the build)`,
      );
    const child = fork(path, [], {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      // The host's periodic major GC (gc-pacer.ts) needs the `gc` function.
      execArgv: ['--expose-gc', ...(this.childOptions.execArgv ?? [])],
      serialization: 'json',
    });
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    this.output = new ChildLines(child, (stream, line) =>
      this.logger.debug({ stream, line }, 'audio engine output'),
    );
    child.on('message', (m) => this.reply(m as HostReply));
    child.on('error', (err) => this.logger.warn({ err: err.message }, 'audio engine process error'));
    child.once('exit', (code, signal) => this.exit(code, signal));
    const reply = await new Promise<HostReply>((resolve) => {
      const timer = setTimeout(
        () => resolve({ op: 'error', message: 'the audio engine did not open in time', device: false }),
        this.childOptions.openTimeoutMs ?? 10_000,
      );
      this.onOpenReply = (r) => {
        clearTimeout(timer);
        resolve(r);
      };
      this.send({ op: 'open', options: this.options, gc: this.childOptions.gc ?? DEFAULT_GC_PACING });
    });
    this.onOpenReply = undefined;
    if (reply.op === 'opened') {
      this.opened = true;
      if (reply.gc === 'unavailable')
        this.logger.warn(
          { pid: child.pid },
          'the audio engine process runs without --expose-gc: finished voices are not collected, its memory and render cost will grow',
        );
      return reply.info;
    }
    await this.close();
    const message = reply.op === 'error' ? reply.message : `unexpected reply ${reply.op}`;
    throw new AudioDeviceError(this.options.sinkId, message);
  }

  async sample(clock: () => number): Promise<ClockSample> {
    const t = await this.request((id) => ({ op: 'time', id }), SAMPLE_TIMEOUT_MS, clock);
    if (t.answer.op !== 'time') throw new Error(`unexpected reply ${t.answer.op} to a clock reading`);
    this.lastStats = t.answer.stats;
    return { busTime: t.after, audioTime: t.answer.audioTime, rttMs: t.after - t.before };
  }

  async suspend(): Promise<void> {
    await this.control('suspend');
  }

  async resume(): Promise<void> {
    await this.control('resume');
  }

  play(event: PlayEvent, when: number): void {
    if (this.unsent >= MAX_UNSENT) {
      this.ipcDropped++;
      return;
    }
    this.send({ op: 'play', event, when });
  }

  silence(): void {
    this.send({ op: 'silence' });
  }

  /** The figures of the last clock reading (they travel with it), and what the IPC channel dropped. */
  stats(): EngineStats {
    return { ...this.lastStats, dropped: this.lastStats.dropped + this.ipcDropped };
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      const child = this.child;
      if (child === undefined || this.exited === undefined) return;
      if (child.exitCode === null && child.signalCode === null) {
        this.send({ op: 'close' });
        const timer = setTimeout(() => child.kill('SIGKILL'), CLOSE_TIMEOUT_MS);
        await this.exited;
        clearTimeout(timer);
      }
    })();
    return this.closing;
  }

  private async control(op: 'suspend' | 'resume'): Promise<void> {
    const { answer: r } = await this.request((id) => ({ op, id }), CONTROL_TIMEOUT_MS);
    if (r.op === 'done' && r.error !== undefined)
      throw new Error(`the audio engine could not ${op}: ${r.error}`);
  }

  /**
   * Sends the request `make` builds for a fresh id and resolves with its answer, and `clock` read right
   * before the request left and right when the answer came; rejects when there is no answer within
   * `timeoutMs` or the child exits.
   */
  private request(
    make: (id: number) => HostRequest,
    timeoutMs: number,
    clock: () => number = () => 0,
  ): Promise<{ answer: Answer; before: number; after: number }> {
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`the audio engine did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
      const before = clock();
      this.pending.set(id, (r) => {
        clearTimeout(timer);
        this.pending.delete(id);
        if (r instanceof Error) reject(r);
        else resolve({ answer: r, before, after: clock() });
      });
      if (!this.send(make(id))) {
        clearTimeout(timer);
        this.pending.delete(id);
        reject(new Error('the audio engine process is gone'));
      }
    });
  }

  private send(request: HostRequest): boolean {
    const child = this.child;
    if (child === undefined || !child.connected) return false;
    this.unsent++;
    child.send(request, () => {
      this.unsent--;
    });
    return true;
  }

  private reply(r: HostReply): void {
    if (r.op === 'time' || r.op === 'done') this.pending.get(r.id)?.(r);
    else if (r.op !== 'closed') this.onOpenReply?.(r);
  }

  private exit(code: number | null, signal: NodeJS.Signals | null): void {
    const how = signal === null ? `code ${code}` : `signal ${signal}`;
    for (const settle of [...this.pending.values()]) settle(new Error(`the audio engine exited (${how})`));
    if (this.onOpenReply !== undefined) {
      this.onOpenReply({
        op: 'error',
        message: `the audio engine exited (${how}): ${this.tail()}`,
        device: false,
      });
      return;
    }
    if (this.opened && this.closing === undefined)
      this.onFailure(`the audio engine process exited (${how}); last output: ${this.tail()}`);
  }

  private tail(): string {
    return this.output?.tail() ?? 'none';
  }
}
