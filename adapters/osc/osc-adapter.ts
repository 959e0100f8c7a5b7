/**
 * The OSC adapter (issue #4): OSC from controllers and DAWs in, as prioritized bus messages; bus
 * messages out to OSC targets. The codec (codec.ts) and the mapping (mapping.ts) are pure; this file
 * owns the lifecycle, the sockets (through listeners.ts and sender.ts) and the counters.
 *
 * Nothing that arrives can hurt: a datagram is checked against the allowlist and the size cap before
 * the strict decoder sees it; a malformed one is counted per source and logged at a rate-limited warn;
 * the listener keeps working and no other message is lost. An unmatched message goes on the bus as
 * `osc_in`, and so does a matched one whose arguments do not fit its route. Every packet a listener
 * counts in `packetsIn` ends in exactly one counted outcome (issue #10; listeners.ts PACKET_OUTCOMES),
 * and the kernel's own drops before the socket are read from /proc (kernel-drops.ts).
 */
import { type BusLogger, type MessageBus, RateLimitedLog } from '../../daemon/bus/index.js';
import { OscConfigError, OscFramingError, OscRecvDropsError } from '../../daemon/kernel/errors.js';
import type { PartHealth } from '../../daemon/kernel/part.js';
import type { Timeline } from '../../daemon/kernel/scheduler.js';
import { allowlist } from '../shared/cidr.js';
import { ReloadSteps } from '../shared/reload.js';
import { decodePacket, timetagToMs } from './codec.js';
import { KernelDropsWatch } from './kernel-drops.js';
import {
  type ListenerStats,
  type PacketOutcome,
  type StreamProblem,
  TcpListener,
  UdpListener,
} from './listeners.js';
import { type CompiledRoute, compileRoutes, type OutputRule, type RouteRule } from './mapping.js';
import { OscOutputs, type TargetSettings } from './outputs.js';
import type { TcpFraming } from './tcp-framing.js';
import type { DecodeLimits, OscMessage, OscPacket } from './types.js';

/** The adapter's settings (config `osc`). */
export interface OscSettings {
  listen: { host: string; port: number };
  extraListen: readonly { host: string; port: number }[];
  tcp: { enabled: boolean; host: string; port: number; framing: TcpFraming };
  recvBufferBytes: number;
  maxDatagramBytes: number;
  maxBundleDepth: number;
  allow: readonly string[];
  onBindError: 'degrade' | 'fail';
  retryMs: number;
  routes: readonly RouteRule[];
  targets: Readonly<Record<string, TargetSettings>>;
  outputs: readonly OutputRule[];
}

/** A bundle further ahead than this is refused (counted), so a sender cannot fill memory with it. */
const MAX_HOLD_MS = 60_000;
/** Bundles held at most, and their datagrams' bytes: what a sender can make the daemon keep. */
const MAX_HELD = 4_096;
const MAX_HELD_BYTES = 16 * 1024 * 1024;
/** Distinct sources whose decode errors are counted one by one (beyond: under "other"). */
const MAX_SOURCES = 256;
/** Held bundles whose lateness the `heldLateRecent*` figures cover. */
const RECENT = 32;
/**
 * How often the kernel's drop counts are read: a show technician looks at /health over seconds, and a
 * read of /proc/net/udp costs ~0.35 ms here with 50 UDP sockets on the machine (0.04 % of a core).
 */
const KERNEL_DROPS_POLL_MS = 1_000;
/** Growing kernel drops are logged at most this often per listener (with the count since the last). */
const KERNEL_DROPS_REPORT_MS = 10_000;

type Listener = UdpListener | TcpListener;

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

