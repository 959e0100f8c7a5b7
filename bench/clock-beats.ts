/**
 * clock.beat_jitter_p99_us (issue #8, "Benchmarks"): the conductor's beats at 120 BPM for 30 s (60
 * beats), the time each `beat_event` is handed to the bus vs its ideal publish time.
 *
 * The value: the real Conductor (agents/conductor.ts, the default config: 120 BPM, 4/4, lookahead
 * 100 ms, autoStart) on the daemon's real Scheduler (`new Scheduler({ clock: systemClock })`, warmed up
 * the way daemon.ts does) and a bus with the daemon's default options. The time a beat is handed to the
 * bus is the moment `bus.publish` is called with it: the bench wraps that bus's `publish` and reads
 * `systemClock()` there, so the figure does not depend on the bus's timestamps (one clock read serves up
 * to 64 publishes by default). The ideal times are an independent grid, not the times the conductor
 * computes: beat n is due at t0 + n · 60000 / 120 ms, t0 the `at` of the first beat, and is due on the
 * bus `lookaheadMs` before that. So a drift in the conductor's arithmetic would show in the figure, and
 * its `at` values are checked against the same grid too (`at_max_error_us`).
 *
 * The baseline: the naive beat, `setInterval(500)` publishing a beat through the same wrapped bus,
 * measured against its own grid t0 + (n + 1) · 500 ms (t0 when the interval was set). Node re-arms an
 * interval from the time its callback ran, so each beat's lateness adds up: it drifts. Same length as
 * the value (30 s), so both see the same drift window; a run takes ~61 s (the runner allows 120 s).
 *
 * Jitter is |published − ideal|; the figure is its p99 over the 60 beats, in µs. With 60 beats the
 * nearest-rank p99 is the largest error: one late beat decides the figure. Details: p50 and max, the
 * last beat's signed error (the goal: within 1 ms, no drift) and the baseline's (its drift), the CPU
 * over the run (the scheduler waits the last few ms out on the CPU), and the scheduler's stall reports:
 * how many beats came more than 1 ms late, and for how many of those the scheduler saw a stall (the VM
 * took the CPU away: scheduler.ts `stallMs`, read at the publish, from inside the tick).
 * The two run one after the other, never together: each would delay the other's timers.
 *
 * Then the value once more with this process's event loop at SCHED_FIFO {@link RT_PRIORITY}, as
 * `daemon.realtimePriority` runs the daemon (daemon/realtime.ts): `rt_*` in the details (`rt_available`
 * 0 where the machine does not permit it). The figure itself stays the default, normal priority.
 */
import Value from 'typebox/value';
import { Conductor } from '../agents/conductor.js';
import { type AgentsConfig, AgentsSchema } from '../config/agents-schema.js';
import { MessageBus, Priority, systemClock } from '../daemon/bus/index.js';
import { Scheduler } from '../daemon/kernel/scheduler.js';
import type { Figure, RunResult } from './types.js';
import { timingFigure } from './util.js';

const BPM = 120;
const PERIOD_MS = 60_000 / BPM;
/** 30 s of beats. */
const BEATS = Math.round(30_000 / PERIOD_MS);
/** A beat later than this (ms) is looked at for a stall. */
const LATE_MS = 1;
/** The SCHED_FIFO priority of the real-time pass (README suggests 10 for `daemon.realtimePriority`). */
const RT_PRIORITY = 10;

/** One run's measurements. */
interface Beats {
  /** published − ideal publish time, ms, per beat. */
  errorMs: Float64Array;
  /** The `at` each beat carried − its ideal time, ms (the conductor's drift; 0 for the baseline). */
  atErrorMs: Float64Array;
  /** The scheduler's stall report at each beat's publish (ms; 0 for the baseline). */
  stallMs: Float64Array;
  /** CPU time (user + system) over the run / wall time, %. */
  cpuPct: number;
}

/** The beats handed to a bus: time of each `publish` call and the `at` it carried. */
interface Recorder {
  publishedAt: Float64Array;
  at: Float64Array;
  stallMs: Float64Array;
  /** Resolves once BEATS beats were handed to the bus. */
  done: Promise<void>;
}

/**
 * Wraps `bus.publish` so every `beat_event` notes the time of the call (first thing: that is the
 * moment the beat is handed to the bus), its `at`, and `stall()` read right then.
 */
