/**
 * Real-time scheduling of the event loop (config `daemon.realtimePriority`), for machines where beats and
 * MIDI clock must leave on time while other programs run (issues #7 and #8, "Benchmarks").
 *
 * Why: the scheduler (kernel/scheduler.ts) wakes before each event and waits the last few ms out on the
 * CPU, but a process of the normal class (SCHED_OTHER) can still be kept off the CPU for milliseconds by
 * other work at the moment it matters. Measured on this project's 2-core VM (bench `clock`, `midi`): the
 * conductor's beats p99 ~2–3.5 ms late as SCHED_OTHER, ~0.33 ms with the event loop at SCHED_FIFO 10;
 * the MIDI clock out p99 ~1.5 ms vs ~0.27 ms.
 *
 * How: Node has no call for it, so util-linux's `chrt` sets the policy of the main thread (its thread id
 * is the process id), with SCHED_RESET_ON_FORK, so threads and processes started later (libuv's thread
 * pool, the audio engine's child, systemd-notify) stay in the normal class: only the event loop is raised.
 * An unprivileged process may do this up to its RLIMIT_RTPRIO (the shipped systemd unit sets
 * LimitRTPRIO=70). What the kernel then really applied is read back from /proc, not assumed.
 *
 * Safety: a SCHED_FIFO thread that never sleeps would starve the normal programs of its core; the
 * kernel's RT throttling (sched_rt_runtime_us, 95 % by default) keeps the machine reachable, and a blocked
 * event loop misses its watchdog pings, so systemd restarts it. A failure to raise the priority is
 * logged with the reason and the daemon runs on at normal priority: it is an optimisation, not a must.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** The event loop's scheduling, for /health. */
export interface Scheduling {
  /** The policy in force: `fifo`, `rr`, `other`, `batch`, `idle` or `unknown` (not Linux). */
  policy: string;
  /** The real-time priority in force (0 outside fifo/rr). */
  priority: number;
  /** The priority asked for in config (0: not asked). */
  requested: number;
  /** Why the request was not met, when it was not. */
  problem?: string;
}

const POLICIES = ['other', 'fifo', 'rr', 'batch', 'iso', 'idle', 'deadline'];

/**
 * The policy and real-time priority of thread `tid` of this process, from /proc (proc(5): fields 40
 * `rt_priority` and 41 `policy` of `stat`; the reset-on-fork flag is not part of the policy there).
 */
export function readScheduling(tid: number = process.pid): { policy: string; priority: number } {
  try {
    const stat = readFileSync(`/proc/${process.pid}/task/${tid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state), so field n is fields[n - 3].
    const priority = Number(fields[40 - 3]);
    const policy = POLICIES[Number(fields[41 - 3])] ?? 'unknown';
    return { policy, priority: Number.isFinite(priority) ? priority : 0 };
  } catch {
    // No /proc (macOS, Windows): nothing to report; `policy: unknown` says so.
    return { policy: 'unknown', priority: 0 };
  }
}

/**
 * Raises the event loop (this process's main thread) to SCHED_FIFO `priority` (1..99), with
 * reset-on-fork; 0 leaves it alone. Never throws: the result says what is in force, and why not when
 * the request failed. `command` is the chrt to run (tests give a missing one).
 */
export function applyRealtime(priority: number, command = 'chrt'): Scheduling {
  if (priority <= 0) return { ...readScheduling(), requested: 0 };
  let problem: string | undefined;
  try {
    execFileSync(command, ['--fifo', '--reset-on-fork', '--pid', String(priority), String(process.pid)], {
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout: 5_000,
    });
  } catch (err) {
    problem = realtimeProblem(err, priority, command);
  }
  const now = readScheduling();
  if (problem === undefined && (now.policy !== 'fifo' || now.priority !== priority)) {
    problem = `${command} ran, but the event loop is ${now.policy} ${now.priority}`;
  }
  return problem === undefined ? { ...now, requested: priority } : { ...now, requested: priority, problem };
}

/** A reason a show technician can act on. */
function realtimeProblem(err: unknown, priority: number, command: string): string {
  const e = err as { code?: string; stderr?: Buffer; message: string };
  if (e.code === 'ENOENT') {
    return `${command} not found: real-time scheduling needs util-linux's chrt (Linux only)`;
  }
  const said = e.stderr?.toString().trim() || e.message;
  if (/not permitted/i.test(said)) {
    return (
      `not permitted to use SCHED_FIFO ${priority} (${said}): allow it with LimitRTPRIO= in the systemd ` +
      'unit (the shipped unit allows 70) or an rtprio line in /etc/security/limits.d for this user'
    );
  }
  return said;
}