/** Adapter-wide counters. */
export interface OscCounters {
  published: number;
  unmatched: number;
  mappingErrors: number;
  refusedByBus: number;
  /** Bundles held for a future timetag, and released at it. */
  held: number;
  released: number;
  droppedTooFar: number;
  encodeErrors: number;
  /** Bus messages an output rule matched but that came in from that very target (not echoed back). */
  echoesSkipped: number;
  /** Held bundles or held outputs not yet due when the adapter stopped. */
  droppedAtStop: number;
  /** Held outputs refused because the scheduler was full. */
  droppedOutputs: number;
  /** Unexpected failures while handling a packet (a bug): logged at error. */
  internalErrors: number;
}

export class OscAdapter {
  readonly name = 'osc';
  readonly kind = 'adapter' as const;
  /** With `onBindError: fail`, a listener that cannot bind fails the daemon's start. */
  readonly critical: boolean;
  private readonly listeners: Listener[] = [];
  private readonly retry = new Map<Listener, NodeJS.Timeout>();
  private readonly limits: DecodeLimits;
  private readonly allowed: (address: string) => boolean;
  private routes: CompiledRoute[] = [];
  private outputs: OscOutputs | undefined;
  private readonly cancels = new Set<() => void>();
  private readonly errorsBySource = new Map<string, number>();
  private readonly log: RateLimitedLog;
  private state: PartHealth['state'] = 'idle';
  /** How late the latest-released held bundle was, at most, in ms. */
  private heldLateMaxMs = 0;
  private heldCount = 0;
  private heldBytes = 0;
  private heldLateMinMs = Number.POSITIVE_INFINITY;
  /** How late the last RECENT held bundles were released, ms (a ring). */
  private readonly recentLate: number[] = [];
  private stopPromise: Promise<void> | undefined;
  /** The outcome of the packet being received (undefined outside `onPacket`: a held bundle's release). */
  private fate: PacketOutcome | undefined;
  private readonly kernelDrops: KernelDropsWatch;
  readonly counters: OscCounters = {
    published: 0,
    unmatched: 0,
    mappingErrors: 0,
    refusedByBus: 0,
    held: 0,
    released: 0,
    droppedTooFar: 0,
    encodeErrors: 0,
    echoesSkipped: 0,
    droppedAtStop: 0,
    droppedOutputs: 0,
    internalErrors: 0,
  };

  constructor(
    private settings: OscSettings,
    private readonly bus: MessageBus,
    private readonly scheduler: Timeline,
    private readonly logger: BusLogger,
  ) {
    this.critical = settings.onBindError === 'fail';
    this.log = new RateLimitedLog(logger, 1_000, Date.now);
    this.limits = { maxBytes: settings.maxDatagramBytes, maxDepth: settings.maxBundleDepth };
    this.allowed = allowlist(settings.allow, (reason) => new OscConfigError(`osc.allow: ${reason}`));
    const sink = this.onPacket;
    const { listen, extraListen, tcp } = settings;
    const udp = [listen, ...extraListen].map(
      (l, i) => new UdpListener(`udp${i}`, l.host, l.port, settings.recvBufferBytes, sink),
    );
    this.listeners.push(...udp);
    this.kernelDrops = new KernelDropsWatch(udp, (l, drops, grew) => this.onKernelDrops(l, drops, grew), {
      pollMs: KERNEL_DROPS_POLL_MS,
      reportEveryMs: KERNEL_DROPS_REPORT_MS,
    });
    if (tcp.enabled) {
      this.listeners.push(
        new TcpListener(
          'tcp',
          tcp.host,
          tcp.port,
          tcp.framing,
          settings.maxDatagramBytes,
          sink,
          (problem) => this.onStreamProblem(problem),
          this.allowed,
        ),
      );
    }
  }

  /** Config keys a reload (SIGHUP) applies at once: the routes and the output rules. */
  readonly reloadable: readonly string[] = ['osc.routes', 'osc.outputs'];

