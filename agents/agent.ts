/**
 * The base of every agent (issue #8, "Agents"): an id, its config section, its subscriptions declared
 * in one place, publishing through the bus as itself, time through the injected {@link Timeline}, and
 * a lifecycle the API can drive at runtime (start, stop, start again).
 *
 * A handler that throws or rejects is the agent's own failure: it is counted and logged here (rate
 * limited), not rethrown, so the bus never sees it and the agent keeps handling the next message. A
 * publish the bus refuses (stopped, full) is counted the same way.
 */
import {
  type AnyMessage,
  type BusLogger,
  type Message,
  type MessageBus,
  type Priority,
  type PublishInput,
  RateLimitedLog,
  silentLogger,
} from '../daemon/bus/index.js';
import type { Part, PartHealth, PartState } from '../daemon/kernel/part.js';
import type { Timeline } from '../daemon/kernel/scheduler.js';

/** What an agent is given: the bus, the daemon's timeline (a virtual one in tests), a logger. */
export interface AgentContext {
  bus: MessageBus;
  scheduler: Timeline;
  logger?: BusLogger;
}

/** Options of one subscription. */
export interface AgentSubscribeOptions {
  /** Least urgent priority delivered. Default LOW (everything). */
  minPriority?: Priority;
  /**
   * Subscribe as an observer of nobody in particular: with `'*'` it then sees every message, also the
   * ones directed to other agents (analytics). Default false: the subscription belongs to the agent,
   * which then also receives the messages directed to its id.
   */
  observe?: boolean;
}

/** A subscription as an agent declares it: `[type, handler, options]`. */
export type Subscription = readonly [
  type: string,
  handler: (message: AnyMessage) => unknown,
  options?: AgentSubscribeOptions,
];

/** Declares a subscription with the handler typed by the message type: `on('beat_event', (m) => …)`. */
export function on<T extends string>(
  type: T,
  handler: (message: Message<T>) => unknown,
  options: AgentSubscribeOptions = {},
): Subscription {
  // The bus delivers only messages of `type` to this handler (or anything, for '*').
  return [type, handler as unknown as (message: AnyMessage) => unknown, options];
}

/** An agent's counters, as its health shows them. */
export interface AgentCounters {
  /** Messages its handlers were called with. */
  handled: number;
  /** Messages it published. */
  published: number;
  /** Handler failures, refused publishes, failed timeline callbacks. */
  errors: number;
}

/** Least interval between two log lines of the same kind of failure, ms. */
const LOG_INTERVAL_MS = 1000;

/** The base class of the band's agents. See the file comment. */
export abstract class Agent<C = unknown> implements Part {
  readonly kind = 'agent' as const;
  protected readonly bus: MessageBus;
  protected readonly timeline: Timeline;
  protected readonly logger: BusLogger;
  private readonly log: RateLimitedLog;
  private unsubscribers: (() => boolean)[] = [];
  private readonly scheduled = new Set<() => void>();
  private state: PartState = 'idle';
  private problem: string | undefined;
  private lastError: string | undefined;
  private readonly counters: AgentCounters = { handled: 0, published: 0, errors: 0 };

  /**
   * @param id the agent's id: its name as a part, `from` of what it publishes, `to` that reaches it.
   * @param config its config section.
   */
  constructor(
    readonly id: string,
    protected config: C,
    context: AgentContext,
  ) {
    this.bus = context.bus;
    this.timeline = context.scheduler;
    this.logger = context.logger ?? silentLogger;
    this.log = new RateLimitedLog(this.logger, LOG_INTERVAL_MS, () => this.timeline.now());
  }

  /** The part's name: the agent's id. */
  get name(): string {
    return this.id;
  }

  /** True between start and stop. */
  get running(): boolean {
    return this.state === 'ok' || this.state === 'degraded';
  }

  /** The agent's subscriptions, all in one place. Read at every start. */
  protected abstract subscriptions(): readonly Subscription[];

  /** Called at the end of start, once subscribed (schedule first events here). */
  protected onStart(): void {}

  /** Called at stop, after unsubscribing and cancelling the scheduled callbacks. */
  protected onStop(): void {}

