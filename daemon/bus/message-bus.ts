/**
 * The priority message bus (DESIGN.md, "The bus contract"; issue #2).
 *
 * Four FIFO lanes, one per priority; the dispatch loop always takes the oldest message of the most
 * urgent non-empty lane, so a CRITICAL message queued behind 100,000 LOW ones is next. Handlers are
 * called synchronously (a promise they return only gets a rejection handler), in time slices that end
 * with `setImmediate`, so sockets and timers are served between slices however long the queue. A
 * CRITICAL message published outside dispatch also gets a slice of its own as a microtask, right after
 * the task that published it (see `urgentSlice`).
 *
 * Accounting: every published message ends up in exactly one of delivered, refused (at `publish`, the
 * caller gets the error), evicted (by a more urgent one, when the queue is full), coalesced (replaced by
 * a newer message of the same coalescing key), discarded (by a stop without drain, or a drain past its
 * deadline) or still pending: `published = delivered + refused + evicted + coalesced + discarded +
 * pending` at every moment.
 *
 * Clock reads cost ~80 ns on this VM (PERFORMANCE-NOTES.md), so the loop reads the clock once per
 * `timingEvery` handler calls, not per call: time slices, slow-handler detection and the delivery-latency
 * sample are all taken at those reads. With `timingEvery: 1` every handler call is timed on its own.
 */
import { BusFullError, BusInvalidMessageError, BusInvalidOptionError, BusStoppedError } from '../errors.js';
import { BusEventEmitter, type BusEvents } from './bus-events.js';
import { type BusStats, buildStats, type PriorityCounters } from './bus-stats.js';
import { type CoalesceRule, CoalesceTable } from './coalesce.js';
import { Fifo } from './fifo.js';
import { LatencyWindow } from './latency-window.js';
import {
  type AnyMessage,
  BROADCAST,
  DEFAULT_PRIORITY,
  type Message,
  PRIORITY_NAMES,
  type Priority,
  type PublishInput,
} from './messages.js';
import { type BusLogger, RateLimitedLog, silentLogger } from './rate-limited-log.js';
import { type Handler, Router, type SubscribeOptions, type Subscriber } from './router.js';

/** Options of a {@link MessageBus}. Every one has a default suited to live use. */
export interface MessageBusOptions {
  /** Most messages queued at once, all lanes together. Default 100,000. */
  maxQueueSize?: number;
  /** Longest stretch of dispatching before yielding to the event loop, in ms. Default 1. */
  sliceMs?: number;
  /** A handler call longer than this is reported as slow, in ms. Default 2. */
  slowHandlerMs?: number;
  /** Handler calls between two clock reads in the dispatch loop. Default 32; 1 times every call. */
  timingEvery?: number;
  /** Publishes that share one clock read for their timestamps (see `stamp`). Default 32; 1 = exact. */
  clockReuse?: number;
  /** Publish cost is measured on one publish in this many. Default 256; 1 measures every publish. */
  publishCostSampleEvery?: number;
  /** Sliding window of the latency percentiles, in ms. Default 10,000. */
  statsWindowMs?: number;
  /** Coalescing rules by message type (never for discrete types such as notes and beats). */
  coalesce?: Readonly<Record<string, CoalesceRule>>;
  /** Default deadline of `stop({ drain: true })`, in ms. Default 5,000. */
  stopTimeoutMs?: number;
  /** Least interval between two warnings of the same kind, in ms. Default 1,000. */
  logIntervalMs?: number;
  /**
   * Called with every latency sample the bus takes (the same samples as the stats), e.g. to feed
   * Prometheus histograms. Must be cheap: it runs inside the dispatch loop.
   */
  observer?: SampleObserver;
  /** The bus clock, in ms. Default {@link systemClock}; tests inject a virtual one. */
  clock?: () => number;
  /** Where warnings go (a pino child logger). Default: nowhere. */
  logger?: BusLogger;
}

/** Receives the bus's latency samples, in ms. */
export interface SampleObserver {
  deliveryLatencyMs?(ms: number): void;
  publishCostMs?(ms: number): void;
}

/** Options of `stop`. */
export interface StopOptions {
  /** Deliver what is queued before stopping (default), or discard it. */
  drain?: boolean;
  /** Deadline of the drain, in ms; what is still queued then is discarded. */
  timeoutMs?: number;
}

