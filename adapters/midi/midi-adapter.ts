/**
 * The MIDI adapter (issue #7): controllers and DAWs in as prioritized bus messages, bus messages out to
 * synths and DAWs, a MIDI clock both ways, and never a stuck note. Two transports behind one surface:
 * the OS's MIDI ports (port-manager.ts over easymidi) and network MIDI sessions (rtp/). The byte codec
 * (codec.ts), the routes (routes.ts) and the output rules (output-rules.ts) are pure; this file owns the
 * lifecycle, the input path and the counters; midi-out.ts the output path.
 *
 * Nothing that arrives can hurt: bytes go through our strict parser, one per input endpoint; a malformed
 * message is counted per endpoint and logged at a rate-limited warn; the rest is decoded. A message no
 * route claims goes on the bus as `midi_in`, so is one whose fields do not fit its route.
 *
 * Claimed by the adapter, not published as `midi_in`: clock, start, stop, continue and song position
 * from the followed clock source (they become `tempo_change` and `transport`), MTC quarter frames and
 * full frames (decoded to a position: `midi_in` of kind `timecode`), and active sensing (liveness only).
 */
import { type BusLogger, type MessageBus, type Priority, RateLimitedLog } from '../../daemon/bus/index.js';
import type { PartHealth } from '../../daemon/kernel/part.js';
import type { Timeline } from '../../daemon/kernel/scheduler.js';
import { ReloadSteps } from '../shared/reload.js';
import { EndpointStats, type NetworkEvents, type NetworkMidi } from './endpoints.js';
import { type FollowedClock, MidiInTime } from './midi-in-time.js';
import { MidiOut } from './midi-out.js';
import type { PortBackend } from './os-ports.js';
import type { MidiOutputRule } from './output-rules.js';
import { MidiParser } from './parser.js';
import { PortManager, type PortSettings, type PortStats } from './port-manager.js';
import { type CompiledMidiRoute, compileMidiRoutes, type MidiRouteRule, midiFields } from './routes.js';
import type { MidiMessage } from './types.js';

/** The adapter's settings (config `midi`). */
export interface MidiSettings {
  ports: PortSettings;
  network: { enabled: boolean; peers: Readonly<Record<string, unknown>> };
  maxSysexBytes: number;
  routes: readonly MidiRouteRule[];
  outputs: readonly MidiOutputRule[];
  drumMap: Readonly<Record<string, number>>;
  drumChannel: number;
  clock: {
    in: { enabled: boolean; from?: string; tempoStep: number };
    out: { to: readonly string[]; bpm: number; mode: 'transport' | 'always' };
  };
}

/** Adapter-wide counters. */
export interface MidiCounters {
  messagesIn: number;
  published: number;
  unmatched: number;
  mappingErrors: number;
  refusedByBus: number;
  decodeErrors: number;
  /** Unexpected failures while handling input (a bug): logged at error. */
  internalErrors: number;
}

/** Builds the network side once the adapter knows where its events go (none: network MIDI off). */
export type NetworkFactory = (events: NetworkEvents) => NetworkMidi | undefined;

const CLOCK_KINDS = new Set(['clock', 'start', 'stop', 'continue', 'songposition']);

export class MidiAdapter {
  readonly name = 'midi';
  readonly kind = 'adapter' as const;
  readonly reloadable: readonly string[] = [
    'midi.routes',
    'midi.outputs',
    'midi.drumMap',
    'midi.drumChannel',
  ];
  private readonly ports: PortManager;
  private readonly network: NetworkMidi | undefined;
  private networkError: string | undefined;
  private readonly parsers = new Map<string, MidiParser>();
  private readonly time: MidiInTime;
  private routes: CompiledMidiRoute[] = [];
  private readonly out: MidiOut;
  private readonly stats = new EndpointStats();
  private readonly log: RateLimitedLog;
  private readonly sessions = new Set<string>();
  private state: PartHealth['state'] = 'idle';
  private stopPromise: Promise<void> | undefined;
  readonly counters: MidiCounters = {
    messagesIn: 0,
    published: 0,
    unmatched: 0,
    mappingErrors: 0,
    refusedByBus: 0,
    decodeErrors: 0,
    internalErrors: 0,
  };

