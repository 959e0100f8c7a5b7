/**
 * The bus's own events: what it did to messages that were not simply delivered, and handler trouble.
 * A listener that throws is isolated like a handler: it cannot break dispatch.
 */
import type { AnyMessage } from './messages.js';

/** Events of the bus and their data. */
export interface BusEvents {
  /** A queued message was evicted to make room for a more urgent one. */
  evicted: { message: AnyMessage; by: AnyMessage };
  /** A handler threw or its promise rejected. */
  handlerError: { error: Error; message: AnyMessage; subscriber: string };
  /** Handler calls between two clock reads took longer than the budget (one call when timingEvery=1). */
  slowHandler: { elapsedMs: number; subscribers: string[]; calls: number; messageId: number };
  /** Queued messages were discarded by stop. */
  discarded: { count: number; byPriority: number[] };
}

type Listener<E extends keyof BusEvents> = (e: BusEvents[E]) => void;

export class BusEventEmitter {
  private readonly listeners: { [E in keyof BusEvents]: Set<Listener<E>> } = {
    evicted: new Set(),
    handlerError: new Set(),
    slowHandler: new Set(),
    discarded: new Set(),
  };

  on<E extends keyof BusEvents>(event: E, listener: Listener<E>): () => void {
    const set = this.listeners[event] as Set<Listener<E>>;
    set.add(listener);
    return () => {
      set.delete(listener);
    };
  }

  emit<E extends keyof BusEvents>(event: E, data: BusEvents[E]): void {
    const set = this.listeners[event] as Set<Listener<E>>;
    if (set.size === 0) return;
    for (const listener of set) {
      try {
        listener(data);
      } catch {
        // A faulty listener must not break dispatch; the event itself is already counted in stats.
      }
    }
  }
}
