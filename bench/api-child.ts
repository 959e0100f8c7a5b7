/**
 * Child processes for the api and daemon groups: the built daemon (`dist/daemon/cli.js start`), bare
 * baseline servers and autocannon, each a process of its own. Everything binds 127.0.0.1 port 0, every
 * wait has a deadline (the children are killed and a clear error thrown), and a child still running
 * when the worker exits is killed, so a failed run leaves nothing behind.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DAEMON_NODE_FLAGS } from '../daemon/node-flags.js';

/** The project root: this file is dist/bench/api-child.js. */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The built daemon CLI. */
export const CLI = join(ROOT, 'dist', 'daemon', 'cli.js');
/** The autocannon CLI (devDependency), run as a process of its own. */
export const AUTOCANNON = createRequire(import.meta.url).resolve('autocannon/autocannon.js');
/** How long any one wait (start, ready, exit, a load run's slack) may take before the run fails. */
export const TIMEOUT_MS = 30_000;

/** Children not yet exited: killed if the worker exits or is told to stop. */
const live = new Set<ChildProcess>();
let guarded = false;

function guard(): void {
  if (guarded) return;
  guarded = true;
  process.on('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      for (const child of live) child.kill('SIGKILL');
      process.exit(1);
    });
  }
}

/** Kills `proc` with the worker if the worker exits (or is told to stop) while `proc` still runs. */
export function track(proc: ChildProcess): void {
  guard();
  live.add(proc);
  const forget = (): void => {
    live.delete(proc);
  };
  proc.once('exit', forget);
  proc.once('error', forget);
}

/** A child process, its stdout as lines and its stderr as text. */
export interface Child {
  readonly name: string;
  readonly proc: ChildProcess;
  /** Every stdout line so far. */
  readonly lines: string[];
  stderr(): string;
  /** Resolves with the exit code (a signal death gives null). */
  readonly exited: Promise<number | null>;
  /** Resolves with the first stdout line for which `match` is true; rejects on timeout or exit. */
  waitForLine(match: (line: string) => boolean, ms?: number): Promise<string>;
}

/** The environment for a child: the caller's, without anything that would steer the daemon. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    // PERFORMIA_* would override the bench's config; the systemd variables would make it notify.
    if (key.startsWith('PERFORMIA_') || key === 'NOTIFY_SOCKET' || key.startsWith('WATCHDOG_')) continue;
    env[key] = value;
  }
  return { ...env, ...extra };
}

/** Starts `node <args>` with stdout and stderr piped. */
export function spawnNode(name: string, args: readonly string[], env: NodeJS.ProcessEnv = cleanEnv()): Child {
  const proc = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  track(proc);
  const lines: string[] = [];
  const waiters = new Set<(line: string) => void>();
  let buffer = '';
  proc.stdout?.setEncoding('utf8');
  proc.stdout?.on('data', (chunk: string) => {
    buffer += chunk;
    for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      lines.push(line);
      for (const waiter of [...waiters]) waiter(line);
    }
  });
  let stderr = '';
  proc.stderr?.setEncoding('utf8');
  proc.stderr?.on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve, reject) => {
    proc.once('error', (err) => {
      reject(new Error(`${name}: cannot start: ${err.message}`));
    });
    // 'close', not 'exit': stdout and stderr are read to their end first.
    proc.once('close', (code) => {
      resolve(code);
    });
  });
  // A start failure is reported by whoever awaits; never an unhandled rejection.
  exited.catch(() => undefined);
  const describe = () =>
    `stderr: ${stderr.trim() || '(empty)'}; stdout: ${lines.slice(-10).join(' | ') || '(empty)'}`;
  const waitForLine = (match: (line: string) => boolean, ms = TIMEOUT_MS): Promise<string> => {
    const seen = lines.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise<string>((resolve, reject) => {
      const finish = (err: Error | undefined, line?: string) => {
        clearTimeout(timer);
        waiters.delete(waiter);
        if (err === undefined) resolve(line!);
        else reject(err);
      };
      const waiter = (line: string) => {
        if (match(line)) finish(undefined, line);
      };
      const timer = setTimeout(() => {
        proc.kill('SIGKILL');
        finish(new Error(`${name}: no expected output within ${ms} ms (killed); ${describe()}`));
      }, ms);
      waiters.add(waiter);
      exited.then(
        (code) =>
          finish(new Error(`${name}: exited (code ${code}) before its expected output; ${describe()}`)),
        (err: Error) => finish(err),
      );
    });
  };
  return { name, proc, lines, stderr: () => stderr, exited, waitForLine };
}

