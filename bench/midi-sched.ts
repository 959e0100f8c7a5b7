/**
 * What the machine did meanwhile (Linux /proc; zeros elsewhere), for the midi group's details: a
 * process's CPU time and the time it was runnable but not running (another process had the CPU), and
 * how busy the machine's CPUs were. A late clock or a slow note with a long run-queue wait was the
 * machine's, not the code's.
 */
import { readFileSync } from 'node:fs';

/** A process's main thread, from /proc/<pid>/schedstat (Linux): ns on a CPU, ns runnable but waiting. */
export interface SchedStat {
  cpuNs: number;
  waitNs: number;
}

/** The scheduler statistics of `pid`'s main thread; zeros where /proc has none (not Linux). */
export function schedStat(pid: number | undefined): SchedStat {
  try {
    const [cpu = '0', wait = '0'] = readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ');
    return { cpuNs: Number(cpu), waitNs: Number(wait) };
  } catch {
    return { cpuNs: 0, waitNs: 0 };
  }
}

/** The machine's CPU time so far from /proc/stat (clock ticks): all of it, and the busy part. */
export function machineTicks(): { total: number; busy: number } {
  try {
    const fields = readFileSync('/proc/stat', 'utf8')
      .split('\n')[0]!
      .trim()
      .split(/\s+/)
      .slice(1, 9)
      .map(Number);
    const total = fields.reduce((s, v) => s + v, 0);
    // idle and iowait are not busy.
    return { total, busy: total - fields[3]! - fields[4]! };
  } catch {
    return { total: 0, busy: 0 };
  }
}

/** How busy the machine's CPUs were between two machineTicks() readings, % of all CPUs. */
export function busyPercent(
  from: { total: number; busy: number },
  to: { total: number; busy: number },
): number {
  const total = to.total - from.total;
  return total > 0 ? (100 * (to.busy - from.busy)) / total : 0;
}