  constructor(
    private settings: MidiSettings,
    private readonly bus: MessageBus,
    private readonly timeline: Timeline,
    private readonly logger: BusLogger,
    backend: PortBackend,
    network: NetworkFactory,
  ) {
    this.log = new RateLimitedLog(logger, 1_000, Date.now);
    this.time = new MidiInTime(
      timeline,
      logger,
      (type, payload, priority, endpoint) => this.publish(type, payload, priority, undefined, endpoint),
      settings.clock.in.tempoStep,
    );
    this.ports = new PortManager(
      settings.ports.enabled
        ? settings.ports
        : {
            ...settings.ports,
            virtual: { ...settings.ports.virtual, enabled: false },
            inputs: {},
            outputs: {},
          },
      backend,
      {
        bytes: (id, bytes) => this.receive(id, bytes, this.timeline.now()),
        change: (port) => this.portChanged(port),
      },
    );
    this.network = settings.network.enabled
      ? network({
          bytes: (id, bytes, time) => this.receive(id, bytes, time),
          session: (id, state, detail) => this.sessionChanged(id, state, detail),
          malformed: (source, reason) => {
            this.counters.decodeErrors++;
            this.stats.of(source).errors++;
            this.log.warn(`rtp:${source}`, { code: 'PFM_ERR_MIDI_DECODE', source }, reason);
          },
        })
      : undefined;
    const known = new Set([
      'virtual',
      'network',
      ...Object.keys(settings.ports.outputs),
      ...Object.keys(settings.network.peers),
    ]);
    this.out = new MidiOut(
      { drumMap: settings.drumMap, drumChannel: settings.drumChannel },
      settings.clock.out,
      bus,
      timeline,
      {
        send: (ep, bytes) => this.send(ep, bytes),
        outputs: () => [...this.ports.openOutputs(), ...(this.network?.sessions() ?? [])],
        expand: (id) => (id === 'network' ? (this.network?.sessions() ?? []) : [id]),
        known: () => known,
      },
      this.stats,
      (key, obj, msg) => this.log.warn(key, obj, msg),
      logger,
    );
  }

  /** Sends one encoded message to an endpoint: a port id or a session. */
  private send(endpoint: string, bytes: Uint8Array): boolean {
    if (this.sessions.has(endpoint)) return this.network?.send(endpoint, bytes) ?? false;
    return this.ports.send(endpoint, bytes);
  }

  async start(): Promise<void> {
    this.state = 'starting';
    this.routes = compileMidiRoutes(this.settings.routes, new Map(), (want, ep) => this.endpointIs(want, ep));
    this.out.start(this.settings.outputs);
    this.ports.start();
    if (this.network !== undefined) {
      try {
        await this.network.start();
      } catch (err) {
        // A listener that cannot bind degrades network MIDI; ports and the rest run on.
        this.networkError = (err as Error).message;
        this.logger.warn({ code: (err as { code?: string }).code }, this.networkError);
      }
    }
    this.state = 'ok';
    const reason = this.ports.unavailable;
    if (reason !== undefined && this.settings.ports.enabled)
      this.logger.warn({ code: 'PFM_ERR_MIDI_PORT' }, reason);
    this.logger.info(
      { ports: this.ports.stats().map((p) => `${p.id} ${p.direction} ${p.state}`) },
      'MIDI adapter started',
    );
  }

  stop(): Promise<void> {
    this.stopPromise ??= (async () => {
      this.state = 'stopping';
      this.time.stop();
      // Note offs first, while ports and sessions are still open.
      this.out.stop();
      this.ports.stop();
      await this.network?.stop();
      this.state = 'stopped';
    })();
    return this.stopPromise;
  }