function recordBeats(bus: MessageBus, stall: () => number): Recorder {
  const publishedAt = new Float64Array(BEATS);
  const at = new Float64Array(BEATS);
  const stallMs = new Float64Array(BEATS);
  let n = 0;
  let finish!: () => void;
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const publish = bus.publish.bind(bus);
  bus.publish = ((input) => {
    if (input.type === 'beat_event' && n < BEATS) {
      publishedAt[n] = systemClock();
      at[n] = (input.payload as { at: number }).at;
      stallMs[n] = stall();
      if (++n === BEATS) finish();
    }
    return publish(input);
  }) as MessageBus['publish'];
  return { publishedAt, at, stallMs, done };
}

/** A started bus with the daemon's defaults and one beat listener, as the band's players would be. */
async function startBus(): Promise<MessageBus> {
  const bus = new MessageBus();
  bus.subscribe('beat_event', () => {});
  await bus.start();
  return bus;
}

/** The conductor on the real scheduler. */
async function conductorBeats(): Promise<Beats> {
  const scheduler = new Scheduler({ clock: systemClock });
  // As daemon.ts does: run the scheduler once, so its first real event does not pay for the warm-up.
  scheduler.at(systemClock() + 1, () => {});
  await new Promise((resolve) => setTimeout(resolve, 10));
  const bus = await startBus();
  const rec = recordBeats(bus, () => scheduler.stallMs);
  const config = (Value.Default(AgentsSchema, {}) as AgentsConfig).conductor;
  const conductor = new Conductor({ ...config, bpm: BPM, autoStart: true }, { bus, scheduler });
  const lookahead = config.lookaheadMs;
  const cpu = process.cpuUsage();
  const wall = performance.now();
  await conductor.start();
  await rec.done;
  const cpuPct = cpuPercent(cpu, wall);
  await conductor.stop();
  scheduler.stop();
  await bus.stop({ drain: false });
  const t0 = rec.at[0]!;
  const ideal = (i: number) => t0 + i * PERIOD_MS;
  return {
    errorMs: rec.publishedAt.map((t, i) => t - (ideal(i) - lookahead)),
    atErrorMs: rec.at.map((a, i) => a - ideal(i)),
    stallMs: rec.stallMs,
    cpuPct,
  };
}

/** The naive beat: setInterval(period), publishing through the same kind of bus. */
async function naiveBeats(): Promise<Beats> {
  const bus = await startBus();
  const rec = recordBeats(bus, () => 0);
  let n = 0;
  const cpu = process.cpuUsage();
  const wall = performance.now();
  const t0 = systemClock();
  const timer = setInterval(() => {
    const beat = (n % 4) + 1;
    const bar = Math.floor(n++ / 4) + 1;
    bus.publish({
      type: 'beat_event',
      payload: { beat, bar, bpm: BPM, at: systemClock() },
      priority: Priority.CRITICAL,
      from: 'naive',
    });
  }, PERIOD_MS);
  await rec.done;
  clearInterval(timer);
  const cpuPct = cpuPercent(cpu, wall);
  await bus.stop({ drain: false });
  return {
    errorMs: rec.publishedAt.map((t, i) => t - (t0 + (i + 1) * PERIOD_MS)),
    atErrorMs: new Float64Array(BEATS),
    stallMs: new Float64Array(BEATS),
    cpuPct,
  };
}

function cpuPercent(since: NodeJS.CpuUsage, wallSince: number): number {
  const used = process.cpuUsage(since);
  return ((used.user + used.system) / 1000 / (performance.now() - wallSince)) * 100;
}

/** The largest |x| of a list, in µs. */
const maxAbsUs = (ms: Float64Array): number => ms.reduce((m, e) => Math.max(m, Math.abs(e)), 0) * 1000;

export const beatJitterP99: Figure = {
  name: 'clock.beat_jitter_p99_us',
  unit: 'µs',
  baselineName: 'naive setInterval(500) beat',
  goal: '< 1000 µs (and last beat within 1 ms: details)',
  met: (value) => value < 1_000,
  async run(): Promise<RunResult> {
    const { value, result } = await timingFigure(conductorBeats, naiveBeats, {
      what: 'beat',
      lateMs: LATE_MS,
      rtPriority: RT_PRIORITY,
    });
    result.details.at_max_error_us = maxAbsUs(value.atErrorMs);
    return result;
  },
};
