/**
 * Coalescing (issue #2): for fast controller streams, a newer message with the same type and coalescing
 * key replaces a still-queued older one in place, so a fader moving at 1 kHz costs one queue slot and
 * the newest value goes out at the older one's turn. The replaced message is counted as coalesced.
 * Discrete types (notes, beats, transport; see DISCRETE_TYPES) are never coalesced: a rule for one is
 * refused when the bus is built.
 */
import { BusInvalidOptionError } from '../kernel/errors.js';
import type { PriorityCounters } from './bus-stats.js';
import type { Fifo } from './fifo.js';
import { type AnyMessage, DISCRETE_TYPES } from './messages.js';

/**
 * How messages of one type are keyed: `by` names payload fields (a message lacking one of them is not
 * coalesced), or `key` computes the key (return undefined to leave a message alone). The recipient
 * (`to`) is always part of the key.
 */
export type CoalesceRule =
  | { readonly by: readonly string[] }
  | { readonly key: (message: AnyMessage) => string | undefined };

interface Slot {
  message: AnyMessage;
  seq: number;
}

/** Most remembered keys; beyond it the table starts over (keys may come from the wire). */
const MAX_KEYS = 65_536;

export class CoalesceTable {
  private readonly keyOf = new Map<string, (m: AnyMessage) => string | undefined>();
  private slots = new Map<string, Slot>();

  constructor(rules: Readonly<Record<string, CoalesceRule>>) {
    for (const [type, rule] of Object.entries(rules)) {
      if (DISCRETE_TYPES.has(type)) {
        throw new BusInvalidOptionError(`coalesce: "${type}" carries discrete events and is never coalesced`);
      }
      this.keyOf.set(type, compile(type, rule));
    }
  }

  /**
   * Replaces the queued message with the same key by `message`, in place. Returns false when there is
   * none (the caller queues `message`, then calls `remember`).
   */
  replace(message: AnyMessage, lane: Fifo<AnyMessage>, coalesced: PriorityCounters): boolean {
    const keyOf = this.keyOf.get(message.type);
    if (keyOf === undefined) return false;
    const key = keyOf(message);
    if (key === undefined) return false;
    const slot = this.slots.get(key);
    if (slot === undefined || slot.message.priority !== message.priority) return false;
    if (lane.at(slot.seq) !== slot.message) return false;
    lane.replace(slot.seq, message);
    slot.message = message;
    coalesced[message.priority]++;
    return true;
  }

  /** Remembers where a freshly queued message sits, so a newer one can replace it. */
  remember(message: AnyMessage, seq: number): void {
    const keyOf = this.keyOf.get(message.type);
    if (keyOf === undefined) return;
    const key = keyOf(message);
    if (key === undefined) return;
    const slot = this.slots.get(key);
    if (slot !== undefined) {
      slot.message = message;
      slot.seq = seq;
      return;
    }
    if (this.slots.size >= MAX_KEYS) this.slots = new Map();
    this.slots.set(key, { message, seq });
  }
}

function compile(type: string, rule: CoalesceRule): (m: AnyMessage) => string | undefined {
  if ('key' in rule && typeof rule.key === 'function') {
    const key = rule.key;
    return (m) => {
      const k = key(m);
      return k === undefined ? undefined : `${m.type}\u0000${m.to}\u0000${k}`;
    };
  }
  if ('by' in rule && Array.isArray(rule.by) && rule.by.every((f) => typeof f === 'string')) {
    const fields = rule.by;
    return (m) => {
      const payload = m.payload as Record<string, unknown> | null;
      if (payload === null || typeof payload !== 'object') return undefined;
      let key = `${m.type}\u0000${m.to}`;
      for (const f of fields) {
        const v = payload[f];
        if (v === undefined) return undefined;
        key += `\u0000${String(v)}`;
      }
      return key;
    };
  }
  throw new BusInvalidOptionError(
    `coalesce: rule for "${type}" needs "by" (field names) or "key" (a function)`,
  );
}
