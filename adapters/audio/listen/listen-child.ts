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
import { epochNow } from './clock.js';
import type { InputInfo, InputStats, ListenEvent, ListenOptions, ListenReply } from './protocol.js';

/** How the host is started (tests add a TypeScript loader). */
export interface ListenChildOptions {
  /** The host script; default listen-host.js next to this module (the build). */
  hostScript?: URL;
  execArgv?: string[];
  /** How long `open` may take. Default 10 s. */
  openTimeoutMs?: number;
}

/** What the process reports after it opened. Times are on the bus clock (mapped here). */
export interface ListenHandlers {
  events(events: ListenEvent[], sentAt: number): void;
  stats(stats: InputStats): void;
  /** A file input ended (no loop). */
  ended(): void;
  /** The input failed or the process went away, with why; nothing more comes. */
  failed(reason: string): void;
  /** A message that is not what the protocol says (dropped). */
  invalid(why: string): void;
}

/** Clock readings when the input opens: the one with the shortest round trip gives the offset. */
const CLOCK_READINGS = 5;
const CLOCK_TIMEOUT_MS = 1000;
const KINDS = new Set(['pitch', 'onset', 'tempo']);

/** Why `e` is not a well-formed event, or undefined when it is. */
function eventProblem(e: unknown): string | undefined {
  if (typeof e !== 'object' || e === null) return 'an event that is not an object';
  const x = e as Record<string, unknown>;
  if (!KINDS.has(x.kind as string)) return `an event of unknown kind ${JSON.stringify(x.kind)}`;
  const numbers =
    x.kind === 'pitch'
      ? ['hz', 'midi', 'cents', 'confidence']
      : x.kind === 'onset'
        ? ['strength']
        : ['bpm', 'confidence'];
  for (const k of ['at', 'detectedAt', ...numbers])
    if (typeof x[k] !== 'number' || !Number.isFinite(x[k]))
      return `a ${x.kind} event whose ${k} is not a number`;
  if (x.kind === 'pitch' && typeof x.note !== 'string') return 'a pitch event without a note name';
  return undefined;
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
  /** The host's clock minus the bus clock, ms (see {@link clockOffset}). */
  private offsetMs = 0;
  private onPong: ((pong: Extract<ListenReply, { op: 'pong' }>) => void) | undefined;
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
    child.on('message', (m) => this.reply(m));
    // An IPC or spawn error: the exit that follows (or the open's timeout) reports the failure.
    child.on('error', (err) =>
      this.logger.warn({ code: 'PFM_ERR_AUDIO_INPUT', err: err.message }, 'listening process error'),
    );
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
      try {
        this.offsetMs = await this.clockOffset();
      } catch (err) {
        await this.close();
        throw new OpenFailure((err as Error).message, false);
      }
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

  /**
   * The host's clock minus the bus clock, ms: {@link CLOCK_READINGS} pings, the one with the shortest
   * round trip taken, its reading set against the middle of the trip (off by at most half of it).
   */
  private async clockOffset(): Promise<number> {
    let best = { rtt: Number.POSITIVE_INFINITY, offset: 0 };
    for (let i = 0; i < CLOCK_READINGS; i++) {
      const id = i + 1;
      const before = epochNow();
      const hostNow = await new Promise<number>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error('the listening process did not answer a clock reading')),
          CLOCK_TIMEOUT_MS,
        );
        this.onPong = (pong) => {
          if (pong.id !== id) return;
          clearTimeout(timer);
          resolve(pong.now);
        };
        this.child?.send({ op: 'ping', id });
      });
      const after = epochNow();
      if (after - before < best.rtt) best = { rtt: after - before, offset: hostNow - (before + after) / 2 };
    }
    this.onPong = undefined;
    return best.offset;
  }

  private reply(raw: unknown): void {
    // What arrives over IPC is checked before it is trusted: a malformed message is counted and
    // dropped, never thrown inside the channel's handler (that would take the daemon down).
    try {
      this.handle(raw as ListenReply);
    } catch (err) {
      this.handlers.invalid((err as Error).message);
    }
  }

  private handle(r: ListenReply): void {
    if (typeof r !== 'object' || r === null) throw new Error('a message that is not an object');
    if (r.op === 'pong') {
      this.onPong?.(r);
      return;
    }
    if (this.onOpen !== undefined) {
      if (r.op === 'opened' || r.op === 'error') this.onOpen(r);
      return;
    }
    if (this.closing !== undefined) return;
    switch (r.op) {
      case 'events':
        this.events(r.events, r.sentAt);
        return;
      case 'stats':
        this.handlers.stats(r.stats);
        return;
      case 'ended':
        this.handlers.ended();
        return;
      case 'error':
        this.handlers.failed(String(r.message));
        return;
      case 'opened':
      case 'closed':
        return;
      default:
        throw new Error(`a message of unknown op ${JSON.stringify((r as { op?: unknown }).op)}`);
    }
  }

  /** The well-formed events, their times moved to the bus clock. */
  private events(events: unknown, sentAt: unknown): void {
    if (!Array.isArray(events)) throw new Error('an events message without a list of events');
    const good: ListenEvent[] = [];
    for (const e of events) {
      const problem = eventProblem(e);
      if (problem !== undefined) {
        this.handlers.invalid(problem);
        continue;
      }
      const event = e as ListenEvent;
      good.push({ ...event, at: event.at - this.offsetMs, detectedAt: event.detectedAt - this.offsetMs });
    }
    if (good.length > 0) this.handlers.events(good, Number(sentAt) - this.offsetMs);
  }

  private exit(code: number | null, signal: NodeJS.Signals | null): void {
    const how = signal === null ? `code ${code}` : `signal ${signal}`;
    const tail = this.output?.tail() ?? 'none';
    if (this.onOpen !== undefined) {
      this.onOpen({ op: 'error', message: `the listening process exited (${how}): ${tail}`, device: false });
      return;
    }
    if (this.opened && this.closing === undefined)
      this.handlers.failed(`the listening process exited (${how}); last output: ${tail}`);
  }
}
