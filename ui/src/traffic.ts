/**
 * Live traffic from /stream as the page keeps it: the last {@link KEEP} messages in a ring, the types
 * and sources seen (for the filters), and the rate. Adding a message costs a few stores; the table is
 * drawn from the ring a few times a second at most, never per message, so a fast bus costs the page
 * little and the page reads its socket in time (the stream drops a client that falls behind).
 * Pure, no DOM.
 */
import type { AnyMessage, PriorityName } from './types.js';
import { PRIORITIES } from './types.js';

/** Messages kept for the table. */
export const KEEP = 2_000;
/** Distinct types and sources remembered for the filters (a flood of made-up types must not grow them). */
const MAX_NAMES = 200;

/** One kept message, the page time it arrived, and its arrival number (a row key: message ids start
 * again at 1 when the daemon restarts). */
export interface Arrival {
  m: AnyMessage;
  at: number;
  seq: number;
}

/** What the table shows: '' means any. */
export interface TrafficFilter {
  type: string;
  priority: '' | PriorityName;
  source: string;
}

export const NO_FILTER: TrafficFilter = { type: '', priority: '', source: '' };

export class Traffic {
  private readonly ring: (Arrival | undefined)[] = new Array(KEEP);
  private next = 0;
  /** Messages received since the page opened. */
  received = 0;
  readonly types = new Map<string, number>();
  readonly sources = new Map<string, number>();
  /** Messages per second, as of the last {@link sampleRate}. */
  rate = 0;
  private sampledAt = 0;
  private sampledCount = 0;

  add(m: AnyMessage, at: number): void {
    this.ring[this.next] = { m, at, seq: this.received };
    this.next = (this.next + 1) % KEEP;
    this.received++;
    count(this.types, m.type);
    count(this.sources, m.from);
  }

  /** Updates {@link rate} from the messages received since the last call (page clock, ms). */
  sampleRate(now: number): void {
    if (this.sampledAt > 0 && now > this.sampledAt)
      this.rate = ((this.received - this.sampledCount) * 1_000) / (now - this.sampledAt);
    this.sampledAt = now;
    this.sampledCount = this.received;
  }

  /** The newest `limit` messages that pass `filter`, newest first. */
  latest(filter: TrafficFilter, limit: number): Arrival[] {
    const out: Arrival[] = [];
    const priority = filter.priority === '' ? -1 : PRIORITIES.indexOf(filter.priority);
    for (let i = 1; i <= KEEP && out.length < limit; i++) {
      const a = this.ring[(this.next - i + KEEP) % KEEP];
      if (a === undefined) break;
      if (filter.type !== '' && a.m.type !== filter.type) continue;
      if (filter.source !== '' && a.m.from !== filter.source) continue;
      if (priority >= 0 && a.m.priority !== priority) continue;
      out.push(a);
    }
    return out;
  }
}

function count(map: Map<string, number>, key: string): void {
  const n = map.get(key);
  if (n !== undefined) map.set(key, n + 1);
  else if (map.size < MAX_NAMES) map.set(key, 1);
}