/** What `stop` did with the queue. */
export interface StopReport {
  /** Messages delivered between the call to stop and its end. */
  drained: number;
  /** Messages discarded (no drain, a drain past its deadline, or a bus never started). */
  discarded: number;
  /** Discarded messages by priority (index = priority). */
  discardedByPriority: number[];
  /** True when a drain ran out of time. */
  timedOut: boolean;
}

/** A bus's lifecycle state. */
export type BusState = 'idle' | 'running' | 'stopping' | 'stopped';

/** The default bus clock: `performance.now()` offset to the Unix epoch, so one clock serves both
 * measuring and scheduling (PERFORMANCE-NOTES.md: never mix it with `process.hrtime`). */
const origin = performance.timeOrigin;
export const systemClock = (): number => origin + performance.now();

/** A settled promise: `RESOLVED.then(f)` queues `f` as a microtask without the AsyncResource that
 * `queueMicrotask` builds each call (measured: tens of µs when the path is cold). */
const RESOLVED = Promise.resolve();

const newCounters = (): PriorityCounters => [0, 0, 0, 0];

function positiveInt(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) {
    throw new BusInvalidOptionError(`${name} must be an integer >= 1, got ${String(value)}`);
  }
  return value;
}

function positiveNumber(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) {
    throw new BusInvalidOptionError(`${name} must be a number > 0, got ${String(value)}`);
  }
  return value;
}

/** The priority message bus. */
export class MessageBus {
  private readonly lanes: Fifo<AnyMessage>[] = [new Fifo(), new Fifo(), new Fifo(), new Fifo()];
  private readonly router = new Router();
  private readonly events = new BusEventEmitter();
  private readonly coalesce: CoalesceTable | null;
  private readonly clock: () => number;
  private readonly log: RateLimitedLog;
  private readonly logger: BusLogger;
  private readonly observer: SampleObserver | undefined;

  private readonly maxQueueSize: number;
  private readonly sliceMs: number;
  private readonly slowHandlerMs: number;
  private readonly timingEvery: number;
  private readonly publishCostSampleEvery: number;
  private readonly stopTimeoutMs: number;
  private readonly clockReuse: number;

  private readonly published = newCounters();
  private readonly delivered = newCounters();
  private readonly refused = newCounters();
  private readonly evicted = newCounters();
  private readonly coalesced = newCounters();
  private readonly discarded = newCounters();
  private invalid = 0;
  private pending = 0;
  private handlerCalls = 0;
  private handlerErrors = 0;
  private slowHandlers = 0;
  private unrouted = 0;

  private readonly deliveryLatency: LatencyWindow;
  private readonly publishCost: LatencyWindow;
  private costCountdown: number;

  private seq = 0;
  private state: BusState = 'idle';
  /** False from the call to stop on: publish refuses. */
  private accepting = true;
  /** A dispatch slice is queued (setImmediate) or running. */
  private scheduled = false;
  /** A microtask slice for the CRITICAL lane is queued (see urgentSlice). */
  private urgentQueued = false;
  /** An urgent slice ran since the last regular slice: no other until then (async handlers that
   * publish CRITICAL from a continuation would otherwise chain microtasks and starve I/O). */
  private urgentRan = false;
  /** A slice is running (handlers are being called). */
  private inSlice = false;
  /** The last clock read shared by publish timestamps, and how many more publishes may use it. */
  private clockNow = 0;
  private clockUses = 0;
  /** Subscribers called since the last clock read, for slow-handler attribution. */
  private readonly blockSubs: Subscriber[] = [];
  private stopPromise: Promise<StopReport> | undefined;
  private onQueueEmpty: (() => void) | undefined;