/** Resolves with the exit code, or kills the child and throws after `ms`. */
export async function waitForExit(child: Child, ms = TIMEOUT_MS): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      child.proc.kill('SIGKILL');
      reject(new Error(`${child.name}: did not exit within ${ms} ms (killed); stderr: ${child.stderr()}`));
    }, ms);
  });
  try {
    return await Promise.race([child.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Sends SIGTERM and waits for the exit; with `expectCode`, any other exit is an error. */
export async function stop(child: Child, expectCode?: number): Promise<void> {
  if (child.proc.exitCode === null && child.proc.signalCode === null) child.proc.kill('SIGTERM');
  const code = await waitForExit(child);
  if (expectCode !== undefined && code !== expectCode) {
    throw new Error(
      `${child.name}: exited with code ${code} (signal ${child.proc.signalCode}) after SIGTERM, expected ${expectCode}; stderr: ${child.stderr()}`,
    );
  }
}

/** Kills whatever of `children` still runs (for finally blocks after a failure). */
export function killAll(children: readonly (Child | undefined)[]): void {
  for (const child of children) {
    if (child !== undefined && child.proc.exitCode === null && child.proc.signalCode === null) {
      child.proc.kill('SIGKILL');
    }
  }
}

/** Parses a JSON log/output line, or undefined when it is not a JSON object. */
export function jsonLine(line: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The daemon's ready log line (`performia ready: control API at …`) carrying `api`. */
export function isReadyLine(line: string): boolean {
  const log = jsonLine(line);
  return typeof log?.msg === 'string' && log.msg.startsWith('performia ready') && typeof log.api === 'string';
}

/** Starts the built daemon as it ships: `node <daemon flags> dist/daemon/cli.js start [--config FILE]`. */
export function spawnDaemon(config?: string, env: Record<string, string> = {}): Child {
  const cli = [...DAEMON_NODE_FLAGS, CLI, 'start'];
  const args = config === undefined ? cli : [...cli, '--config', config];
  return spawnNode('daemon', args, cleanEnv(env));
}

/** Waits for the daemon's ready line and returns its API base URL. */
export async function daemonUrl(daemon: Child): Promise<string> {
  const line = await daemon.waitForLine(isReadyLine);
  return jsonLine(line)!.api as string;
}

/** One GET over a fresh connection (no keep-alive): status and body, or undefined when refused. */
export function get(url: string): Promise<{ status: number; body: string } | undefined> {
  return new Promise((resolve) => {
    const req = request(url, { agent: false, timeout: 5_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', () => resolve(undefined));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
    req.end();
  });
}

/**
 * Polls `url` every `everyMs` until `ok` accepts a response; returns performance.now() at that
 * response. Throws after `ms`.
 */
export async function pollUntil(
  url: string,
  ok: (res: { status: number; body: string }) => boolean,
  everyMs = 5,
  ms = TIMEOUT_MS,
): Promise<number> {
  const end = performance.now() + ms;
  for (;;) {
    const res = await get(url);
    if (res !== undefined && ok(res)) return performance.now();
    if (performance.now() > end) throw new Error(`${url}: no good answer within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** A temporary directory in os.tmpdir(); `cleanup` removes it. */
export function tempDir(): { file(name: string, text: string): string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'performia-bench-'));
  return {
    file(name, text) {
      const path = join(dir, name);
      writeFileSync(path, text);
      return path;
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
