/**
 * osc.critical_under_flood_p99_us: how long a CRITICAL-routed OSC message takes from its sender to its
 * bus handler while the bus delivers a sustained LOW flood; the baseline is the same pings routed LOW,
 * so they queue behind the flood in FIFO order, as a single FIFO would serve them.
 *
 * The daemon runs in this process (a Daemon built like test/helpers/daemon.ts: the default parts, so
 * the real OSC adapter, plus a factory subscribing the ping handler and a no-op flood handler), so the
 * handler's own first line is timed. Routes: `/ping` → `ping { seq }` CRITICAL and `/ping_low` →
 * `ping { seq }` LOW.
 *
 * The flood: this process publishes `flood` messages at LOW on an absolute schedule of FLOOD_RATE
 * (200,000) per second, in a setImmediate loop that publishes whatever is due each turn (at most
 * MAX_PER_TURN), from FLOOD_LEAD_MS before the first ping of a phase until its last ping was handled
 * (~1.5 s), then drains. Phases alternate CRITICAL, LOW, CRITICAL, LOW (PINGS each: ~500 pings and ~3 s
 * of flood per priority), after warm-up phases. The details show the lowest flood rate achieved and the
 * largest backlog (published − delivered) seen, i.e. whether the bus kept up.
 *
 * The pings: a separate child (osc-child.ts pinger) sends one every PING_EVERY_MS over UDP to the
 * daemon's OSC port and records its send time as `performance.timeOrigin + performance.now()`; the
 * handler records the same in this process. Both read the system clock's time base, so the difference
 * is the one-way time. Two checks, in the details: `clock_offset_us`, the pinger's clock minus this
 * process's measured NTP-style over UDP (within ± `clock_offset_bound_us`; a few µs here), and a phase
 * of pings without flood, `calibration_*` (PERFORMANCE-NOTES: 50–150 µs one-way on this VM, more when
 * both processes idle between pings, as here: VM wake-up).
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { validateConfig } from '../config/index.js';
import { type MessageBus, Priority } from '../daemon/bus/index.js';
import { Daemon } from '../daemon/daemon.js';
import type { PartFactory } from '../daemon/kernel/part.js';
import { defaultParts } from '../daemon/parts.js';
import {
  CHILD_TIMEOUT_MS,
  closeSocket,
  connectUdp,
  forkHelper,
  type Helper,
  udpSocket,
} from './osc-procs.js';
import type { Figure, RunResult } from './types.js';
import { percentile, settle } from './util.js';

/** Offered LOW flood, messages per second. */
const FLOOD_RATE = 200_000;
/** Most flood messages published in one event-loop turn (catching up after a pause). */
const MAX_PER_TURN = 2_000;
/** The flood runs this long before the first ping. */
const FLOOD_LEAD_MS = 200;
const PING_EVERY_MS = 5;
/** Pings per measured flood phase; ROUNDS rounds of a CRITICAL then a LOW phase (ABAB against drift). */
const PINGS = 250;
const ROUNDS = 2;
const CALIBRATION_PINGS = 200;
/** Warm-up pings per route, without and then under the flood (the JIT compiles the flood path). */
const WARMUP_PINGS = 100;
/** Pings handled later than this after the last send count as lost. */
const PING_GRACE_MS = 1_000;
/** More than this share of pings lost fails the run. */
const MAX_LOST_SHARE = 0.01;

const FLOOD_PAYLOAD = { value: 1 };

/** The wall-clock time base both processes read (ms). */
const wallNow = (): number => performance.timeOrigin + performance.now();

/** The LOW flood producer. */
class Flood {
  published = 0;
  delivered = 0;
  maxBacklog = 0;
  private running = false;
  private startedAt = 0;
  private stoppedAt = 0;
  private done: (() => void) | undefined;

  constructor(private readonly bus: MessageBus) {}

  readonly onDelivered = (): void => {
    this.delivered++;
  };

  start(): void {
    this.running = true;
    this.published = 0;
    this.delivered = 0;
    this.maxBacklog = 0;
    this.startedAt = performance.now();
    setImmediate(this.tick);
  }

  /** Stops publishing; resolves once the last turn ran. Returns the rate achieved (msg/s). */
  async stop(): Promise<number> {
    const stopped = new Promise<void>((resolve) => {
      this.done = resolve;
    });
    this.running = false;
    await stopped;
    return (this.published * 1000) / (this.stoppedAt - this.startedAt);
  }

