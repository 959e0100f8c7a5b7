/**
 * midi.clock_out_jitter_p99_us (issue #7): MIDI clock out at 24 ppqn and 120 BPM for 10 s (480
 * clocks), the time each clock message is handed to the transport vs its ideal time.
 *
 * The value: the adapter's own output side, a MidiOut (midi-out.ts) with clock out to one endpoint in
 * mode `always`, on the daemon's real Scheduler (`new Scheduler({ clock: systemClock })`, warmed up the
 * way daemon.ts does). Its sink is the transport seam: `send(endpoint, bytes)` is where the adapter
 * hands the bytes to a port or session, and there each clock (F8) notes `systemClock()`. The ideal
 * times are an independent grid, not the times the ClockSender computes: clock n is due at
 * t0 + n · 60000 / (120 · 24) ms, t0 the time of the Start (the first time MidiOut asks the timeline
 * for; the first clock goes with it). So a drift in the sender's arithmetic would show too.
 *
 * The baseline: the naive clock, `setInterval(period)` sending each F8 through the same sink, measured
 * against its own grid t0 + (n + 1) · period (t0 when the interval was set). Node truncates the period
 * to whole milliseconds (PERFORMANCE-NOTES, "Timers"), so it drifts.
 *
 * Jitter is |sent − ideal|; the figure is its p99 over the 480 clocks, in µs. Details: p50 and max, the
 * last clock's signed error (the goal: within 1 ms, no drift) and the baseline's, the drift of both
 * (median error of the last 48 clocks minus that of the first 48), the CPU the clock cost (the
 * scheduler waits the last few ms before each clock out on the CPU), and the scheduler's stall reports: how many clocks came more than 1 ms late, and how many of those the scheduler saw a stall
 * for (the process lost the CPU: scheduler.ts `stallMs`, read from the tick itself); how long the
 * process waited for a CPU in all (run-queue wait, /proc) and how busy the machine was (midi-sched.ts).
 * The two clocks run one after the other, never together: each would delay the other's timers.
 *
 * Then the value once more with this process's event loop at SCHED_FIFO {@link RT_PRIORITY}, as
 * `daemon.realtimePriority` runs the daemon (daemon/realtime.ts): `rt_*` in the details (`rt_available`
 * 0 where the machine does not permit it). The figure itself stays the default, normal priority.
 */
import { BPM_PER_PERIOD } from '../adapters/midi/clock-fit.js';
import { EndpointStats } from '../adapters/midi/endpoints.js';
import { MidiOut, type MidiSink } from '../adapters/midi/midi-out.js';
import { MessageBus, silentLogger, systemClock } from '../daemon/bus/index.js';
import { Scheduler, type Timeline } from '../daemon/kernel/scheduler.js';
import { busyPercent, machineTicks, schedStat } from './midi-sched.js';
import type { Figure, RunResult } from './types.js';
import { median, timingFigure } from './util.js';

const BPM = 120;
const PERIOD_MS = BPM_PER_PERIOD / BPM;
/** 10 s of clocks. */
const TICKS = Math.round(10_000 / PERIOD_MS);
const CLOCK = 0xf8;
/** A clock later than this (ms) is looked at for a stall. */
const LATE_MS = 1;
/** The SCHED_FIFO priority of the real-time pass (README suggests 10 for `daemon.realtimePriority`). */
const RT_PRIORITY = 10;

/** One clock's measurements. */
interface Clocks {
  /** sent − ideal, ms, per clock. */
  errorMs: Float64Array;
  /** The scheduler's stall report for the tick of each clock (ms; 0 for the baseline). */
  stallMs: Float64Array;
  /** CPU time (user + system) over the run / wall time, %. */
  cpuPct: number;
  /** Time this process was runnable but another had the CPU, ms; how busy the machine was, %. */
  runqWaitMs: number;
  machineBusyPct: number;
}

/** Starts the CPU and machine figures of a run; the function returned ends them. */
function watch(): () => Pick<Clocks, 'cpuPct' | 'runqWaitMs' | 'machineBusyPct'> {
  const cpu = process.cpuUsage();
  const wall = performance.now();
  const sched = schedStat(process.pid);
  const machine = machineTicks();
  return () => {
    const used = process.cpuUsage(cpu);
    return {
      cpuPct: ((used.user + used.system) / 1000 / (performance.now() - wall)) * 100,
      runqWaitMs: (schedStat(process.pid).waitNs - sched.waitNs) / 1e6,
      machineBusyPct: busyPercent(machine, machineTicks()),
    };
  };
}

