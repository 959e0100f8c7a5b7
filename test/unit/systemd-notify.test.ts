import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { type NotifierLogger, type NotifyExec, SystemdNotifier } from '../../daemon/systemd-notify.js';

interface LogEntry {
  level: 'debug' | 'info' | 'warn' | 'error';
  obj: Record<string, unknown>;
  msg: string;
}

function recordingLogger(): NotifierLogger & {
  entries: LogEntry[];
  at(level: LogEntry['level']): LogEntry[];
} {
  const entries: LogEntry[] = [];
  const log =
    (level: LogEntry['level']) =>
    (obj: object, msg: string): void => {
      entries.push({ level, obj: obj as Record<string, unknown>, msg });
    };
  return {
    entries,
    at: (level) => entries.filter((e) => e.level === level),
    debug: log('debug'),
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
  };
}

/** An exec that records each call's file and args; `fail` makes it reject. */
function recordingExec(fail?: (args: readonly string[]) => Error | undefined) {
  const calls: { file: string; args: string[] }[] = [];
  const exec: NotifyExec = async (file, args) => {
    calls.push({ file, args: [...args] });
    const err = fail?.(args);
    if (err) throw err;
  };
  return { calls, exec, args: () => calls.map((c) => c.args) };
}

const SOCKET = { NOTIFY_SOCKET: '/run/systemd/notify' };
const watchdogArgs = (args: string[][]) => args.filter((a) => a[0] === 'WATCHDOG=1');

describe('SystemdNotifier without NOTIFY_SOCKET', () => {
  it('is disabled and every method is a no-op', async () => {
    for (const env of [{}, { NOTIFY_SOCKET: '' }]) {
      const rec = recordingExec();
      const notifier = new SystemdNotifier({
        env: { ...env, WATCHDOG_USEC: '40000' },
        logger: recordingLogger(),
        exec: rec.exec,
      });
      expect(notifier.enabled).toBe(false);
      await notifier.ready('up');
      await notifier.reloading();
      await notifier.stopping();
      await notifier.status('x');
      notifier.startWatchdog();
      expect(notifier.watchdogIntervalMs).toBeNull();
      notifier.stop();
      expect(rec.calls).toEqual([]);
      expect(notifier.stats).toEqual({ sent: 0, failed: 0, watchdogPings: 0 });
    }
  });
});

