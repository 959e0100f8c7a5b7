/**
 * The systemd unit (systemd/performia.service) and the example config (systemd/config.yaml): the unit
 * passes `systemd-analyze verify`, carries the lines the daemon relies on, and its stop timeout covers
 * the daemon's stop deadlines; the example config loads and shows every key at its default; the CLI's
 * exit status for a bad config is one the unit does not restart; and the built daemon, run against a
 * stand-in for systemd's notify socket, sends READY=1, watchdog pings, RELOADING=1 and STOPPING=1.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, loadConfig } from '../../config/index.js';
import { projectRoot } from '../helpers/layering.js';

const root = projectRoot();
const UNIT_PATH = join(root, 'systemd', 'performia.service');
const unitText = readFileSync(UNIT_PATH, 'utf8');

/** Most parts the daemon stops one after another, each within `daemon.stopTimeoutMs`. */
const MAX_PARTS = 6;
/** Graces on top of the configured deadlines (daemon.ts: bus step +1 s; cli.ts: exit after 1 s). */
const GRACES_S = 2;
/** Time left, beyond the sum of the deadlines, for the process exit and the last log lines. */
const MIN_MARGIN_S = 10;
const CLI = join(root, 'dist', 'daemon', 'cli.js');

/** The unit's settings: section → key → every value given (keys such as DeviceAllow repeat). */
function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      current = new Map();
      sections.set(header[1] as string, current);
      continue;
    }
    const eq = line.indexOf('=');
    if (current === undefined || eq < 0) throw new Error(`unexpected unit line: ${raw}`);
    const key = line.slice(0, eq).trim();
    current.set(key, [...(current.get(key) ?? []), line.slice(eq + 1).trim()]);
  }
  return sections;
}

/** A systemd time span ("80s", "1min 30s", "90") in seconds (systemd.time(7)). */
function seconds(span: string): number {
  const units: Record<string, number> = { us: 1e-6, ms: 1e-3, s: 1, sec: 1, m: 60, min: 60, h: 3600 };
  if (/^\d+$/.test(span)) return Number(span);
  let total = 0;
  for (const part of span.split(/\s+/)) {
    const m = /^(\d+(?:\.\d+)?)([a-z]+)$/.exec(part);
    const factor = m ? units[m[2] as string] : undefined;
    if (!m || factor === undefined) throw new Error(`cannot read time span "${span}"`);
    total += Number(m[1]) * factor;
  }
  return total;
}

const unit = parseUnit(unitText);
const service = unit.get('Service') ?? new Map<string, string[]>();
/** The last value of a [Service] key (a later line overrides an earlier one). */
const get = (key: string): string | undefined => service.get(key)?.at(-1);

describe('systemd/performia.service', () => {
  it('is a notify service with a watchdog, reload on SIGHUP and restart on failure', () => {
    expect(get('Type')).toBe('notify');
    // systemd-notify runs as a child of node, so its messages come from another PID.
    expect(get('NotifyAccess')).toBe('all');
    expect(seconds(get('WatchdogSec') ?? '0')).toBeGreaterThan(0);
    expect(get('ExecStart')).toBe(
      '/usr/bin/node --min-semi-space-size=16 /opt/performia/dist/daemon/cli.js start --config /etc/performia/config.yaml',
    );
    expect(get('ExecReload')).toMatch(/^\/bin\/kill -HUP \$MAINPID$/);
    expect(get('Restart')).toBe('on-failure');
    expect(seconds(get('RestartSec') ?? '0')).toBeGreaterThan(0);
    expect(unit.get('Unit')?.get('StartLimitBurst')).toBeDefined();
    expect(get('KillMode')).toBe('mixed');
    expect(service.get('Environment')).toContain('NODE_ENV=production');
    expect(get('ConfigurationDirectory')).toBe('performia');
    expect(unit.get('Install')?.get('WantedBy')).toEqual(['multi-user.target']);
  });

  it('gives the daemon more time to stop than the sum of its stop deadlines', () => {
    const deadlinesS =
      (MAX_PARTS * DEFAULT_CONFIG.daemon.stopTimeoutMs + DEFAULT_CONFIG.bus.stopTimeoutMs) / 1000 + GRACES_S;
    expect(deadlinesS).toBe(67);
    expect(seconds(get('TimeoutStopSec') ?? '0')).toBeGreaterThanOrEqual(deadlinesS + MIN_MARGIN_S);
  });

  it('is sandboxed without blocking sound devices or the JIT', () => {
    expect(get('NoNewPrivileges')).toBe('yes');
    expect(get('ProtectSystem')).toBe('strict');
    expect(get('ProtectHome')).toBe('yes');
    expect(get('PrivateTmp')).toBe('yes');
    expect(get('DynamicUser')).toBe('yes');
    expect(get('SupplementaryGroups')?.split(/\s+/)).toContain('audio');
    expect(get('ProtectKernelTunables')).toBe('yes');
    expect(get('ProtectKernelModules')).toBe('yes');
    expect(get('ProtectControlGroups')).toBe('yes');
    expect(get('LockPersonality')).toBe('yes');
    expect(get('RestrictAddressFamilies')?.split(/\s+/).sort()).toEqual([
      'AF_INET',
      'AF_INET6',
      'AF_NETLINK',
      'AF_UNIX',
    ]);
    // PrivateDevices=yes would hide /dev/snd; a closed device policy must still allow ALSA.
    expect(get('PrivateDevices') ?? 'no').toBe('no');
    if (get('DevicePolicy') === 'closed' || get('DevicePolicy') === 'strict') {
      expect(service.get('DeviceAllow')?.some((v) => /^(char-alsa|\/dev\/snd)\b/.test(v))).toBe(true);
    }
    // V8's JIT needs writable+executable memory.
    expect(get('MemoryDenyWriteExecute') ?? 'no').toBe('no');
  });
});

const hasAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0;

describe.skipIf(!hasAnalyze)(
  `systemd-analyze verify${hasAnalyze ? '' : ' (skipped: systemd-analyze is not installed; apt-get install systemd)'}`,
  () => {
    let dir = '';
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'pfm-unit-'));
    });
    afterAll(() => {
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    /**
     * `verify` checks that ExecStart's binary exists, so the copy runs this node and this checkout's
     * build instead of /usr/bin/node and /opt/performia.
     */
    function verify(
      text: string,
      name = 'performia.service',
    ): { status: number | null; problems: string[]; stderr: string } {
      const file = join(dir, name);
      const local = text
        .replace(/^ExecStart=\/usr\/bin\/node /m, `ExecStart=${process.execPath} `)
        .replaceAll('/opt/performia/dist/daemon/cli.js', CLI);
      writeFileSync(file, local);
      const run = spawnSync('systemd-analyze', ['verify', '--man=no', file], { encoding: 'utf8' });
      const stderr = `${run.stderr}${run.stdout}`;
      // Lines about other units of the host (a broken unit elsewhere) are not this unit's problem.
      const problems = stderr.split('\n').filter((l) => l.includes(name) || l.includes(file));
      return { status: run.status, problems, stderr };
    }

    it('accepts the unit without a warning', () => {
      const result = verify(unitText);
      expect(result.problems, result.stderr).toEqual([]);
      expect(result.status, result.stderr).toBe(0);
    });

    it('would report a broken line (the check above can fail)', () => {
      const broken = unitText.replace(/^NotifyAccess=all$/m, 'NotifyAccess=everyone\nProtectEverything=yes');
      const result = verify(broken, 'performia-broken.service');
      expect(result.problems.join('\n')).toMatch(/notify access/i);
      expect(result.problems.join('\n')).toMatch(/Unknown key 'ProtectEverything'/);
    });
  },
);

describe('systemd/config.yaml', () => {
  it('loads with the real loader and shows every key, at its default', () => {
    const config = loadConfig({ file: join(root, 'systemd', 'config.yaml'), env: {} });
    expect(config).toEqual(DEFAULT_CONFIG);
  });
});

const built = existsSync(CLI);
const needsBuild = built ? '' : ' (skipped: dist/daemon/cli.js missing, run npm run build)';

