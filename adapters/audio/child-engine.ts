/**
 * An audio engine in a child process (engine-host.ts), so that whatever the audio stack prints on
 * stdout (cpal's JACK probe: `Failed to open client … libjack.so.0`, see engine.ts) lands in a pipe the
 * adapter reads and logs as JSON, never on the daemon's stdout. It also keeps a native crash of the
 * audio stack, and the memory a context leaks when closed (~185 KB), out of the daemon: a retry is a
 * new process.
 *
 * Protocol (Node IPC, JSON): the parent sends `open`, `time`, `play`, `silence`, `close`; the child
 * answers `opened` / `error`, `time` (the audio clock and its figures), `closed`. The bus-to-audio clock
 * mapping stays in the parent: `time` is read across the round trip, and the pair carries it.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { BusLogger } from '../../daemon/bus/index.js';
import { AudioDeviceError } from '../../daemon/kernel/errors.js';
import type { ClockSample } from './clock-mapping.js';
import type { AudioEngine, EngineInfo, EngineOptions, EngineStats } from './engine.js';
import type { PlayEvent } from './events.js';

/** Parent → child. */
export type HostRequest =
  | { op: 'open'; options: EngineOptions }
  | { op: 'time'; id: number }
  | { op: 'play'; event: PlayEvent; when: number }
  | { op: 'silence' }
  | { op: 'close' };

/** Child → parent. */
export type HostReply =
  | { op: 'opened'; info: EngineInfo }
  | { op: 'error'; message: string; device: boolean }
  | { op: 'time'; id: number; audioTime: number; stats: EngineStats }
  | { op: 'closed' };

/** Where the host script is and how to start Node for it. */
export interface ChildEngineOptions {
  /** The host script; default engine-host.js next to this module (the build). */
  hostScript?: URL;
  /** Node flags of the child (tests add a TypeScript loader). Default none. */
  execArgv?: string[];
  /** How long `open` may take. Default 10 s. */
  openTimeoutMs?: number;
}

const SAMPLE_TIMEOUT_MS = 1000;
/**
 * Messages handed to the IPC channel and not yet written to the child, at most: beyond it a play is
 * dropped and counted (a flood must not queue up in this process's memory either).
 */
const MAX_UNSENT = 2000;
const CLOSE_TIMEOUT_MS = 3000;
/** Lines of the child's output kept to explain a failure. */
const KEEP_LINES = 20;

const EMPTY_STATS: EngineStats = { voices: 0, dropped: 0, unknownHits: 0, voicesActive: 0 };

export class ChildEngine implements AudioEngine {
  onFailure: (reason: string) => void = () => {};
  private child: ChildProcess | undefined;
  private closing: Promise<void> | undefined;
  private exited: Promise<void> | undefined;
  private opened = false;
  private lastStats: EngineStats = EMPTY_STATS;
  private nextId = 1;
  private unsent = 0;
  /** Plays dropped because the IPC channel was backed up. */
  private ipcDropped = 0;
  private readonly pending = new Map<
    number,
    (reply: { audioTime: number; stats: EngineStats } | Error) => void
  >();
  private readonly lines: string[] = [];
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
      execArgv: this.childOptions.execArgv ?? [],
      serialization: 'json',
    });
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    this.readLines(child);
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
      this.send({ op: 'open', options: this.options });
    });
    this.onOpenReply = undefined;
    if (reply.op === 'opened') {
      this.opened = true;
      return reply.info;
    }
    await this.close();
    const message = reply.op === 'error' ? reply.message : `unexpected reply ${reply.op}`;
    throw new AudioDeviceError(this.options.sinkId, message);
  }

  sample(clock: () => number): Promise<ClockSample> {
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`the audio engine did not answer within ${SAMPLE_TIMEOUT_MS} ms`));
      }, SAMPLE_TIMEOUT_MS);
      const before = clock();
      this.pending.set(id, (r) => {
        clearTimeout(timer);
        this.pending.delete(id);
        if (r instanceof Error) {
          reject(r);
          return;
        }
        const after = clock();
        this.lastStats = r.stats;
        resolve({ busTime: after, audioTime: r.audioTime, rttMs: after - before });
      });
      if (!this.send({ op: 'time', id })) {
        clearTimeout(timer);
        this.pending.delete(id);
        reject(new Error('the audio engine process is gone'));
      }
    });
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
    if (r.op === 'time') this.pending.get(r.id)?.({ audioTime: r.audioTime, stats: r.stats });
    else if (r.op !== 'closed') this.onOpenReply?.(r);
  }

  /** The child's stdout and stderr, line by line, into the log (debug: cpal and ALSA talk a lot). */
  private readLines(child: ChildProcess): void {
    for (const [stream, source] of [
      ['stdout', child.stdout],
      ['stderr', child.stderr],
    ] as const) {
      let rest = '';
      source?.setEncoding('utf8');
      source?.on('data', (chunk: string) => {
        const parts = (rest + chunk).split('\n');
        rest = parts.pop() ?? '';
        for (const line of parts) this.line(stream, line);
      });
      source?.on('end', () => {
        if (rest !== '') this.line(stream, rest);
      });
    }
  }

  private line(stream: 'stdout' | 'stderr', line: string): void {
    if (line.trim() === '') return;
    this.lines.push(line);
    if (this.lines.length > KEEP_LINES) this.lines.shift();
    this.logger.debug({ stream, line }, 'audio engine output');
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
    return this.lines.slice(-3).join(' | ') || 'none';
  }
}
