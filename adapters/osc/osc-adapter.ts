/**
 * The OSC adapter (issue #4): OSC from controllers and DAWs in, as prioritized bus messages; bus
 * messages out to OSC targets. The codec (codec.ts) and the mapping (mapping.ts) are pure; this file
 * owns the lifecycle, the sockets (through listeners.ts and sender.ts) and the counters. The way from a
 * received packet to the bus is inbound.ts; from the bus to the targets, outputs.ts.
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
import { OscInbound } from './inbound.js';
import { KernelDropsWatch } from './kernel-drops.js';
import { type ListenerStats, type StreamProblem, TcpListener, UdpListener } from './listeners.js';
import { compileRoutes, type OutputRule, type RouteRule } from './mapping.js';
import { OscOutputs, type TargetSettings } from './outputs.js';
import type { TcpFraming } from './tcp-framing.js';

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

/**
 * How often the kernel's drop counts are read: a show technician looks at /health over seconds, and a
 * read of /proc/net/udp costs ~0.35 ms here with 50 UDP sockets on the machine (0.04 % of a core).
 */
const KERNEL_DROPS_POLL_MS = 1_000;
/** Growing kernel drops are logged at most this often per listener (with the count since the last). */
const KERNEL_DROPS_REPORT_MS = 10_000;

type Listener = UdpListener | TcpListener;

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
  private readonly allowed: (address: string) => boolean;
  private outputs: OscOutputs | undefined;
  /** Held bundles (inbound) and held outputs not yet due: each one's cancel, run at stop. */
  private readonly cancels = new Set<() => void>();
  private readonly log: RateLimitedLog;
  private state: PartHealth['state'] = 'idle';
  private stopPromise: Promise<void> | undefined;
  /** Received packets to bus messages: the listeners' sink. */
  private readonly inbound: OscInbound;
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
    this.allowed = allowlist(settings.allow, (reason) => new OscConfigError(`osc.allow: ${reason}`));
    this.inbound = new OscInbound(
      { maxBytes: settings.maxDatagramBytes, maxDepth: settings.maxBundleDepth },
      this.allowed,
      bus,
      scheduler,
      this.counters,
      this.cancels,
      this.log,
      logger,
    );
    const sink = this.inbound.onPacket;
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
      this.inbound.routes = compileRoutes(next.routes);
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
    this.inbound.routes = compileRoutes(this.settings.routes);
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
    this.inbound.outputs = this.outputs;
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
        ...this.inbound.heldFigures(),
        decodeErrorsBySource: this.inbound.decodeErrorsBySource(),
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
