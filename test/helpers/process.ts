/** Runs the built CLI (`dist/daemon/cli.js`) as a child process, the way systemd or a user does. */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DAEMON_NODE_FLAGS } from '../../daemon/node-flags.js';
import { projectRoot } from './layering.js';
import { eachLine, Sightings } from './waiting.js';

export const CLI = join(projectRoot(), 'dist', 'daemon', 'cli.js');

/** A daemon child process and what it printed. */
export interface DaemonProcess {
  proc: ChildProcess;
  /** Parsed JSON log lines from stdout. */
  lines: Record<string, unknown>[];
  stderr: () => string;
  exited: Promise<number | null>;
  /** Resolves with the first log line for which `match` is true. */
  waitFor: (
    match: (line: Record<string, unknown>) => boolean,
    ms?: number,
  ) => Promise<Record<string, unknown>>;
}

/**
 * Starts `performia start ARGS` in a child process; the environment is the caller's plus `env`.
 * `wrapper` is a command line that runs it (e.g.
 * `['setpriv', '--bounding-set=-sys_nice']`: the daemon then starts under those limits).
 */
export function spawnDaemon(
  args: string[],
  env: Record<string, string> = {},
  wrapper: readonly string[] = [],
): DaemonProcess {
  const node = [process.execPath, ...DAEMON_NODE_FLAGS, CLI, 'start', ...args];
  const [command, ...rest] = [...wrapper, ...node] as [string, ...string[]];
  const proc = spawn(command, rest, {
    env: { ...process.env, PERFORMIA_API_PORT: '0', PERFORMIA_MIDI_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logged = new Sightings<Record<string, unknown>>();
  eachLine(proc.stdout, (text) => {
    if (text.trim() === '') return;
    try {
      logged.add(JSON.parse(text));
    } catch {
      logged.add({ nonJson: text });
    }
  });
  const lines = logged.seen;
  let stderr = '';
  proc.stderr?.on('data', (c) => {
    stderr += String(c);
  });
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const waitFor = (match: (l: Record<string, unknown>) => boolean, ms = 15_000) =>
    Promise.race([
      logged.waitFor(
        match,
        ms,
        () => `no matching log line within ${ms} ms; stderr: ${stderr}; lines: ${JSON.stringify(lines)}`,
      ),
      // A daemon that exits will never print the line: say so at once (after its last output).
      exited.then(
        () =>
          new Promise<never>((_, reject) =>
            setTimeout(() => reject(new Error(`daemon exited; stderr: ${stderr}`)), 50),
          ),
      ),
    ]);
  return { proc, lines, stderr: () => stderr, exited, waitFor };
}

/** Runs a CLI command to completion. */
export function runCli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { env: { ...process.env, ...env }, timeout: 20_000 },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** A temporary directory, removed by the returned cleanup. */
export function tempDir(): {
  dir: string;
  file: (name: string, text: string) => string;
  cleanup: () => void;
} {
  const dir = mkdtempSync(join(tmpdir(), 'performia-test-'));
  return {
    dir,
    file: (name, text) => {
      const path = join(dir, name);
      writeFileSync(path, text);
      return path;
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Polls GET /health until it says ready. */
export async function untilReady(url: string, ms = 15_000): Promise<Record<string, unknown>> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      const res = await fetch(`${url}/health`);
      const body = (await res.json()) as Record<string, unknown>;
      if (body.ready === true) return body;
    } catch {
      // Not listening yet: poll again.
    }
    if (Date.now() > end) throw new Error(`${url}/health not ready within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