  /**
   * A reloaded config: new routes and output rules take over from the next packet and message on,
   * each compiled first (an unusable one leaves the running one in place, logged, and is returned as
   * not applied: an output rule for a target added by the same reload waits for a restart, since
   * targets open at start). Listeners, targets and limits stay as they are until a restart.
   */
  async reconfigure(config: { osc: OscSettings }): Promise<readonly string[]> {
    if (this.state === 'idle' || this.state === 'stopping' || this.state === 'stopped') return [];
    const next = config.osc;
    const steps = new ReloadSteps(this.logger);
    steps.apply('osc.routes', this.settings.routes, next.routes, () => {
      this.routes = compileRoutes(next.routes);
      this.settings = { ...this.settings, routes: next.routes };
    });
    steps.apply('osc.outputs', this.settings.outputs, next.outputs, () => {
      this.outputs?.setRules(next.outputs);
      this.settings = { ...this.settings, outputs: next.outputs };
    });
    // A reload is also how a show technician says "the peers restarted" (a Live on another machine,
    // whose /live/startup never reaches us): the targets' start messages go out again.
    this.outputs?.sendStartMessages();
    return steps.notApplied;
  }

  /** Listener and target figures. */
  listenerStats(): ListenerStats[] {
    return this.listeners.map(({ stats }) =>
      stats.framings === undefined ? { ...stats } : { ...stats, framings: { ...stats.framings } },
    );
  }

  targetStats() {
    return this.outputs?.targetStats() ?? [];
  }

  async start(): Promise<void> {
    this.state = 'starting';
    this.routes = compileRoutes(this.settings.routes);
    this.outputs = new OscOutputs(
      this.settings.outputs,
      this.settings.targets,
      this.bus,
      this.scheduler,
      this.counters,
      this.cancels,
      (key, obj, msg) => this.warn(key, obj, msg),
      this.logger,
    );
    await this.outputs.start();
    for (const l of this.listeners) {
      try {
        await l.start();
      } catch (err) {
        if (this.critical) {
          await this.stop();
          throw err;
        }
        this.logger.warn(
          { code: (err as { code?: string }).code, listener: l.stats.name },
          (err as Error).message,
        );
        this.scheduleRetry(l);
      }
    }
    await this.kernelDrops.start();
    // After the listeners bind: a target answers the start messages at once (AbletonOSC does).
    this.outputs.sendStartMessages();
    this.state = 'ok';
    this.logger.info(
      {
        listeners: this.listeners.map(
          (l) => `${l.stats.protocol}://${l.stats.host}:${l.stats.port} ${l.stats.state}`,
        ),
      },
      'OSC adapter started',
    );
  }

  stop(): Promise<void> {
    this.stopPromise ??= (async () => {
      this.state = 'stopping';
      for (const t of this.retry.values()) clearTimeout(t);
      this.retry.clear();
      if (this.cancels.size > 0) {
        // Held bundles and held outputs not yet due: gone with the stop, and said so.
        this.counters.droppedAtStop += this.cancels.size;
        this.logger.warn(
          { count: this.cancels.size },
          'OSC adapter stopped with held bundles or outputs not yet due',
        );
      }
      for (const cancel of this.cancels) cancel();
      this.cancels.clear();
      await this.kernelDrops.stop();
      await Promise.all(this.listeners.map((l) => l.stop()));
      await this.outputs?.stop();
      this.state = 'stopped';
    })();
    return this.stopPromise;
  }

  health(): PartHealth {
    const listeners = this.listenerStats();
    const unbound = listeners.filter((l) => l.state === 'unbound');
    let state = this.state;
    let reason: string | undefined;
    if (state === 'ok' && unbound.length > 0) {
      state = 'degraded';
      reason = unbound
        .map((l) => `${l.protocol} ${l.host}:${l.port}: ${l.lastError ?? 'not bound'} (retrying)`)
        .join('; ');
    }
    return {
      state,
      ...(reason === undefined ? {} : { reason }),
      details: {
        listeners,
        targets: this.targetStats(),
        ...this.counters,
        heldPending: this.cancels.size,
        heldLateMaxMs: Math.round(this.heldLateMaxMs * 1000) / 1000,
        heldLateMinMs: Number.isFinite(this.heldLateMinMs)
          ? Math.round(this.heldLateMinMs * 1000) / 1000
          : null,
        ...recentFigures(this.recentLate),
        decodeErrorsBySource: Object.fromEntries(this.errorsBySource),
      },
    };
  }