  /** Resolves once the bus delivered every flood message published (at most `ms`). */
  async drained(ms: number): Promise<void> {
    const end = performance.now() + ms;
    while (this.delivered < this.published) {
      if (performance.now() > end) {
        throw new Error(`flood not drained within ${ms} ms: ${this.published - this.delivered} pending`);
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  private readonly tick = (): void => {
    const now = performance.now();
    if (!this.running) {
      this.stoppedAt = now;
      this.done?.();
      return;
    }
    const due = Math.min(
      Math.floor(((now - this.startedAt) * FLOOD_RATE) / 1000),
      this.published + MAX_PER_TURN,
    );
    const bus = this.bus;
    while (this.published < due) {
      bus.publish({ type: 'flood', from: 'bench', priority: Priority.LOW, payload: FLOOD_PAYLOAD });
      this.published++;
    }
    const backlog = this.published - this.delivered;
    if (backlog > this.maxBacklog) this.maxBacklog = backlog;
    setImmediate(this.tick);
  };
}

/** What the ping handler records: the arrival wall time per seq. */
class Arrivals {
  readonly at: Float64Array;
  private waiting: { seq: number; resolve: () => void } | undefined;

  constructor(size: number) {
    this.at = new Float64Array(size);
  }

  readonly onPing = (seq: number): void => {
    this.at[seq] = wallNow();
    if (this.waiting !== undefined && seq === this.waiting.seq) this.waiting.resolve();
  };

  /** Resolves once ping `seq` was handled, or after `ms`. */
  waitFor(seq: number, ms: number): Promise<void> {
    if (this.at[seq]! > 0) return Promise.resolve();
    return new Promise((resolve) => {
      const finish = (): void => {
        clearTimeout(timer);
        this.waiting = undefined;
        resolve();
      };
      const timer = setTimeout(finish, ms);
      this.waiting = { seq, resolve: finish };
    });
  }
}

/** Clock probes; the one with the shortest round trip gives the offset. */
const CLOCK_PROBES = 300;

/**
 * The pinger's wall clock minus this process's (µs), NTP-style: a probe sent at t0 and answered with
 * the child's time tc arrives at t1; offset = tc − (t0 + t1) / 2, within ± (t1 − t0) / 2 (shortest
 * round trip kept). Checks the assumption the one-way times rest on: that both clocks agree.
 */
async function clockOffset(pinger: Helper): Promise<{ offsetUs: number; rttUs: number }> {
  const { port } = await pinger.request<{ port: number }>('clock');
  const { socket } = await udpSocket();
  try {
    await connectUdp(socket, port);
    let best = { offsetUs: 0, rttUs: Number.POSITIVE_INFINITY };
    const probe = Buffer.alloc(4);
    for (let i = 0; i < CLOCK_PROBES; i++) {
      const t0 = wallNow();
      const reply = await new Promise<Buffer>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('clock probe: no answer within 1 s')), 1_000);
        socket.once('message', (msg: Buffer) => {
          clearTimeout(timer);
          resolve(msg);
        });
        socket.send(probe);
      });
      const t1 = wallNow();
      if ((t1 - t0) * 1000 < best.rttUs) {
        best = { offsetUs: (reply.readDoubleBE(0) - (t0 + t1) / 2) * 1000, rttUs: (t1 - t0) * 1000 };
      }
    }
    return best;
  } finally {
    await closeSocket(socket);
  }
}

/** One phase's one-way times (µs, Infinity for a lost ping), and how many were lost. */
interface Phase {
  oneWay: Float64Array;
  lost: number;
}

interface Rig {
  daemonPort: number;
  pinger: Helper;
  arrivals: Arrivals;
  nextSeq: number;
}

async function pings(rig: Rig, address: string, count: number): Promise<Phase> {
  const base = rig.nextSeq;
  rig.nextSeq += count;
  const { sentAt } = await rig.pinger.request<{ sentAt: number[] }>(
    'ping',
    { port: rig.daemonPort, address, count, base, everyMs: PING_EVERY_MS },
    count * PING_EVERY_MS * 2 + CHILD_TIMEOUT_MS,
  );
  await rig.arrivals.waitFor(base + count - 1, PING_GRACE_MS);
  const oneWay = new Float64Array(count);
  let lost = 0;
  for (let i = 0; i < count; i++) {
    const at = rig.arrivals.at[base + i]!;
    if (at > 0) oneWay[i] = (at - sentAt[i]!) * 1000;
    else {
      oneWay[i] = Number.POSITIVE_INFINITY;
      lost++;
    }
  }
  if (lost > count * MAX_LOST_SHARE) {
    throw new Error(`${address}: ${lost} of ${count} pings never reached their handler`);
  }
  return { oneWay, lost };
}

interface FloodPhase extends Phase {
  floodRate: number;
  maxBacklog: number;
}

/** Pings under a flood started FLOOD_LEAD_MS before them; the flood stops and drains after. */
async function pingsUnderFlood(rig: Rig, flood: Flood, address: string, count: number): Promise<FloodPhase> {
  await settle();
  flood.start();
  let phase: Phase;
  let floodRate: number;
  try {
    await new Promise((resolve) => setTimeout(resolve, FLOOD_LEAD_MS));
    phase = await pings(rig, address, count);
  } finally {
    floodRate = await flood.stop();
  }
  const maxBacklog = flood.maxBacklog;
  await flood.drained(CHILD_TIMEOUT_MS);
  return { ...phase, floodRate, maxBacklog };
}

