/**
 * The OSC adapter's input side (issue #4): a packet a listener received, onto the bus. A datagram is
 * checked against the allowlist and the size cap before the strict decoder sees it; a malformed one is
 * counted per source and logged at a rate-limited warn. An unmatched message goes on the bus as
 * `osc_in`, and so does a matched one whose arguments do not fit its route; a bundle due later is held
 * until its time. Every packet a listener counts in `packetsIn` ends in exactly one counted outcome,
 * counted here (issue #10; listeners.ts PACKET_OUTCOMES).
 */
import type { BusLogger, MessageBus, RateLimitedLog } from '../../daemon/bus/index.js';
import type { Timeline } from '../../daemon/kernel/scheduler.js';
import { decodePacket, timetagToMs } from './codec.js';
import type { ListenerStats, PacketOutcome } from './listeners.js';
import type { CompiledRoute } from './mapping.js';
import type { OscCounters } from './osc-adapter.js';
import type { OscOutputs } from './outputs.js';
import type { DecodeLimits, OscMessage, OscPacket } from './types.js';

/** A bundle further ahead than this is refused (counted), so a sender cannot fill memory with it. */
const MAX_HOLD_MS = 60_000;
/** Bundles held at most, and their datagrams' bytes: what a sender can make the daemon keep. */
const MAX_HELD = 4_096;
const MAX_HELD_BYTES = 16 * 1024 * 1024;
/** Distinct sources whose decode errors are counted one by one (beyond: under "other"). */
const MAX_SOURCES = 256;
/** Held bundles whose lateness the `heldLateRecent*` figures cover. */
const RECENT = 32;

/** How late the last RECENT held bundles were released: median, 90th percentile (nearest rank), max. */
function recentFigures(late: readonly number[]): Record<string, number> {
  const sorted = [...late].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)] ?? 0;
  const ms = (v: number) => Math.round(v * 1000) / 1000;
  return {
    heldLateRecentCount: sorted.length,
    heldLateRecentP50Ms: ms(at(0.5)),
    heldLateRecentP90Ms: ms(at(0.9)),
    heldLateRecentMaxMs: ms(sorted.at(-1) ?? 0),
  };
}

/**
 * Received packets to bus messages: the listeners' sink ({@link OscInbound.onPacket}), the held
 * bundles, and the figures /health shows about them. The adapter owns the lifecycle; it sets
 * {@link OscInbound.routes} and {@link OscInbound.outputs} at start and on a reload.
 */
export class OscInbound {
  /** The compiled routes, in config order: the first that matches an address takes the message. */
  routes: CompiledRoute[] = [];
  /** The output side, once started: it remembers where each published message came from (no echo). */
  outputs: OscOutputs | undefined;
  private readonly errorsBySource = new Map<string, number>();
  /** How late the latest-released held bundle was, at most, in ms. */
  private heldLateMaxMs = 0;
  private heldCount = 0;
  private heldBytes = 0;
  private heldLateMinMs = Number.POSITIVE_INFINITY;
  /** How late the last RECENT held bundles were released, ms (a ring). */
  private readonly recentLate: number[] = [];
  /** The outcome of the packet being received (undefined outside `onPacket`: a held bundle's release). */
  private fate: PacketOutcome | undefined;

  /**
   * `cancels` is shared with the outputs: the adapter cancels what is still held at stop. `log` is the
   * adapter's rate-limited warn (a warning at most once a second per key, with the count held back).
   */
  constructor(
    private readonly limits: DecodeLimits,
    private readonly allowed: (address: string) => boolean,
    private readonly bus: MessageBus,
    private readonly scheduler: Timeline,
    private readonly counters: OscCounters,
    private readonly cancels: Set<() => void>,
    private readonly log: RateLimitedLog,
    private readonly logger: BusLogger,
  ) {}

  /** The held bundles' lateness figures for /health, ms rounded to µs (min null before the first). */
  heldFigures(): Record<string, number | null> {
    return {
      heldLateMaxMs: Math.round(this.heldLateMaxMs * 1000) / 1000,
      heldLateMinMs: Number.isFinite(this.heldLateMinMs)
        ? Math.round(this.heldLateMinMs * 1000) / 1000
        : null,
      ...recentFigures(this.recentLate),
    };
  }

  /** Malformed packets by source address (beyond MAX_SOURCES sources: under "other"). */
  decodeErrorsBySource(): Record<string, number> {
    return Object.fromEntries(this.errorsBySource);
  }

  /**
   * One datagram or TCP packet, already counted in the listener's `packetsIn` and `bytesIn`. It ends in
   * exactly one outcome, counted here. Whatever goes wrong below is caught here: a socket callback that
   * threw would take the daemon down, and nothing that arrives over the wire may do that.
   */
  readonly onPacket = (bytes: Uint8Array, address: string, port: number, stats: ListenerStats): void => {
    this.fate = 'published';
    try {
      this.receive(bytes, address, port, stats);
    } catch (err) {
      this.counters.internalErrors++;
      this.fate = 'internalErrors';
      this.logger.error({ err, source: `${address}:${port}` }, 'OSC packet handling failed');
    }
    stats[this.fate]++;
    this.fate = undefined;
  };

  /**
   * A part of the packet being received was held or dropped: the packet counts once, by its worst fate
   * (a drop, the first one found, then held, then published). A release later is no arrival: not counted.
   */
  private settle(outcome: 'held' | 'droppedTooFar' | 'refusedByBus'): void {
    if (this.fate === 'published' || (this.fate === 'held' && outcome !== 'held')) this.fate = outcome;
  }