  /** The agent's own figures for its health details. */
  protected details(): Record<string, unknown> {
    return {};
  }

  /** Subscribes and runs `onStart`. Starting a running agent does nothing; a stopped one starts again. */
  async start(): Promise<void> {
    if (this.running) return;
    this.state = 'starting';
    for (const [type, handler, options = {}] of this.subscriptions()) {
      const unsubscribe = this.bus.subscribe(type, (message: AnyMessage) => this.handle(handler, message), {
        name: `${this.id}:${type}`,
        ...(options.minPriority === undefined ? {} : { minPriority: options.minPriority }),
        ...(options.observe === true ? {} : { agent: this.id }),
      });
      this.unsubscribers.push(unsubscribe);
    }
    this.state = this.problem === undefined ? 'ok' : 'degraded';
    try {
      this.onStart();
    } catch (err) {
      await this.stop();
      this.state = 'failed';
      this.problem = describe(err);
      throw err;
    }
  }

  /** Unsubscribes, cancels every scheduled callback, runs `onStop`. Idempotent. */
  async stop(): Promise<void> {
    if (!this.running && this.state !== 'starting') return;
    this.state = 'stopping';
    for (const unsubscribe of this.unsubscribers) unsubscribe();
    this.unsubscribers = [];
    for (const cancel of this.scheduled) cancel();
    this.scheduled.clear();
    try {
      this.onStop();
    } finally {
      this.state = 'stopped';
    }
  }

  /** State, counters and the agent's own figures. */
  health(): PartHealth {
    const details = { ...this.counters, lastError: this.lastError ?? null, ...this.details() };
    return this.problem === undefined || this.state === 'stopped'
      ? { state: this.state, details }
      : { state: this.state, reason: this.problem, details };
  }

  /** Marks the agent degraded with a reason (or ok again with `undefined`) while it runs. */
  protected setProblem(reason: string | undefined): void {
    this.problem = reason;
    if (this.running) this.state = reason === undefined ? 'ok' : 'degraded';
  }

  /** Publishes as this agent. A refusal is counted and logged; returns the message, or undefined. */
  protected publish<T extends string>(input: Omit<PublishInput<T>, 'from'>): Message<T> | undefined {
    try {
      const message = this.bus.publish({ ...input, from: this.id } as PublishInput<T>);
      this.counters.published++;
      return message;
    } catch (err) {
      this.fail(err, `publish ${input.type}`);
      return undefined;
    }
  }

  /**
   * Runs `run` at `time` on the timeline; stop cancels it. Returns its cancel function, or undefined
   * when the timeline refused (counted as an error).
   */
  protected schedule(time: number, run: () => void): (() => void) | undefined {
    let cancelEntry: (() => void) | undefined;
    const cancel = (): void => {
      this.scheduled.delete(cancel);
      cancelEntry?.();
    };
    cancelEntry = this.timeline.at(time, () => {
      this.scheduled.delete(cancel);
      try {
        run();
      } catch (err) {
        this.fail(err, 'scheduled callback');
      }
    });
    if (cancelEntry === undefined) {
      this.fail(new Error(`the timeline refused an entry at ${time}`), 'schedule');
      return undefined;
    }
    this.scheduled.add(cancel);
    return cancel;
  }

  /** Counts and logs a failure of the agent's own (a handler, a publish, a callback). */
  protected fail(err: unknown, what: string): void {
    this.counters.errors++;
    this.lastError = `${what}: ${describe(err)}`;
    this.log.warn(
      `${this.id}:${what}`,
      { agent: this.id, err: describe(err) },
      `agent ${this.id}: ${what} failed`,
    );
  }

  private handle(handler: (message: AnyMessage) => unknown, message: AnyMessage): void {
    this.counters.handled++;
    try {
      const result = handler(message);
      if (result instanceof Promise) {
        result.catch((err: unknown) => this.fail(err, `handler of ${message.type}`));
      }
    } catch (err) {
      this.fail(err, `handler of ${message.type}`);
    }
  }
}

/** An error's message, or the value as text. */
function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