describe('SystemdNotifier state notifications', () => {
  it('sends READY=1, RELOADING=1, STOPPING=1 and STATUS= with systemd-notify 252 arguments', async () => {
    const rec = recordingExec();
    const notifier = new SystemdNotifier({ env: SOCKET, logger: recordingLogger(), exec: rec.exec });
    expect(notifier.enabled).toBe(true);
    await notifier.ready();
    await notifier.ready('listening on 127.0.0.1:7070');
    await notifier.reloading();
    await notifier.stopping();
    await notifier.status('3 agents,\n2 adapters\r\n');
    expect(rec.calls.every((c) => c.file === 'systemd-notify')).toBe(true);
    const [ready, readyStatus, reloading, stopping, status] = rec.args();
    expect(ready).toEqual(['--ready']);
    expect(readyStatus).toEqual(['--ready', '--status=listening on 127.0.0.1:7070']);
    expect(reloading?.[0]).toBe('RELOADING=1');
    expect(reloading?.[1]).toMatch(/^MONOTONIC_USEC=\d+$/);
    expect(stopping).toEqual(['STOPPING=1']);
    // A newline would start another VAR=value line of the sd_notify message.
    expect(status).toEqual(['--status=3 agents, 2 adapters']);
    expect(notifier.stats).toEqual({ sent: 5, failed: 0, watchdogPings: 0 });
  });

  it('keeps call order even when the caller does not await', async () => {
    const order: string[] = [];
    let release: () => void = () => {};
    const exec: NotifyExec = async (_file, args) => {
      order.push(`start ${args[0]}`);
      if (args[0] === 'RELOADING=1') await new Promise<void>((r) => (release = r));
      order.push(`end ${args[0]}`);
    };
    const notifier = new SystemdNotifier({ env: SOCKET, logger: recordingLogger(), exec });
    const reloading = notifier.reloading();
    const ready = notifier.ready();
    await vi.waitFor(() => expect(order).toEqual(['start RELOADING=1']));
    release();
    await Promise.all([reloading, ready]);
    expect(order).toEqual(['start RELOADING=1', 'end RELOADING=1', 'start --ready', 'end --ready']);
  });

  it('logs and counts a failed send, and never rejects', async () => {
    const rec = recordingExec((args) => (args[0] === '--ready' ? new Error('exit code 1') : undefined));
    const logger = recordingLogger();
    const notifier = new SystemdNotifier({ env: SOCKET, logger, exec: rec.exec });
    await expect(notifier.ready('up')).resolves.toBeUndefined();
    await expect(notifier.stopping()).resolves.toBeUndefined();
    expect(notifier.stats).toEqual({ sent: 1, failed: 1, watchdogPings: 0 });
    const [warn] = logger.at('warn');
    expect(warn?.msg).toBe('systemd-notify --ready --status=up failed: exit code 1');
    expect((warn?.obj.err as Error | undefined)?.cause).toBeInstanceOf(Error);
    expect(warn?.obj.failures).toBe(1);
  });

  it('reports a missing systemd-notify (ENOENT) once and stops trying', async () => {
    const enoent = Object.assign(new Error('spawn systemd-notify ENOENT'), { code: 'ENOENT' });
    const rec = recordingExec(() => enoent);
    const logger = recordingLogger();
    const notifier = new SystemdNotifier({ env: SOCKET, logger, exec: rec.exec });
    await notifier.ready();
    await notifier.status('still here');
    await notifier.stopping();
    expect(rec.calls).toHaveLength(1);
    expect(logger.at('warn')).toHaveLength(1);
    expect(logger.at('warn')[0]?.msg).toMatch(
      /systemd-notify is not installed.*readiness.*cannot be reported/,
    );
    expect(notifier.stats.failed).toBe(3);
  });
});