  /** The hot path: allowlist, size cap, strict decode, then delivery. */
  private receive(bytes: Uint8Array, address: string, port: number, stats: ListenerStats): void {
    if (!this.allowed(address)) {
      this.fate = 'droppedAllowlist';
      return;
    }
    if (bytes.length > this.limits.maxBytes) {
      this.fate = 'droppedOversize';
      this.log.warn(
        `big:${address}`,
        { source: `${address}:${port}`, bytes: bytes.length },
        'OSC packet over osc.maxDatagramBytes dropped',
      );
      return;
    }
    let packet: OscPacket;
    try {
      packet = decodePacket(bytes, this.limits);
    } catch (err) {
      this.fate = 'decodeErrors';
      const key =
        this.errorsBySource.has(address) || this.errorsBySource.size < MAX_SOURCES ? address : 'other';
      this.errorsBySource.set(key, (this.errorsBySource.get(key) ?? 0) + 1);
      stats.lastError = (err as Error).message;
      this.log.warn(
        `decode:${address}`,
        { code: 'PFM_ERR_OSC_DECODE', source: `${address}:${port}`, listener: stats.name },
        (err as Error).message,
      );
      return;
    }
    this.deliver(packet, address, port, undefined, bytes.length);
  }

  /**
   * Publishes a packet's messages in order; a bundle due later is held until its time. `size` is the
   * datagram's, charged against the held-bytes cap while any part of it is held.
   */
  private deliver(packet: OscPacket, source: string, port: number, at?: number, size = 0): void {
    if (packet.kind === 'message') {
      this.route(packet, source, port, at);
      return;
    }
    const time = timetagToMs(packet.timetag);
    const now = this.scheduler.now();
    if (time <= now) {
      for (const element of packet.elements) this.deliver(element, source, port, at);
      return;
    }
    if (time - now > MAX_HOLD_MS) {
      this.counters.droppedTooFar++;
      this.settle('droppedTooFar');
      this.log.warn(
        `far:${source}`,
        { source, aheadMs: Math.round(time - now) },
        `OSC bundle more than ${MAX_HOLD_MS} ms ahead dropped`,
      );
      return;
    }
    if (this.heldCount >= MAX_HELD || this.heldBytes + size > MAX_HELD_BYTES) {
      this.counters.droppedTooFar++;
      this.settle('droppedTooFar');
      this.log.warn(
        `full:${source}`,
        { source, held: this.heldCount },
        'OSC bundle dropped: too many bundles held',
      );
      return;
    }
    this.hold(packet.elements, time, source, port, size);
  }

  /** Holds a bundle's elements until `time`, counted against the caps until released or cancelled. */
  private hold(elements: OscPacket[], time: number, source: string, port: number, size: number): void {
    this.counters.held++;
    this.heldCount++;
    this.heldBytes += size;
    const cancel = this.scheduler.at(time, () => {
      this.cancels.delete(cancel as () => void);
      this.heldCount--;
      this.heldBytes -= size;
      // The scheduler never runs early; how late it ran is kept for /health.
      const late = this.scheduler.now() - time;
      if (late > this.heldLateMaxMs) this.heldLateMaxMs = late;
      if (late < this.heldLateMinMs) this.heldLateMinMs = late;
      this.recentLate[this.counters.released % RECENT] = late;
      this.counters.released++;
      for (const element of elements) this.deliver(element, source, port, time);
    });
    if (cancel === undefined) {
      this.heldCount--;
      this.heldBytes -= size;
      this.counters.droppedTooFar++;
      this.settle('droppedTooFar');
      this.log.warn(`full:${source}`, { source }, 'OSC bundle dropped: the scheduler is full');
    } else {
      this.cancels.add(cancel);
      this.settle('held');
    }
  }

  private route(message: OscMessage, source: string, port: number, at?: number): void {
    for (const r of this.routes) {
      if (!r.matches(message.address)) continue;
      const routed = r.map(message, this.scheduler.now());
      if (typeof routed !== 'string') {
        this.publish(routed.type, routed.payload, routed.priority, routed.to, at, source, port);
        return;
      }
      // The arguments do not fit the route: say so, and pass the message on as osc_in (nothing is lost).
      this.counters.mappingErrors++;
      this.log.warn(`map:${r.rule.address}`, { source, address: message.address }, routed);
      this.publishRaw(message, source, port, at);
      return;
    }
    this.counters.unmatched++;
    this.publishRaw(message, source, port, at);
  }

  /** Publishes a message as `osc_in`, with its address, type tags, arguments and source. */
  private publishRaw(message: OscMessage, source: string, port: number, at: number | undefined): void {
    const payload = { address: message.address, types: message.types, args: message.args, source };
    this.publish('osc_in', payload, undefined, undefined, at, source, port);
  }

  private publish(
    type: string,
    payload: unknown,
    priority: 0 | 1 | 2 | 3 | undefined,
    to: string | undefined,
    at: number | undefined,
    source: string,
    port: number,
  ): void {
    try {
      const m = this.bus.publish({ type, from: 'osc', payload, priority, to, at });
      this.counters.published++;
      if (this.outputs?.active) this.outputs.remember(m.id, `${source}:${port}`);
    } catch (err) {
      this.counters.refusedByBus++;
      this.settle('refusedByBus');
      this.log.warn(
        `bus:${(err as { code?: string }).code}`,
        { code: (err as { code?: string }).code, type },
        (err as Error).message,
      );
    }
  }
}
