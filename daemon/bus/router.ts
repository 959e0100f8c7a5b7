/**
 * Subscriptions and routing: which subscribers a message reaches (DESIGN.md, "The bus contract").
 *
 * - A broadcast reaches every subscriber of its type and every `'*'` subscriber.
 * - A directed message (`to: 'bass'`) reaches the subscribers registered for agent `bass` (of its type,
 *   or `'*'`), plus the `'*'` observers registered for no agent (analytics, recorders, the stream).
 *
 * Routes are computed once per (recipient, type) and cached; subscribe/unsubscribe clear the cache.
 * Lists are replaced, never mutated, so a dispatch in progress keeps a consistent list; an unsubscribed
 * subscriber is marked inactive at once and skipped by the dispatch loop.
 */
import { BusInvalidOptionError } from '../kernel/errors.js';
import type { AnyMessage, Priority } from './messages.js';
import { BROADCAST } from './messages.js';

/** What a handler may return: nothing, or a promise whose rejection the bus reports. */
export type Handler<M> = (message: M) => unknown;

/** Options of `subscribe`. */
export interface SubscribeOptions {
  /** Least urgent priority delivered: `Priority.HIGH` receives CRITICAL and HIGH only. Default LOW. */
  minPriority?: Priority;
  /** The agent this subscription belongs to: it then receives the messages directed to that agent. */
  agent?: string;
  /** A name for stats and logs. Default `<agent or observer>:<type>#<id>`. */
  name?: string;
}

/**
 * Checks `subscribe`'s arguments (they may come from untyped code) and returns the effective
 * minPriority; throws PFM_ERR_BUS_INVALID_OPTION naming what is wrong.
 */
export function checkSubscription(type: unknown, handler: unknown, options: SubscribeOptions): Priority {
  if (typeof type !== 'string' || type.length === 0) {
    throw new BusInvalidOptionError(`subscribe: type must be a non-empty string or '*'`);
  }
  if (typeof handler !== 'function') throw new BusInvalidOptionError('subscribe: handler must be a function');
  const minPriority = options.minPriority ?? 3;
  if (!(minPriority === 0 || minPriority === 1 || minPriority === 2 || minPriority === 3)) {
    throw new BusInvalidOptionError(`subscribe: minPriority must be 0..3, got ${String(minPriority)}`);
  }
  if (options.agent !== undefined && (typeof options.agent !== 'string' || options.agent === BROADCAST)) {
    throw new BusInvalidOptionError(`subscribe: agent must be a string other than "${BROADCAST}"`);
  }
  return minPriority;
}

/** A subscription as the dispatch loop sees it. */
export interface Subscriber {
  readonly id: number;
  readonly name: string;
  readonly type: string;
  readonly agent: string | undefined;
  readonly minPriority: Priority;
  readonly handler: Handler<AnyMessage>;
  active: boolean;
  /**
   * The least urgent priority the dispatch loop delivers to it: `minPriority` while subscribed, -1
   * once unsubscribed, so that one comparison covers both checks.
   */
  admits: number;
  calls: number;
  errors: number;
  slow: number;
}

/** A read-only view of a subscription, for stats and the API. */
export interface SubscriberInfo {
  id: number;
  name: string;
  type: string;
  agent: string | null;
  minPriority: Priority;
  calls: number;
  errors: number;
  slow: number;
}

/** Route lists are never mutated once built; not frozen, since V8 reads frozen arrays more slowly. */
const NONE: readonly Subscriber[] = [];
/** Distinct directed recipients cached at most; beyond it the cache starts over (wire-chosen names). */
const MAX_CACHED_RECIPIENTS = 1024;

export class Router {
  private subscribers: Subscriber[] = [];
  private nextId = 1;
  private broadcastRoutes = new Map<string, readonly Subscriber[]>();
  private directedRoutes = new Map<string, Map<string, readonly Subscriber[]>>();
  private lastType: string | undefined;
  private lastTo: string | undefined;
  private lastRoute: readonly Subscriber[] = NONE;

  add(
    type: string,
    handler: Handler<AnyMessage>,
    minPriority: Priority,
    agent?: string,
    name?: string,
  ): Subscriber {
    const id = this.nextId++;
    const sub: Subscriber = {
      id,
      name: name ?? `${agent ?? 'observer'}:${type}#${id}`,
      type,
      agent,
      minPriority,
      handler,
      active: true,
      admits: minPriority,
      calls: 0,
      errors: 0,
      slow: 0,
    };
    this.subscribers = [...this.subscribers, sub];
    this.invalidate();
    return sub;
  }

  remove(sub: Subscriber): boolean {
    if (!sub.active) return false;
    sub.active = false;
    sub.admits = -1;
    this.subscribers = this.subscribers.filter((s) => s !== sub);
    this.invalidate();
    return true;
  }

  get size(): number {
    return this.subscribers.length;
  }

  /** The subscribers `message` reaches, in subscription order (before the minPriority filter). */
  route(message: AnyMessage): readonly Subscriber[] {
    // Streams are mostly one type to one recipient: remember the last answer.
    if (message.type === this.lastType && message.to === this.lastTo) return this.lastRoute;
    const route = this.lookup(message);
    this.lastType = message.type;
    this.lastTo = message.to;
    this.lastRoute = route;
    return route;
  }

  private lookup(message: AnyMessage): readonly Subscriber[] {
    if (message.to === BROADCAST) {
      const cached = this.broadcastRoutes.get(message.type);
      if (cached !== undefined) return cached;
      const list = this.build((s) => s.type === '*' || s.type === message.type);
      this.broadcastRoutes.set(message.type, list);
      return list;
    }
    let byType = this.directedRoutes.get(message.to);
    if (byType === undefined) {
      if (this.directedRoutes.size >= MAX_CACHED_RECIPIENTS) this.directedRoutes.clear();
      byType = new Map();
      this.directedRoutes.set(message.to, byType);
    }
    const cached = byType.get(message.type);
    if (cached !== undefined) return cached;
    const to = message.to;
    const type = message.type;
    const list = this.build(
      (s) =>
        (s.agent === to && (s.type === '*' || s.type === type)) || (s.agent === undefined && s.type === '*'),
    );
    byType.set(type, list);
    return list;
  }

  infos(): SubscriberInfo[] {
    return this.subscribers.map(subscriberInfo);
  }

  private build(match: (s: Subscriber) => boolean): readonly Subscriber[] {
    const list = this.subscribers.filter(match);
    return list.length === 0 ? NONE : list;
  }

  private invalidate(): void {
    this.lastType = undefined;
    this.lastTo = undefined;
    this.lastRoute = NONE;
    this.broadcastRoutes = new Map();
    this.directedRoutes = new Map();
  }
}

/** A subscriber's public view. */
export function subscriberInfo(s: Subscriber): SubscriberInfo {
  return {
    id: s.id,
    name: s.name,
    type: s.type,
    agent: s.agent ?? null,
    minPriority: s.minPriority,
    calls: s.calls,
    errors: s.errors,
    slow: s.slow,
  };
}