/** A sink that records the time of every clock handed to it; resolves `done` after TICKS clocks. */
function recordingSink(read: () => void): { sink: MidiSink; sentAt: Float64Array; done: Promise<void> } {
  const sentAt = new Float64Array(TICKS);
  let n = 0;
  let finish!: () => void;
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const known = new Set(['out']);
  const sink: MidiSink = {
    send(_endpoint, bytes) {
      if (bytes[0] !== CLOCK || n >= TICKS) return true;
      sentAt[n] = systemClock();
      read();
      if (++n === TICKS) finish();
      return true;
    },
    outputs: () => ['out'],
    expand: (id) => [id],
    known: () => known,
  };
  return { sink, sentAt, done };
}

/** MidiOut's clock on the real scheduler. */
async function adapterClock(): Promise<Clocks> {
  const scheduler = new Scheduler({ clock: systemClock });
  // As daemon.ts does: run the scheduler once, so its first real event does not pay for the warm-up.
  scheduler.at(systemClock() + 1, () => {});
  await new Promise((resolve) => setTimeout(resolve, 10));
  let t0 = Number.NaN;
  const timeline: Timeline = {
    now: () => scheduler.now(),
    at(time, run) {
      if (Number.isNaN(t0)) t0 = time;
      return scheduler.at(time, run);
    },
  };
  const stallMs = new Float64Array(TICKS);
  let n = 0;
  const { sink, sentAt, done } = recordingSink(() => {
    stallMs[n++] = scheduler.stallMs;
  });
  const bus = new MessageBus();
  const out = new MidiOut(
    { drumMap: {}, drumChannel: 10 },
    { to: ['out'], bpm: BPM, mode: 'always' },
    bus,
    timeline,
    sink,
    new EndpointStats(),
    () => {},
    silentLogger,
  );
  const end = watch();
  out.start([]);
  await done;
  const figures = end();
  out.stop();
  scheduler.stop();
  await bus.stop();
  const errorMs = sentAt.map((at, i) => at - (t0 + i * PERIOD_MS));
  return { errorMs, stallMs, ...figures };
}

/** The naive clock: setInterval(period). */
async function naiveClock(): Promise<Clocks> {
  const { sink, sentAt, done } = recordingSink(() => {});
  const bytes = Uint8Array.of(CLOCK);
  const end = watch();
  const t0 = systemClock();
  const timer = setInterval(() => sink.send('out', bytes), PERIOD_MS);
  await done;
  clearInterval(timer);
  const figures = end();
  const errorMs = sentAt.map((at, i) => at - (t0 + (i + 1) * PERIOD_MS));
  return { errorMs, stallMs: new Float64Array(TICKS), ...figures };
}

/** Clocks at each end of the run compared for drift. */
const DRIFT_TICKS = 48;

/**
 * The drift over the run, µs: the median error of the last DRIFT_TICKS clocks minus that of the first
 * ones (medians, so one late clock at either end does not pass for drift).
 */
const driftUs = (c: Clocks): number =>
  (median([...c.errorMs.subarray(TICKS - DRIFT_TICKS)]) - median([...c.errorMs.subarray(0, DRIFT_TICKS)])) *
  1000;

export const clockOutJitterP99: Figure = {
  name: 'midi.clock_out_jitter_p99_us',
  unit: 'µs',
  baselineName: 'naive setInterval clock',
  goal: '< 1000 µs (and last clock within 1 ms: details)',
  met: (value) => value < 1_000,
  async run(): Promise<RunResult> {
    const { value, base, result } = await timingFigure(adapterClock, naiveClock, {
      what: 'tick',
      lateMs: LATE_MS,
      rtPriority: RT_PRIORITY,
    });
    Object.assign(result.details, {
      drift_us: driftUs(value),
      baseline_drift_us: driftUs(base),
      runq_wait_ms: value.runqWaitMs,
      machine_busy_pct: value.machineBusyPct,
      baseline_machine_busy_pct: base.machineBusyPct,
    });
    return result;
  },
};
