/**
 * The listening process, seen from the daemon (listen-host.ts is the other side; protocol.ts the
 * messages). Its stdout and stderr are pipes read line by line into the debug log, so what the audio
 * stack prints never reaches the daemon's stdout; the last lines explain a failure.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { BusLogger } from '../../../daemon/bus/index.js';
import { ChildLines } from '../child-lines.js';
import type { InputInfo, InputStats, ListenEvent, ListenOptions, ListenReply } from './protocol.js';

/** How the host is started (tests add a TypeScript loader). */
export interface ListenChildOptions {
  /** The host script; default listen-host.js next to this module (the build). */
  hostScript?: URL;
  execArgv?: string[];
  /** How long `open` may take. Default 10 s. */
  openTimeoutMs?: number;
}

/** What the process reports after it opened. */
export interface ListenHandlers {
  events(events: ListenEvent[], sentAt: number): void;
  stats(stats: InputStats): void;
  /** A file input ended (no loop). */
  ended(): void;
  /** The input failed or the process went away, with why; nothing more comes. */
  failed(reason: string, device: boolean): void;
}

/** Why an open failed, and whether the input (not the process) is the cause. */
export class OpenFailure extends Error {
  constructor(
    message: string,
    readonly device: boolean,
  ) {
    super(message);
  }
}

const CLOSE_TIMEOUT_MS = 3000;

export class ListenChild {
  private child: ChildProcess | undefined;
  private exited: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  private onOpen: ((r: ListenReply) => void) | undefined;
  private opened = false;
  private output: ChildLines | undefined;

  constructor(
    private readonly handlers: ListenHandlers,
    private readonly logger: BusLogger,
    private readonly childOptions: ListenChildOptions = {},
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts the process and opens the input; rejects with an {@link OpenFailure}. */
  async open(options: ListenOptions): Promise<InputInfo> {
    const path = fileURLToPath(this.childOptions.hostScript ?? new URL('./listen-host.js', import.meta.url));
    if (!existsSync(path))
      throw new OpenFailure(`the listening host ${path} is missing (run from the build)`, false);
    const child = fork(path, [], {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      execArgv: this.childOptions.execArgv ?? [],
      serialization: 'json',
    });
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    this.output = new ChildLines(child, (stream, line) =>
      this.logger.debug({ stream, line }, 'listening process output'),
    );
    child.on('message', (m) => this.reply(m as ListenReply));
    child.on('error', (err) => this.logger.warn({ err: err.message }, 'listening process error'));
    child.once('exit', (code, signal) => this.exit(code, signal));
    const first = await new Promise<ListenReply>((resolve) => {
      const timer = setTimeout(
        () => resolve({ op: 'error', message: 'the input did not open in time', device: false }),
        this.childOptions.openTimeoutMs ?? 10_000,
      );
      this.onOpen = (r) => {
        clearTimeout(timer);
        resolve(r);
      };
      child.send({ op: 'open', options });
    });
    this.onOpen = undefined;
    if (first.op === 'opened') {
      this.opened = true;
      return first.info;
    }
    await this.close();
    if (first.op === 'error') throw new OpenFailure(first.message, first.device);
    throw new OpenFailure(`unexpected reply ${first.op}`, false);
  }

  /** Closes the input and ends the process (killed if it does not end within 3 s). Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const child = this.child;
      if (child === undefined || this.exited === undefined) return;
      if (child.exitCode === null && child.signalCode === null) {
        if (child.connected) child.send({ op: 'close' });
        const timer = setTimeout(() => child.kill('SIGKILL'), CLOSE_TIMEOUT_MS);
        await this.exited;
        clearTimeout(timer);
      }
    })();
    return this.closing;
  }

  private reply(r: ListenReply): void {
    if (this.onOpen !== undefined) {
      if (r.op === 'opened' || r.op === 'error') this.onOpen(r);
      return;
    }
    if (this.closing !== undefined) return;
    switch (r.op) {
      case 'events':
        this.handlers.events(r.events, r.sentAt);
        return;
      case 'stats':
        this.handlers.stats(r.stats);
        return;
      case 'ended':
        this.handlers.ended();
        return;
      case 'error':
        this.handlers.failed(r.message, r.device);
        return;
    }
  }

  private exit(code: number | null, signal: NodeJS.Signals | null): void {
    const how = signal === null ? `code ${code}` : `signal ${signal}`;
    const tail = this.output?.tail() ?? 'none';
    if (this.onOpen !== undefined) {
      this.onOpen({ op: 'error', message: `the listening process exited (${how}): ${tail}`, device: false });
      return;
    }
    if (this.opened && this.closing === undefined)
      this.handlers.failed(`the listening process exited (${how}); last output: ${tail}`, false);
  }
}