describe('SystemdNotifier watchdog', () => {
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  it('pings WATCHDOG=1 at half WATCHDOG_USEC until stop()', async () => {
    vi.useFakeTimers();
    const rec = recordingExec();
    const env = { ...SOCKET, WATCHDOG_USEC: '40000', WATCHDOG_PID: String(process.pid) };
    const notifier = new SystemdNotifier({ env, logger: recordingLogger(), exec: rec.exec });
    notifier.startWatchdog();
    notifier.startWatchdog(); // a second start does not add a second timer
    expect(notifier.watchdogIntervalMs).toBe(20);
    await vi.advanceTimersByTimeAsync(19);
    expect(rec.calls).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(81);
    expect(rec.args()).toEqual(Array.from({ length: 5 }, () => ['WATCHDOG=1']));
    expect(notifier.stats).toEqual({ sent: 5, failed: 0, watchdogPings: 5 });
    notifier.stop();
    notifier.stop();
    expect(notifier.watchdogIntervalMs).toBeNull();
    await vi.advanceTimersByTimeAsync(200);
    expect(rec.calls).toHaveLength(5);
  });

  it('runs on an unref()d timer and pings with real timers too', async () => {
    const intervals: NodeJS.Timeout[] = [];
    const realSetInterval = globalThis.setInterval;
    vi.spyOn(globalThis, 'setInterval').mockImplementation(((...a: Parameters<typeof setInterval>) => {
      const t = realSetInterval(...a);
      intervals.push(t);
      return t;
    }) as typeof setInterval);
    let pings = 0;
    let threePings: () => void = () => {};
    const done = new Promise<void>((r) => (threePings = r));
    const exec: NotifyExec = async () => {
      if (++pings === 3) threePings();
    };
    const notifier = new SystemdNotifier({
      env: { ...SOCKET, WATCHDOG_USEC: '40000' },
      logger: recordingLogger(),
      exec,
    });
    notifier.startWatchdog();
    try {
      await done;
      expect(intervals).toHaveLength(1);
      expect(intervals[0]?.hasRef()).toBe(false);
    } finally {
      notifier.stop();
    }
  });

  it('is not started when WATCHDOG_PID names another process, or without WATCHDOG_USEC', async () => {
    vi.useFakeTimers();
    const rec = recordingExec();
    const other = new SystemdNotifier({
      env: { ...SOCKET, WATCHDOG_USEC: '40000', WATCHDOG_PID: String(process.pid + 1) },
      logger: recordingLogger(),
      exec: rec.exec,
    });
    const unasked = new SystemdNotifier({ env: SOCKET, logger: recordingLogger(), exec: rec.exec });
    other.startWatchdog();
    unasked.startWatchdog();
    await vi.advanceTimersByTimeAsync(200);
    expect(other.watchdogIntervalMs).toBeNull();
    expect(unasked.watchdogIntervalMs).toBeNull();
    expect(rec.calls).toEqual([]);
  });

  it('refuses an invalid WATCHDOG_USEC with a warning', () => {
    for (const usec of ['abc', '0', '-5', '1.5e6']) {
      const logger = recordingLogger();
      const notifier = new SystemdNotifier({
        env: { ...SOCKET, WATCHDOG_USEC: usec },
        logger,
        exec: async () => {},
      });
      notifier.startWatchdog();
      expect(notifier.watchdogIntervalMs).toBeNull();
      expect(logger.at('warn')[0]?.msg).toContain(`got "${usec}"`);
    }
  });

  it('logs and counts failed pings and keeps pinging', async () => {
    vi.useFakeTimers();
    let n = 0;
    const rec = recordingExec(() => (++n % 2 === 1 ? new Error('Failed to notify init system') : undefined));
    const logger = recordingLogger();
    const env = { ...SOCKET, WATCHDOG_USEC: '40000' };
    const notifier = new SystemdNotifier({ env, logger, exec: rec.exec });
    notifier.startWatchdog();
    await vi.advanceTimersByTimeAsync(80);
    notifier.stop();
    expect(watchdogArgs(rec.args())).toHaveLength(4);
    expect(notifier.stats).toEqual({ sent: 2, failed: 2, watchdogPings: 2 });
    expect(logger.at('warn').map((e) => e.msg)).toEqual([
      'systemd-notify WATCHDOG=1 failed: Failed to notify init system',
      'systemd-notify WATCHDOG=1 failed: Failed to notify init system',
    ]);
  });
});

// ---- The real default exec -------------------------------------------------------------------------

const hasSystemdNotify = spawnSync('systemd-notify', ['--version']).status === 0;
const hasPython = spawnSync('python3', ['-c', 'import socket; socket.AF_UNIX']).status === 0;

describe('SystemdNotifier with the default exec', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pfm-notify-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reports a systemd-notify missing from PATH once, without throwing', async () => {
    const logger = recordingLogger();
    // An empty directory as PATH: spawning systemd-notify fails with ENOENT.
    const notifier = new SystemdNotifier({
      env: { NOTIFY_SOCKET: join(dir, 'none.sock'), PATH: dir },
      logger,
    });
    await notifier.ready();
    await notifier.stopping();
    expect(logger.at('warn')).toHaveLength(1);
    expect(logger.at('warn')[0]?.msg).toMatch(/^systemd-notify is not installed/);
    expect(notifier.stats).toEqual({ sent: 0, failed: 2, watchdogPings: 0 });
  });

  it.skipIf(!hasSystemdNotify)(
    `reports the tool’s own error when nothing listens on NOTIFY_SOCKET${hasSystemdNotify ? '' : ' (skipped: systemd-notify is not installed)'}`,
    async () => {
      const logger = recordingLogger();
      const notifier = new SystemdNotifier({
        env: { NOTIFY_SOCKET: join(dir, 'nobody.sock'), PATH: process.env.PATH },
        logger,
      });
      await notifier.ready('up');
      expect(notifier.stats.failed).toBe(1);
      expect(logger.at('warn')[0]?.msg).toMatch(
        /^systemd-notify --ready --status=up failed: .*Failed to notify init system: No such file or directory/,
      );
    },
  );
});

/**
 * A unix datagram listener standing in for systemd (node:dgram cannot bind one). It prints each
 * datagram with its SCM_CREDENTIALS as a JSON line and closes the fds systemd-notify passes with
 * BARRIER=1, which is what releases systemd-notify's barrier wait.
 */