/** The phases' one-way times together; the lowest flood rate and the largest backlog. */
function merge(phases: readonly FloodPhase[]): FloodPhase {
  const oneWay = new Float64Array(phases.reduce((n, ph) => n + ph.oneWay.length, 0));
  let at = 0;
  for (const ph of phases) {
    oneWay.set(ph.oneWay, at);
    at += ph.oneWay.length;
  }
  return {
    oneWay,
    lost: phases.reduce((n, ph) => n + ph.lost, 0),
    floodRate: Math.min(...phases.map((ph) => ph.floodRate)),
    maxBacklog: Math.max(...phases.map((ph) => ph.maxBacklog)),
  };
}

const p = (a: Float64Array, q: number): number => percentile(a, q);
/** The largest finite value (a lost ping is Infinity, which JSON cannot carry). */
const maxFinite = (a: Float64Array): number => a.reduce((m, v) => (Number.isFinite(v) && v > m ? v : m), 0);

export const criticalUnderFlood: Figure = {
  name: 'osc.critical_under_flood_p99_us',
  unit: 'µs',
  baselineName: 'same pings routed LOW',
  goal: '< 2000 µs',
  met: (value) => value < 2_000,
  async run(): Promise<RunResult> {
    const config = validateConfig({
      api: { host: '127.0.0.1', port: 0 },
      bus: { maxQueueSize: 1_000_000 },
      osc: {
        listen: { host: '127.0.0.1', port: 0 },
        recvBufferBytes: 4 * 1024 * 1024,
        routes: [
          { address: '/ping', type: 'ping', priority: 'CRITICAL', payload: { seq: { arg: 0 } } },
          { address: '/ping_low', type: 'ping', priority: 'LOW', payload: { seq: { arg: 0 } } },
        ],
      },
      // The gateway alone, as the other osc figures: no MIDI, no band, no audio.
      midi: { enabled: false },
      agents: { enabled: false },
      audio: { enabled: false },
      log: { level: 'info', pretty: 'never' },
    });
    const nowhere = new Writable({
      write(_chunk, _encoding, done) {
        done();
      },
    });
    const logger = pino({ level: 'info' }, nowhere);
    const total = WARMUP_PINGS * 4 + CALIBRATION_PINGS + PINGS * 2 * ROUNDS + 1;
    const arrivals = new Arrivals(total);
    let flood: Flood | undefined;
    const bench: PartFactory = (ctx) => {
      flood = new Flood(ctx.bus);
      ctx.bus.subscribe('ping', (m) => arrivals.onPing((m.payload as { seq: number }).seq));
      ctx.bus.subscribe('flood', flood.onDelivered);
      return [];
    };
    const daemon = new Daemon({ config, logger, parts: [...defaultParts, bench] });
    let pinger: Helper | undefined;
    try {
      await daemon.start();
      const osc = daemon.health().parts.find((part) => part.name === 'osc');
      const port = (osc?.details?.listeners as { port: number }[] | undefined)?.[0]?.port;
      if (port === undefined || flood === undefined) {
        throw new Error(`the daemon's OSC adapter is not listening: ${JSON.stringify(osc)}`);
      }
      pinger = forkHelper('pinger');
      const rig: Rig = { daemonPort: port, pinger, arrivals, nextSeq: 1 };
      await pings(rig, '/ping', WARMUP_PINGS);
      await pings(rig, '/ping_low', WARMUP_PINGS);
      await pingsUnderFlood(rig, flood, '/ping', WARMUP_PINGS);
      await pingsUnderFlood(rig, flood, '/ping_low', WARMUP_PINGS);
      const clock = await clockOffset(pinger);
      await settle();
      const calibration = await pings(rig, '/ping', CALIBRATION_PINGS);
      const critical: FloodPhase[] = [];
      const low: FloodPhase[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        critical.push(await pingsUnderFlood(rig, flood, '/ping', PINGS));
        low.push(await pingsUnderFlood(rig, flood, '/ping_low', PINGS));
      }
      const c = merge(critical);
      const l = merge(low);
      return {
        value: p(c.oneWay, 99),
        baseline: p(l.oneWay, 99),
        details: {
          p50_us: p(c.oneWay, 50),
          max_us: maxFinite(c.oneWay),
          baseline_p50_us: p(l.oneWay, 50),
          calibration_min_us: p(calibration.oneWay, 0),
          calibration_p50_us: p(calibration.oneWay, 50),
          calibration_p99_us: p(calibration.oneWay, 99),
          clock_offset_us: clock.offsetUs,
          clock_offset_bound_us: clock.rttUs / 2,
          lost: c.lost,
          baseline_lost: l.lost,
          flood_rate: c.floodRate,
          flood_max_backlog: c.maxBacklog,
          baseline_flood_rate: l.floodRate,
          baseline_flood_max_backlog: l.maxBacklog,
        },
      };
    } finally {
      await pinger?.stop();
      await daemon.stop();
    }
  },
};