  constructor(options: MessageBusOptions = {}) {
    this.maxQueueSize = positiveInt('maxQueueSize', options.maxQueueSize, 100_000);
    this.sliceMs = positiveNumber('sliceMs', options.sliceMs, 1);
    this.slowHandlerMs = positiveNumber('slowHandlerMs', options.slowHandlerMs, 2);
    this.timingEvery = positiveInt('timingEvery', options.timingEvery, 32);
    this.publishCostSampleEvery = positiveInt('publishCostSampleEvery', options.publishCostSampleEvery, 256);
    this.clockReuse = positiveInt('clockReuse', options.clockReuse, 32);
    this.stopTimeoutMs = positiveNumber('stopTimeoutMs', options.stopTimeoutMs, 5_000);
    const windowMs = positiveNumber('statsWindowMs', options.statsWindowMs, 10_000);
    const logIntervalMs = positiveNumber('logIntervalMs', options.logIntervalMs, 1_000);
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    this.observer = options.observer;
    this.log = new RateLimitedLog(this.logger, logIntervalMs, this.clock);
    this.coalesce = options.coalesce ? new CoalesceTable(options.coalesce) : null;
    const now = this.clock();
    this.deliveryLatency = new LatencyWindow(windowMs, now);
    this.publishCost = new LatencyWindow(windowMs, now);
    this.costCountdown = this.publishCostSampleEvery;
  }

  /** The lifecycle state. */
  get status(): BusState {
    return this.state;
  }

  /** Starts dispatching. Messages published before start are kept and dispatched now. */
  async start(): Promise<void> {
    if (this.state === 'running') return;
    if (this.state !== 'idle') throw new BusStoppedError('(start)');
    this.state = 'running';
    this.schedule();
  }