const LISTENER = `
import json, os, socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
print(json.dumps({"listening": True}), flush=True)
while True:
    data, anc, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(64))
    pid = None
    for level, kind, raw in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
            pid = struct.unpack("iII", raw[:12])[0]
        elif level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            for fd in struct.unpack("%di" % (len(raw) // 4), raw[: len(raw) // 4 * 4]):
                os.close(fd)
    print(json.dumps({"data": data.decode(), "pid": pid}), flush=True)
`;

interface Datagram {
  data: string;
  pid: number | null;
}

const realSocketTitle =
  hasSystemdNotify && hasPython
    ? 'systemd-notify against a real NOTIFY_SOCKET'
    : 'systemd-notify against a real NOTIFY_SOCKET (skipped: needs systemd-notify and python3 for the listener)';

describe.skipIf(!hasSystemdNotify || !hasPython)(realSocketTitle, () => {
  let dir = '';
  let socketPath = '';
  let listener: ChildProcessWithoutNullStreams;
  const received: Datagram[] = [];
  const waiters = new Set<() => boolean>();

  /** Resolves with the non-barrier datagrams once `count` of them arrived. */
  function messages(count: number, timeoutMs = 10_000): Promise<Datagram[]> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const got = received.filter((d) => d.data !== 'BARRIER=1');
        if (got.length < count) return false;
        clearTimeout(timer);
        resolve(got);
        return true;
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`only ${received.length} datagrams of ${count}: ${JSON.stringify(received)}`));
      }, timeoutMs);
      if (!check()) waiters.add(check);
    });
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pfm-sock-'));
    socketPath = join(dir, 'notify.sock');
    listener = spawn('python3', ['-u', '-c', LISTENER, socketPath]);
    let stderr = '';
    listener.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const lines = createInterface({ input: listener.stdout });
    const listening = new Promise<void>((resolve, reject) => {
      listener.once('exit', (code) => reject(new Error(`listener exited with ${code}: ${stderr}`)));
      lines.on('line', (line) => {
        const msg = JSON.parse(line) as Datagram & { listening?: boolean };
        if (msg.listening) resolve();
        else received.push(msg);
        for (const waiter of waiters) if (waiter()) waiters.delete(waiter);
      });
    });
    await listening;
  });

  afterAll(async () => {
    if (listener && listener.exitCode === null && listener.signalCode === null) {
      const exited = new Promise((resolve) => listener.once('exit', resolve));
      listener.kill();
      await exited;
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('delivers READY=1 with STATUS, RELOADING=1, STOPPING=1 and watchdog pings', async () => {
    const logger = recordingLogger();
    const env = { NOTIFY_SOCKET: socketPath, PATH: process.env.PATH, WATCHDOG_USEC: '200000' };
    const notifier = new SystemdNotifier({ env, logger });
    await notifier.ready('hello from vitest');
    await notifier.reloading();
    await notifier.stopping();
    notifier.startWatchdog();
    const got = await messages(5);
    notifier.stop();
    expect(logger.at('warn')).toEqual([]);
    expect(got[0]?.data).toBe('READY=1\nSTATUS=hello from vitest');
    expect(got[1]?.data).toMatch(/^RELOADING=1\nMONOTONIC_USEC=\d+$/);
    expect(got[2]?.data).toBe('STOPPING=1');
    expect(got.slice(3, 5).map((d) => d.data)).toEqual(['WATCHDOG=1', 'WATCHDOG=1']);
    // Each message is followed by a barrier: systemd-notify waits until the listener has read it.
    expect(received.slice(0, 6).map((d) => d.data.split('\n')[0])).toEqual([
      'READY=1',
      'BARRIER=1',
      'RELOADING=1',
      'BARRIER=1',
      'STOPPING=1',
      'BARRIER=1',
    ]);
    // systemd 252 sends as its parent (this process) when privileged, else as itself (then only
    // NotifyAccess=all accepts it, as in the unit).
    if (process.getuid?.() === 0) expect(got[0]?.pid).toBe(process.pid);
    else expect(got[0]?.pid).not.toBe(process.pid);
  });
});
