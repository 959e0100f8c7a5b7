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
import { BusFullError, BusInvalidMessageError, BusStoppedError } from '../kernel/errors.js';
import { BusEventEmitter, type BusEvents } from './bus-events.js';
import {
  type BusState,
  type MessageBusOptions,
  positiveInt,
  positiveNumber,
  type SampleObserver,
  type StopOptions,
  type StopReport,
  systemClock,
} from './bus-options.js';
import { type BusStats, buildStats, type PriorityCounters } from './bus-stats.js';
import { CoalesceTable } from './coalesce.js';
import { Fifo } from './fifo.js';
import { HandlerReports } from './handler-reports.js';
import { LatencyWindow } from './latency-window.js';
import { invalidMessageReason } from './message-checks.js';
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
import { checkSubscription, type Handler, Router, type SubscribeOptions, type Subscriber } from './router.js';

/** A settled promise: `RESOLVED.then(f)` queues `f` as a microtask without the AsyncResource that
 * `queueMicrotask` builds each call (measured: tens of µs when the path is cold). */
const RESOLVED = Promise.resolve();

const newCounters = (): PriorityCounters => [0, 0, 0, 0];

/** The priority message bus. */
export class MessageBus {
  private readonly lanes: Fifo<AnyMessage>[] = [new Fifo(), new Fifo(), new Fifo(), new Fifo()];
  private readonly router = new Router();
  private readonly events = new BusEventEmitter();
  private readonly reports: HandlerReports;
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
  private observerFailures = 0;
  private pending = 0;
  private handlerCalls = 0;
  private unrouted = 0;

  private readonly deliveryLatency: LatencyWindow;
  private readonly publishCost: LatencyWindow;
  private costCountdown: number;

  private seq = 0;
  private state: BusState = 'idle';
  /** False from the call to stop on: publish refuses. */
  private accepting = true;
  /** Accepting, and no coalescing: a publish may take the fast path of `enqueue`. */
  private plain: boolean;
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
    this.timingEvery = positiveInt('timingEvery', options.timingEvery, 64);
    this.publishCostSampleEvery = positiveInt('publishCostSampleEvery', options.publishCostSampleEvery, 256);
    this.clockReuse = positiveInt('clockReuse', options.clockReuse, 64);
    this.stopTimeoutMs = positiveNumber('stopTimeoutMs', options.stopTimeoutMs, 5_000);
    const windowMs = positiveNumber('statsWindowMs', options.statsWindowMs, 10_000);
    const logIntervalMs = positiveNumber('logIntervalMs', options.logIntervalMs, 1_000);
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    this.observer = options.observer;
    this.log = new RateLimitedLog(this.logger, logIntervalMs, this.clock);
    this.reports = new HandlerReports(this.events, this.log, this.slowHandlerMs);
    this.coalesce = options.coalesce ? new CoalesceTable(options.coalesce) : null;
    this.plain = this.coalesce === null;
    const now = this.clock();
    this.deliveryLatency = new LatencyWindow(windowMs, now);
    this.publishCost = new LatencyWindow(windowMs, now);
    this.costCountdown = this.publishCostSampleEvery;
  }

  /** Samples the stats observer threw on (logged; the messages went on). */
  get observerErrors(): number {
    return this.observerFailures;
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
    this.plain = false;
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

  /**
   * Stamps, counts and queues a validated message (see publish). The common case (no coalescing, room
   * in the queue, a slice already pending, not CRITICAL, not a sampled publish) takes a short path;
   * everything else goes through `enqueueGeneral`. Short, so that V8 keeps `publish` small enough to
   * inline into its callers (then the caller's `{ type, … }` object is never allocated).
   */
  private enqueue(
    type: string,
    from: string,
    to: string,
    priority: Priority,
    payload: unknown,
    at: number | undefined,
  ): AnyMessage {
    if (
      this.plain &&
      this.scheduled &&
      priority !== 0 &&
      this.costCountdown > 1 &&
      this.pending < this.maxQueueSize
    ) {
      this.costCountdown--;
      this.published[priority]++;
      const message: AnyMessage = {
        id: ++this.seq,
        type,
        from,
        to,
        priority,
        payload,
        timestamp: this.stamp(),
        at,
      };
      this.lanes[priority]!.push(message);
      this.pending++;
      return message;
    }
    return this.enqueueGeneral(type, from, to, priority, payload, at);
  }

  /** Stamps, counts and queues a validated message: every case (see enqueue). */
  private enqueueGeneral(
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

  /** Feeds a sample to the observer (Prometheus): a throwing observer is logged, never lets a message go. */
  private observe(sink: (ms: number) => void, ms: number): void {
    try {
      sink.call(this.observer, ms);
    } catch (err) {
      this.observerFailures++;
      this.log.error('observer', { err: (err as Error).message }, 'bus stats observer failed');
    }
  }

  private samplePublishCost(t0: number): void {
    this.costCountdown = this.publishCostSampleEvery;
    const cost = this.clock() - t0;
    this.publishCost.recordMs(cost);
    if (this.observer?.publishCostMs !== undefined) this.observe(this.observer.publishCostMs, cost);
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
    const minPriority = checkSubscription(type, handler, options);
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
      handlerErrors: this.reports.errors,
      slowHandlers: this.reports.slow,
      unrouted: this.unrouted,
      subscribers: this.router.infos(),
      publishCost: this.publishCost.summary(),
      deliveryLatency: this.deliveryLatency.summary(),
    });
  }

  /** Counts a malformed message and builds the error naming what is wrong with it. */
  private invalidMessage(type: unknown, priority: unknown, to: unknown, from: unknown, at: unknown): Error {
    this.invalid++;
    const reason = invalidMessageReason(type, priority, to, from, at);
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
    try {
      this.runSlice(false);
    } finally {
      // Handlers and observers cannot throw out of the loop; a bug in the bus could. Then the
      // error goes on as an uncaught exception, with the bus still consistent and scheduled.
      this.inSlice = false;
      this.scheduled = false;
      if (this.pending > 0) this.schedule();
      else if (this.onQueueEmpty !== undefined) this.onQueueEmpty();
    }
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
    try {
      this.runSlice(true);
    } catch (err) {
      // As from a regular slice: an uncaught exception (a promise reaction would make it a rejection).
      queueMicrotask(() => {
        throw err;
      });
    } finally {
      this.inSlice = false;
      // A regular slice always follows (even on an empty queue): it delivers what is left, clears
      // urgentRan for the next turn, and ends a drain.
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(this.dispatchSlice);
      }
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
        if (this.observer?.deliveryLatencyMs !== undefined)
          this.observe(this.observer.deliveryLatencyMs, latency);
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
              this.reports.failed(sub, message, err),
            );
          }
        } catch (err) {
          this.reports.failed(sub, message, err);
        }
        if (--budget === 0) {
          const t = clock();
          if (t - blockStart >= this.slowHandlerMs)
            this.reports.slowBlock(t - blockStart, blockSubs, blockCount, message.id);
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
      if (t - blockStart >= this.slowHandlerMs)
        this.reports.slowBlock(t - blockStart, blockSubs, blockCount, lastId);
    }
    this.blockSubs.length = 0;
    // The next publish reads the clock afresh: the loop may idle before the next slice.
    this.clockUses = 0;
    this.inSlice = false;
  }
}