  /** Routes, output rules and the drum map from a reloaded config, from the next message on. */
  async reconfigure(config: { midi: MidiSettings }): Promise<readonly string[]> {
    if (this.state !== 'ok' && this.state !== 'degraded') return [];
    const next = config.midi;
    const steps = new ReloadSteps(this.logger);
    steps.apply('midi.routes', this.settings.routes, next.routes, () => {
      this.routes = compileMidiRoutes(next.routes, new Map(), (want, ep) => this.endpointIs(want, ep));
      this.settings = { ...this.settings, routes: next.routes };
    });
    const before = [this.settings.outputs, this.settings.drumMap, this.settings.drumChannel];
    const after = [next.outputs, next.drumMap, next.drumChannel];
    steps.apply('midi.outputs', before, after, () => {
      this.out.setRules(next.outputs, { drumMap: next.drumMap, drumChannel: next.drumChannel });
      this.settings = {
        ...this.settings,
        outputs: next.outputs,
        drumMap: next.drumMap,
        drumChannel: next.drumChannel,
      };
    });
    return steps.notApplied;
  }

  health(): PartHealth {
    const ports = this.ports.stats();
    const troubled = ports.filter((p) => p.state !== 'open' && p.state !== 'closed');
    const reasons = [...new Set(troubled.map((p) => p.reason ?? `${p.id}: ${p.state}`))];
    if (this.networkError !== undefined) reasons.push(`network MIDI: ${this.networkError}`);
    let state = this.state;
    if (state === 'ok' && reasons.length > 0) state = 'degraded';
    return {
      state,
      ...(reasons.length === 0 ? {} : { reason: reasons.join('; ') }),
      details: {
        ports,
        portsAvailable: this.ports.unavailable === undefined,
        ...(this.ports.unavailable === undefined ? {} : { portsReason: this.ports.unavailable }),
        osPorts: this.ports.available(),
        network: this.network?.stats() ?? { enabled: false },
        endpoints: this.stats.all(),
        heldNotes: this.out.tracker.held(),
        clockIn: this.clockIn(),
        clockOut: this.out.clockStats() ?? null,
        ...this.counters,
        out: { ...this.out.counters },
      },
    };
  }

  /** Per-endpoint figures (metrics). */
  endpointCounters(): Record<string, { messagesIn: number; messagesOut: number; errors: number }> {
    return this.stats.all();
  }

  /** Adapter and output counters in one map (metrics). */
  allCounters(): Record<string, number> {
    return { ...this.counters, ...this.out.counters };
  }

