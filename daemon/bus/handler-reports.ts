/**
 * What the dispatch loop reports about handlers (issue #2, "Handler isolation"): a handler that threw
 * or rejected, and a timing block that ran past the slow-handler budget. Both are counted, emitted as
 * bus events and logged (rate-limited). Cold paths, kept out of message-bus.ts's hot loop.
 */
import type { BusEventEmitter } from './bus-events.js';
import type { AnyMessage } from './messages.js';
import type { RateLimitedLog } from './rate-limited-log.js';
import type { Subscriber } from './router.js';

export class HandlerReports {
  /** Handler calls that threw or rejected. */
  errors = 0;
  /** Timing blocks that ran past the budget. */
  slow = 0;

  constructor(
    private readonly events: BusEventEmitter,
    private readonly log: RateLimitedLog,
    private readonly slowHandlerMs: number,
  ) {}

  /** The first `count` subscribers of `called` together ran `elapsedMs`, over the budget. */
  slowBlock(elapsedMs: number, called: readonly Subscriber[], count: number, messageId: number): void {
    const distinct = [...new Set(called.slice(0, count))];
    this.slow++;
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

  /** `sub` threw `err` (or its promise rejected with it) on `message`. */
  failed(sub: Subscriber, message: AnyMessage, err: unknown): void {
    sub.errors++;
    this.errors++;
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
