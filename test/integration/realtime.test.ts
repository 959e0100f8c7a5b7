/**
 * `daemon.realtimePriority` (daemon/realtime.ts): the daemon raises its event loop, and only it, to
 * SCHED_FIFO with util-linux's chrt, reads back what the kernel applied and shows it in /health; where it
 * may not (no chrt, no RLIMIT_RTPRIO) it says why and runs on at normal priority.
 */
import { execFileSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { applyRealtime, readScheduling } from '../../daemon/realtime.js';
import { type DaemonProcess, spawnDaemon, tempDir, untilReady } from '../helpers/process.js';

/** Whether this machine lets this user raise a process to SCHED_FIFO (root, or RLIMIT_RTPRIO). */
function fifoAllowed(): boolean {
  const sleeper = spawn('sleep', ['5'], { stdio: 'ignore' });
  try {
    execFileSync('chrt', ['--fifo', '--pid', '1', String(sleeper.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  } finally {
    sleeper.kill();
  }
}

const CONFIG = `log: { level: info, pretty: never }
midi: { ports: { enabled: false }, network: { port: 0 } }
agents: { enabled: false }
audio: { enabled: false }
daemon: { realtimePriority: 7 }
`;

let daemon: DaemonProcess | undefined;
const dirs: { cleanup: () => void }[] = [];
afterEach(async () => {
  if (daemon !== undefined && daemon.proc.exitCode === null) {
    daemon.proc.kill('SIGTERM');
    await daemon.exited;
  }
  daemon = undefined;
  for (const d of dirs.splice(0)) d.cleanup();
});

interface Realtime {
  policy: string;
  priority: number;
  requested: number;
  problem?: string;
}

describe('real-time scheduling of the event loop', () => {
  it('leaves the event loop alone at 0 and reports its policy', () => {
    expect(applyRealtime(0)).toEqual({ policy: 'other', priority: 0, requested: 0 });
  });

  it('says plainly when chrt is missing, and the event loop stays as it was', () => {
    const r = applyRealtime(5, '/nonexistent/chrt');
    expect(r).toMatchObject({ policy: 'other', priority: 0, requested: 5 });
    expect(r.problem).toMatch(/chrt not found: real-time scheduling needs util-linux's chrt/);
  });

  it('reads the policy the kernel applied to a thread', () => {
    const sleeper = spawn('sleep', ['5'], { stdio: 'ignore' });
    try {
      // Another process's main thread is not in this process's /proc/self/task: unknown, never a guess.
      expect(readScheduling(sleeper.pid)).toEqual({ policy: 'unknown', priority: 0 });
      expect(readScheduling()).toEqual({ policy: 'other', priority: 0 });
    } finally {
      sleeper.kill();
    }
  });

  /** Starts the daemon asking for SCHED_FIFO 7, under `wrapper`; its /health and the main thread's id. */
  async function startAsking(wrapper: string[] = []) {
    const t = tempDir();
    dirs.push(t);
    daemon = spawnDaemon(['--config', t.file('config.yaml', CONFIG)], {}, wrapper);
    const line = await daemon.waitFor(
      (l) => typeof l.msg === 'string' && l.msg.startsWith('performia ready'),
    );
    const url = line.api as string;
    await untilReady(url);
    const health = (await (await fetch(`${url}/health`)).json()) as {
      status: string;
      scheduler: { realtime: Realtime };
    };
    return { health, pid: daemon.proc.pid! };
  }

  it.skipIf(!fifoAllowed())(
    'runs the event loop at SCHED_FIFO 7, the other threads at normal priority',
    async () => {
      const { health, pid } = await startAsking();
      expect(health.scheduler.realtime).toEqual({ policy: 'fifo', priority: 7, requested: 7 });
      expect(stat(pid, pid)).toEqual({ priority: 7, policy: 1 });
      // Only the event loop: V8's and libuv's threads stay SCHED_OTHER (policy 0).
      const others = readdirSync(`/proc/${pid}/task`)
        .map(Number)
        .filter((tid) => tid !== pid);
      expect(others.length).toBeGreaterThan(0);
      for (const tid of others) expect(stat(pid, tid).policy).toBe(0);
      expect(daemon!.lines.some((l) => l.msg === 'event loop runs at SCHED_FIFO')).toBe(true);
      expect(['ok', 'degraded']).toContain(health.status);
    },
  );

  it('runs on at normal priority where SCHED_FIFO is not permitted, and says how to allow it', async () => {
    // No real-time priority allowed: RLIMIT_RTPRIO 0, and for root also no CAP_SYS_NICE.
    const wrapper =
      process.getuid?.() === 0
        ? ['setpriv', '--bounding-set=-sys_nice', 'prlimit', '--rtprio=0']
        : ['prlimit', '--rtprio=0'];
    const { health, pid } = await startAsking(wrapper);
    expect(health.scheduler.realtime).toMatchObject({ policy: 'other', priority: 0, requested: 7 });
    expect(health.scheduler.realtime.problem).toMatch(/not permitted to use SCHED_FIFO 7.*LimitRTPRIO/);
    expect(stat(pid, pid).policy).toBe(0);
    const warned = daemon!.lines.find((l) => l.code === 'PFM_ERR_DAEMON_REALTIME');
    expect(warned?.msg).toMatch(/^The event loop stays at normal priority: not permitted/);
    expect(['ok', 'degraded']).toContain(health.status);
  });
});

/** Real-time priority and policy of thread `tid` of process `pid` (proc(5), stat fields 40 and 41). */
function stat(pid: number, tid: number): { priority: number; policy: number } {
  const text = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { priority: Number(f[40 - 3]), policy: Number(f[41 - 3]) };
}