  private scheduleRetry(l: Listener): void {
    if (this.state === 'stopping' || this.state === 'stopped') return;
    const timer = setTimeout(async () => {
      this.retry.delete(l);
      try {
        await l.start();
        if (this.state === 'stopping' || this.state === 'stopped') return;
        this.logger.info({ listener: l.stats.name, port: l.stats.port }, 'OSC listener bound after retry');
      } catch {
        // Still unbound: health keeps showing the reason; try again later.
        this.scheduleRetry(l);
      }
    }, this.settings.retryMs);
    this.retry.set(l, timer);
  }

  /**
   * One datagram or TCP packet, already counted in the listener's `packetsIn` and `bytesIn`. It ends in
   * exactly one outcome, counted here. Whatever goes wrong below is caught here: a socket callback that
   * threw would take the daemon down, and nothing that arrives over the wire may do that.
   */
  private readonly onPacket = (
    bytes: Uint8Array,
    address: string,
    port: number,
    stats: ListenerStats,
  ): void => {
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
      this.warn(
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
      this.warn(
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
      this.warn(
        `far:${source}`,
        { source, aheadMs: Math.round(time - now) },
        `OSC bundle more than ${MAX_HOLD_MS} ms ahead dropped`,
      );
      return;
    }
    if (this.heldCount >= MAX_HELD || this.heldBytes + size > MAX_HELD_BYTES) {
      this.counters.droppedTooFar++;
      this.settle('droppedTooFar');
      this.warn(
        `full:${source}`,
        { source, held: this.heldCount },
        'OSC bundle dropped: too many bundles held',
      );
      return;
    }
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
      for (const element of packet.elements) this.deliver(element, source, port, time);
    });
    if (cancel === undefined) {
      this.heldCount--;
      this.heldBytes -= size;
      this.counters.droppedTooFar++;
      this.settle('droppedTooFar');
      this.warn(`full:${source}`, { source }, 'OSC bundle dropped: the scheduler is full');
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
      this.warn(`map:${r.rule.address}`, { source, address: message.address }, routed);
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
      this.warn(
        `bus:${(err as { code?: string }).code}`,
        { code: (err as { code?: string }).code, type },
        (err as Error).message,
      );
    }
  }

  /** A TCP stream problem the listener counted: a warning naming the source and the reason. */
  private onStreamProblem(p: StreamProblem): void {
    const source = `${p.address}:${p.port}`;
    const reason = p.closed ? `${p.reason}; the connection is closed` : `${p.reason}; the packet is dropped`;
    const err = new OscFramingError(source, reason);
    // Keyed by kind too: a closed connection's warning is not held back behind a dropped frame's.
    this.warn(
      `tcp:${p.kind}:${p.address}`,
      { code: err.code, source, listener: p.listener, kind: p.kind },
      err.message,
    );
  }

  /** The kernel dropped datagrams before the listener could read them: say what to change. */
  private onKernelDrops(l: ListenerStats, drops: number, grew: number): void {
    const advice =
      `raise osc.recvBufferBytes, ${this.settings.recvBufferBytes} asked, ${l.recvBufferBytes ?? '?'} ` +
      "granted (Linux caps it at net.core.rmem_max), or lower the sender's rate";
    const err = new OscRecvDropsError(grew, `${l.name} (${l.host}:${l.port})`, advice);
    this.logger.warn({ code: err.code, listener: l.name, kernelDrops: drops, grew }, err.message);
  }

  /** A warning at most once a second per key, with the count of those held back. */
  private warn(key: string, obj: Record<string, unknown>, msg: string): void {
    this.log.warn(key, obj, msg);
  }
}