  /** Held notes by output endpoint (metrics). */
  heldByEndpoint(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const h of this.out.tracker.held()) out[h.output] = (out[h.output] ?? 0) + h.count;
    return out;
  }

  portStats(): PortStats[] {
    return this.ports.stats();
  }

  sessionCount(): number {
    return this.sessions.size;
  }

  /** The followed clocks by endpoint. */
  clockIn(): Record<string, FollowedClock> {
    return this.time.followed();
  }

  /** True when a route's or the clock's `want` names this endpoint (`network`: every session). */
  private endpointIs(want: string, endpoint: string): boolean {
    return want === endpoint || (want === 'network' && this.sessions.has(endpoint));
  }

  /** Bytes from an input endpoint. Whatever goes wrong below is caught: input never crashes the daemon. */
  private receive(endpoint: string, bytes: Uint8Array, time: number): void {
    try {
      let parser = this.parsers.get(endpoint);
      if (parser === undefined) {
        parser = new MidiParser({ maxSysexBytes: this.settings.maxSysexBytes });
        this.parsers.set(endpoint, parser);
      }
      parser.push(
        bytes,
        (m) => this.message(endpoint, m, time),
        (reason) => {
          this.counters.decodeErrors++;
          this.stats.of(endpoint).errors++;
          this.log.warn(`dec:${endpoint}`, { code: 'PFM_ERR_MIDI_DECODE', endpoint }, reason);
        },
      );
    } catch (err) {
      this.counters.internalErrors++;
      this.logger.error({ err, endpoint }, 'MIDI input handling failed');
    }
  }

  private message(endpoint: string, m: MidiMessage, time: number): void {
    this.counters.messagesIn++;
    const c = this.stats.of(endpoint);
    c.messagesIn++;
    c.lastSeen = time;
    if (m.kind === 'activesensing') return;
    if (CLOCK_KINDS.has(m.kind) && this.followsClockOf(endpoint)) {
      this.time.clock(endpoint, m, time);
      return;
    }
    if (m.kind === 'mtc' || (m.kind === 'sysex' && isMtcFullFrame(m.data))) {
      this.time.timecodeIn(endpoint, m, time);
      return;
    }
    const route = this.routes.find((r) => r.matches(m, endpoint));
    if (route === undefined) this.counters.unmatched++;
    else {
      const routed = route.map(m, endpoint, time);
      if (typeof routed !== 'string') {
        this.publish(routed.type, routed.payload, routed.priority, routed.to, endpoint);
        return;
      }
      // The fields do not fit the route: say so, and pass the message on as midi_in (nothing is lost).
      this.counters.mappingErrors++;
      this.log.warn(`map:${route.rule.kind}`, { endpoint }, routed);
    }
    this.publish('midi_in', midiFields(m, endpoint), undefined, undefined, endpoint);
  }

  private followsClockOf(endpoint: string): boolean {
    const cfg = this.settings.clock.in;
    return cfg.enabled && (cfg.from === undefined || this.endpointIs(cfg.from, endpoint));
  }

  private publish(
    type: string,
    payload: unknown,
    priority: Priority | undefined,
    to: string | undefined,
    endpoint: string,
  ): void {
    try {
      const m = this.bus.publish({ type, from: 'midi', payload, priority, to });
      this.counters.published++;
      this.out.remember(m.id, endpoint);
    } catch (err) {
      this.counters.refusedByBus++;
      this.log.warn(
        `bus:${(err as { code?: string }).code}`,
        { code: (err as { code?: string }).code, type },
        (err as Error).message,
      );
    }
  }

  private portChanged(port: PortStats): void {
    const { id, direction, state, osName, reason } = port;
    if (state === 'disconnected' || state === 'failed') {
      if (direction === 'in') this.inputLost(id);
      else this.out.outputLost(id);
    }
    if (this.state === 'stopping' || this.state === 'stopped') return;
    const level = state === 'open' ? 'info' : 'warn';
    this.logger[level](
      { port: id, direction, state, name: osName, reason },
      `MIDI port ${id} (${direction}) ${state}`,
    );
    this.publish(
      'midi_device',
      {
        port: id,
        direction,
        state,
        ...(osName === undefined ? {} : { name: osName }),
        ...(reason === undefined ? {} : { reason }),
      },
      undefined,
      undefined,
      id,
    );
  }

  private sessionChanged(
    id: string,
    state: 'open' | 'closed' | 'lost',
    detail: { name?: string; reason?: string },
  ): void {
    if (state === 'open') this.sessions.add(id);
    else {
      this.sessions.delete(id);
      this.inputLost(id);
      this.out.outputLost(id);
    }
    if (this.state === 'stopping' || this.state === 'stopped') return;
    const level = state === 'lost' ? 'warn' : 'info';
    this.logger[level]({ session: id, state, ...detail }, `network MIDI session ${id} ${state}`);
    this.publish('midi_device', { port: id, direction: 'both', state, ...detail }, undefined, undefined, id);
  }

  /** An input went away: its parser state is stale, its notes are released elsewhere, its clock stops. */
  private inputLost(id: string): void {
    this.parsers.get(id)?.reset();
    this.out.releaseOrigin(id);
    this.time.lost(id);
  }
}

/** MIDI Time Code full frame: F0 7F <device> 01 01 hr mn sc fr F7 (MIDI 1.0 MTC spec). */
function isMtcFullFrame(data: Uint8Array): boolean {
  return data.length === 10 && data[1] === 0x7f && data[3] === 0x01 && data[4] === 0x01;
}