describe.skipIf(!built)(`the unit and the CLI agree${needsBuild}`, () => {
  it('an invalid config exits with the status the unit does not restart', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pfm-cfg-'));
    try {
      const file = join(dir, 'config.yaml');
      writeFileSync(file, 'api:\n  prot: 1\n');
      const run = spawnSync(process.execPath, [CLI, 'start', '--config', file], {
        encoding: 'utf8',
        env: { PATH: process.env.PATH },
        timeout: 20_000,
      });
      expect(run.stderr).toContain('api.prot');
      expect(get('RestartPreventExitStatus')?.split(/\s+/)).toContain(String(run.status));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// ---- The daemon against a stand-in for systemd's notify socket ---------------------------------------

const hasTools =
  spawnSync('systemd-notify', ['--version']).status === 0 &&
  spawnSync('python3', ['-c', 'import socket; socket.AF_UNIX']).status === 0;

/**
 * A unix datagram listener standing in for systemd (node:dgram cannot bind one): prints each datagram
 * as a JSON string line, and closes the fds that come with BARRIER=1, which releases systemd-notify.
 */
const LISTENER = `
import json, os, socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print(json.dumps("LISTENING"), flush=True)
while True:
    data, anc, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(64))
    print(json.dumps(data.decode()), flush=True)
    for level, kind, raw in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            for fd in struct.unpack("%di" % (len(raw) // 4), raw[: len(raw) // 4 * 4]):
                os.close(fd)
`;

describe.skipIf(!hasTools || !built)(
  `the daemon under a stand-in for systemd${hasTools ? needsBuild : ' (skipped: needs systemd-notify and python3)'}`,
  () => {
    let dir = '';
    let listener: ChildProcess | undefined;
    let daemon: ChildProcess | undefined;
    const received: string[] = [];
    const waiters = new Set<() => boolean>();

    /** Resolves once `pred` holds for the datagrams received so far (BARRIER=1 left out). */
    function until(what: string, pred: (msgs: string[]) => boolean, timeoutMs = 15_000): Promise<string[]> {
      return new Promise((resolve, reject) => {
        const check = (): boolean => {
          const msgs = received.filter((m) => m !== 'BARRIER=1');
          if (!pred(msgs)) return false;
          clearTimeout(timer);
          resolve(msgs);
          return true;
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no ${what} within ${timeoutMs} ms; received ${JSON.stringify(received)}`));
        }, timeoutMs);
        if (!check()) waiters.add(check);
      });
    }
    const count = (msgs: string[], prefix: string): number => msgs.filter((m) => m.startsWith(prefix)).length;

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'pfm-sd-'));
      const proc = spawn('python3', ['-u', '-c', LISTENER, join(dir, 'notify.sock')], { stdio: 'pipe' });
      listener = proc;
      await new Promise<void>((resolve, reject) => {
        proc.once('exit', (code) => reject(new Error(`listener exited with ${code}`)));
        createInterface({ input: proc.stdout! }).on('line', (line) => {
          const msg = JSON.parse(line) as string;
          if (msg === 'LISTENING') resolve();
          else received.push(msg);
          for (const waiter of waiters) if (waiter()) waiters.delete(waiter);
        });
      });
    });

    afterAll(async () => {
      for (const child of [daemon, listener]) {
        if (child === undefined || child.exitCode !== null || child.signalCode !== null) continue;
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGKILL');
        await exited;
      }
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('reports ready, pings the watchdog, reloads on SIGHUP and stops on SIGTERM', async () => {
      const config = join(dir, 'config.yaml');
      writeFileSync(config, 'api:\n  port: 0\nosc:\n  listen:\n    port: 0\nlog:\n  level: warn\n');
      const child = spawn(process.execPath, [CLI, 'start', '--config', config], {
        env: {
          PATH: process.env.PATH,
          NODE_ENV: 'production',
          NOTIFY_SOCKET: join(dir, 'notify.sock'),
          WATCHDOG_USEC: '200000',
        },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      daemon = child;
      let stderr = '';
      child.stderr?.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

      const ready = await until('READY=1', (m) => count(m, 'READY=1') === 1);
      expect(ready[0]).toMatch(/^READY=1\nSTATUS=API at http:\/\/127\.0\.0\.1:\d+$/);
      await until('two watchdog pings', (m) => count(m, 'WATCHDOG=1') >= 2);

      child.kill('SIGHUP');
      await until('READY=1 after the reload', (m) => count(m, 'READY=1') === 2);
      child.kill('SIGTERM');
      const all = await until('STOPPING=1', (m) => count(m, 'STOPPING=1') === 1);
      expect(await exited, stderr).toBe(0);

      const states = all.filter((m) => !m.startsWith('WATCHDOG=1')).map((m) => m.split('\n')[0]);
      expect(states).toEqual(['READY=1', 'RELOADING=1', 'READY=1', 'STOPPING=1']);
    });
  },
);