  /**
   * Stops the bus; from the call on, `publish` refuses with PFM_ERR_BUS_STOPPED. By default the queue
   * is drained first, up to `timeoutMs`; without drain, or past the deadline, what is left is discarded
   * and reported. A bus that never started discards its queue. Idempotent: a second call returns the
   * same promise.
   */
  stop(options: StopOptions = {}): Promise<StopReport> {
    if (this.stopPromise !== undefined) return this.stopPromise;
    const drain = options.drain ?? true;
    const timeoutMs = positiveNumber('timeoutMs', options.timeoutMs, this.stopTimeoutMs);
    const wasRunning = this.state === 'running';
    const deliveredBefore = this.total(this.delivered);
    this.state = 'stopping';
    this.accepting = false;
    this.stopPromise = new Promise<StopReport>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = (timedOut: boolean): void => {
        if (timer !== undefined) clearTimeout(timer);
        this.onQueueEmpty = undefined;
        const byPriority = this.discardAll();
        this.state = 'stopped';
        const report: StopReport = {
          drained: this.total(this.delivered) - deliveredBefore,
          discarded: byPriority.reduce((a, b) => a + b, 0),
          discardedByPriority: byPriority,
          timedOut,
        };
        if (report.discarded > 0) {
          this.events.emit('discarded', { count: report.discarded, byPriority });
          this.logger.warn({ ...report, drain }, 'bus stopped with messages discarded');
        }
        resolve(report);
      };
      if (!drain || !wasRunning || this.pending === 0) return finish(false);
      this.onQueueEmpty = () => finish(false);
      timer = setTimeout(() => finish(true), timeoutMs);
      this.schedule();
    });
    return this.stopPromise;
  }

  /**
   * Queues a message and returns it with `id` and `timestamp` filled in. Synchronous, never blocks.
   * Throws PFM_ERR_BUS_INVALID_MESSAGE for a malformed message, PFM_ERR_BUS_STOPPED after stop, and
   * PFM_ERR_BUS_FULL when the queue is full and holds nothing less urgent to evict.
   */
  publish<T extends string>(input: PublishInput<T>): Message<T> {
    // Kept small on purpose: V8 inlines it into the caller, and since `input` goes no further than
    // these field reads, escape analysis removes the caller's object literal altogether.
    const type = input.type;
    let priority = input.priority;
    if (priority === undefined)
      priority = (DEFAULT_PRIORITY as Readonly<Record<string, Priority>>)[type] ?? 2;
    const from = input.from ?? 'anonymous';
    const to = input.to ?? BROADCAST;
    const at = input.at;
    if (
      typeof type !== 'string' ||
      type === '' ||
      (priority !== 0 && priority !== 1 && priority !== 2 && priority !== 3) ||
      typeof to !== 'string' ||
      to === '' ||
      typeof from !== 'string' ||
      (at !== undefined && !Number.isFinite(at))
    ) {
      throw this.invalidMessage(type, priority, to, from, at);
    }
    return this.enqueue(type, from, to, priority, input.payload, at) as Message<T>;
  }

  /** Stamps, counts and queues a validated message (see publish). */
  private enqueue(
    type: string,
    from: string,
    to: string,
    priority: Priority,
    payload: unknown,
    at: number | undefined,
  ): AnyMessage {
    const sampled = --this.costCountdown === 0;
    const t0 = sampled ? this.clock() : 0;
    this.published[priority]++;
    if (!this.accepting) {
      this.refused[priority]++;
      throw new BusStoppedError(type);
    }
    const message: AnyMessage = {
      id: ++this.seq,
      type,
      from,
      to,
      priority,
      payload,
      timestamp: sampled ? t0 : this.stamp(),
      at,
    };
    if (this.coalesce === null || !this.coalesce.replace(message, this.lanes[priority]!, this.coalesced)) {
      if (this.pending >= this.maxQueueSize && !this.evictFor(message)) {
        this.refused[priority]++;
        throw new BusFullError(this.maxQueueSize, PRIORITY_NAMES[priority], type);
      }
      const slot = this.lanes[priority]!.push(message);
      this.pending++;
      if (this.coalesce !== null) this.coalesce.remember(message, slot);
      if (!this.scheduled && this.state === 'running') this.schedule();
      if (
        priority === 0 &&
        !this.urgentQueued &&
        !this.urgentRan &&
        !this.inSlice &&
        this.state === 'running'
      ) {
        this.urgentQueued = true;
        RESOLVED.then(this.urgentSlice);
      }
    }
    if (sampled) this.samplePublishCost(t0);
    return message;
  }

  private samplePublishCost(t0: number): void {
    this.costCountdown = this.publishCostSampleEvery;
    const cost = this.clock() - t0;
    this.publishCost.recordMs(cost);
    if (this.observer?.publishCostMs !== undefined) this.observer.publishCostMs(cost);
  }

  /**
   * A publish timestamp. A clock read costs ~80 ns here, so one read serves up to `clockReuse`
   * publishes, but only while a dispatch slice is pending or running: the event loop does not idle
   * then (libuv polls with a zero timeout while an immediate is queued), and every slice ends the reuse.
   * A timestamp is therefore never later than the true publish time, and at most `clockReuse`
   * publishes (or one dispatch timing block, for handlers that publish) earlier; delivery latencies
   * computed from it are upper bounds.
   */
  private stamp(): number {
    if (this.scheduled && --this.clockUses > 0) return this.clockNow;
    this.clockUses = this.clockReuse;
    this.clockNow = this.clock();
    return this.clockNow;
  }

  /**
   * Subscribes to one type, or to every type with `'*'`. Returns the unsubscribe function (safe to
   * call during dispatch, and more than once).
   */
  subscribe(type: '*', handler: Handler<AnyMessage>, options?: SubscribeOptions): () => boolean;
  subscribe<T extends string>(
    type: T,
    handler: Handler<Message<T>>,
    options?: SubscribeOptions,
  ): () => boolean;
  subscribe(type: string, handler: Handler<AnyMessage>, options: SubscribeOptions = {}): () => boolean {
    if (typeof type !== 'string' || type.length === 0) {
      throw new BusInvalidOptionError(`subscribe: type must be a non-empty string or '*'`);
    }
    if (typeof handler !== 'function')
      throw new BusInvalidOptionError('subscribe: handler must be a function');
    const minPriority = options.minPriority ?? 3;
    if (!(minPriority === 0 || minPriority === 1 || minPriority === 2 || minPriority === 3)) {
      throw new BusInvalidOptionError(`subscribe: minPriority must be 0..3, got ${String(minPriority)}`);
    }
    if (options.agent !== undefined && (typeof options.agent !== 'string' || options.agent === BROADCAST)) {
      throw new BusInvalidOptionError(`subscribe: agent must be a string other than "${BROADCAST}"`);
    }
    const sub = this.router.add(type, handler, minPriority, options.agent, options.name);
    return () => this.router.remove(sub);
  }

  /** Listens to the bus's own events (evictions, handler errors, slow handlers, discards). */
  on<E extends keyof BusEvents>(event: E, listener: (e: BusEvents[E]) => void): () => void {
    return this.events.on(event, listener);
  }

  /** Counters, queue depths and latency percentiles. */
  getStats(): BusStats {
    return buildStats({
      state: this.state,
      maxQueueSize: this.maxQueueSize,
      published: this.published,
      delivered: this.delivered,
      refused: this.refused,
      evicted: this.evicted,
      coalesced: this.coalesced,
      discarded: this.discarded,
      depth: this.lanes.map((l) => l.length),
      invalid: this.invalid,
      handlerCalls: this.handlerCalls,
      handlerErrors: this.handlerErrors,
      slowHandlers: this.slowHandlers,
      unrouted: this.unrouted,
      subscribers: this.router.infos(),
      publishCost: this.publishCost.summary(),
      deliveryLatency: this.deliveryLatency.summary(),
    });
  }

  /** Counts a malformed message and builds the error naming what is wrong with it. */
  private invalidMessage(type: unknown, priority: unknown, to: unknown, from: unknown, at: unknown): Error {
    let reason = 'at must be a finite time in ms';
    if (typeof type !== 'string' || type.length === 0) reason = 'type must be a non-empty string';
    else if (!(priority === 0 || priority === 1 || priority === 2 || priority === 3)) {
      reason = `priority must be 0 (CRITICAL) .. 3 (LOW), got ${String(priority)}`;
    } else if (typeof to !== 'string' || to.length === 0) reason = 'to must be an agent id or "broadcast"';
    else if (typeof from !== 'string') reason = 'from must be a string';
    else if (typeof at !== 'number') reason = `at must be a finite time in ms, got ${typeof at}`;
    this.invalid++;
    return new BusInvalidMessageError(`${reason} (type ${JSON.stringify(String(type))})`);
  }

  /** Makes room for `incoming` by evicting the oldest message of the least urgent lane below it. */
  private evictFor(incoming: AnyMessage): boolean {
    for (let p = 3; p > incoming.priority; p--) {
      const victim = this.lanes[p]!.shift();
      if (victim === undefined) continue;
      this.pending--;
      this.evicted[p]!++;
      this.events.emit('evicted', { message: victim, by: incoming });
      this.log.warn(
        `evict:${p}`,
        {
          code: 'PFM_ERR_BUS_FULL',
          evictedId: victim.id,
          evictedType: victim.type,
          priority: PRIORITY_NAMES[p],
        },
        'bus queue full: evicted a less urgent message',
      );
      return true;
    }
    return false;
  }

  private discardAll(): number[] {
    const byPriority = newCounters();
    for (let p = 0; p < 4; p++) {
      const n = this.lanes[p]!.clear().length;
      byPriority[p] = n;
      this.discarded[p]! += n;
      this.pending -= n;
    }
    return byPriority;
  }

  private total(counters: PriorityCounters): number {
    return counters[0] + counters[1] + counters[2] + counters[3];
  }

  private schedule(): void {
    if (this.scheduled || this.pending === 0) return;
    this.scheduled = true;
    setImmediate(this.dispatchSlice);
  }

  /** One time slice of dispatch; see the file comment for how time is read. */
  private readonly dispatchSlice = (): void => {
    if (this.state !== 'running' && this.state !== 'stopping') {
      this.scheduled = false;
      return;
    }
    this.urgentRan = false;
    this.runSlice(false);
    this.scheduled = false;
    if (this.pending > 0) this.schedule();
    else if (this.onQueueEmpty !== undefined) this.onQueueEmpty();
  };

  /**
   * The CRITICAL lane's own slice, queued as a microtask when a CRITICAL message is published outside
   * dispatch: it runs as soon as the publishing task (a timer, a socket callback) returns, instead of
   * after the rest of the event-loop turn. It takes CRITICAL messages only, for one slice at most, and
   * at most once between two regular slices, so I/O cannot be starved: anything left, or published
   * later in the same turn, waits for the regular slice.
   */
  private readonly urgentSlice = (): void => {
    this.urgentQueued = false;
    if ((this.state !== 'running' && this.state !== 'stopping') || this.lanes[0]!.length === 0) return;
    this.urgentRan = true;
    this.runSlice(true);
    // A regular slice always follows (even on an empty queue): it delivers what is left, clears
    // urgentRan for the next turn, and ends a drain.
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.dispatchSlice);
    }
  };

  /** Dispatches for up to one slice: every lane, or the CRITICAL lane only (`urgentOnly`). */
  private runSlice(urgentOnly: boolean): void {
    this.inSlice = true;
    const clock = this.clock;
    const lanes = this.lanes;
    const timingEvery = this.timingEvery;
    let now = clock();
    this.deliveryLatency.tick(now);
    this.publishCost.tick(now);
    this.clockNow = now;
    this.clockUses = this.clockReuse;
    const sliceEnd = now + this.sliceMs;
    let blockStart = now;
    let budget = timingEvery;
    let sample = true;
    let yieldNow = false;
    let blockCount = 0;
    const blockSubs = this.blockSubs;
    const urgent = lanes[0]!;
    let lastId = 0;
    while (!yieldNow && (urgentOnly ? urgent.length > 0 : this.pending > 0)) {
      // pending > 0, so some lane holds a message: take the most urgent lane's oldest.
      let p = 0;
      while (lanes[p]!.length === 0) p++;
      const message = lanes[p]!.shift() as AnyMessage;
      this.pending--;
      this.delivered[p]!++;
      if (sample) {
        const latency = now - message.timestamp;
        this.deliveryLatency.recordMs(latency);
        if (this.observer?.deliveryLatencyMs !== undefined) this.observer.deliveryLatencyMs(latency);
        sample = false;
      }
      const subs = this.router.route(message);
      let called = 0;
      for (let i = 0; i < subs.length; i++) {
        const sub = subs[i]!;
        // admits is -1 once unsubscribed (during this dispatch, say): skipped like a priority filter.
        if (message.priority > sub.admits) continue;
        called++;
        sub.calls++;
        blockSubs[blockCount++] = sub;
        try {
          const result = sub.handler(message);
          if (
            result !== undefined &&
            result !== null &&
            typeof (result as PromiseLike<unknown>).then === 'function'
          ) {
            (result as PromiseLike<unknown>).then(undefined, (err: unknown) =>
              this.handlerFailed(sub, message, err),
            );
          }
        } catch (err) {
          this.handlerFailed(sub, message, err);
        }
        if (--budget === 0) {
          const t = clock();
          if (t - blockStart >= this.slowHandlerMs) this.slowBlock(t - blockStart, blockCount, message.id);
          blockStart = now = this.clockNow = t;
          this.clockUses = this.clockReuse;
          budget = timingEvery;
          blockCount = 0;
          sample = true;
          if (t >= sliceEnd) yieldNow = true;
        }
      }
      this.handlerCalls += called;
      if (called === 0) {
        this.unrouted++;
        if (--budget === 0) {
          const t = clock();
          blockStart = now = this.clockNow = t;
          this.clockUses = this.clockReuse;
          budget = timingEvery;
          sample = true;
          if (t >= sliceEnd) yieldNow = true;
        }
      }
      lastId = message.id;
    }
    if (blockCount > 0) {
      const t = clock();
      if (t - blockStart >= this.slowHandlerMs) this.slowBlock(t - blockStart, blockCount, lastId);
    }
    this.blockSubs.length = 0;
    // The next publish reads the clock afresh: the loop may idle before the next slice.
    this.clockUses = 0;
    this.inSlice = false;
  }

  private slowBlock(elapsedMs: number, count: number, messageId: number): void {
    const distinct = [...new Set(this.blockSubs.slice(0, count))];
    this.slowHandlers++;
    for (const s of distinct) s.slow++;
    const names = distinct.map((s) => s.name);
    this.events.emit('slowHandler', { elapsedMs, subscribers: names, calls: count, messageId });
    this.log.warn(
      `slow:${names.join(',')}`,
      {
        event: 'slow_handler',
        elapsedMs: Math.round(elapsedMs * 1000) / 1000,
        subscribers: names,
        calls: count,
        messageId,
      },
      `handler ran longer than the ${this.slowHandlerMs} ms budget`,
    );
  }

  private handlerFailed(sub: Subscriber, message: AnyMessage, err: unknown): void {
    sub.errors++;
    this.handlerErrors++;
    const error = err instanceof Error ? err : new Error(String(err));
    this.events.emit('handlerError', { error, message, subscriber: sub.name });
    this.log.error(
      `handler:${sub.id}`,
      {
        code: 'PFM_ERR_BUS_HANDLER',
        subscriber: sub.name,
        messageId: message.id,
        type: message.type,
        err: { message: error.message, code: (error as { code?: unknown }).code, stack: error.stack },
      },
      'bus handler failed',
    );
  }
}
