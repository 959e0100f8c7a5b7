/**
 * The ui group's figures (issue #12): the daemon's OSC relay rate (ui-climb.ts) with five dashboards
 * open and streaming, against none, in the same run on the same daemon. Goal ≥ 0.9×.
 *
 * - ui.bus_throughput_ratio, the figure: five real pages. Headless chromium (Debian's), five tabs on
 *   /ui/ (opened, then the automation lets go), each streaming from /stream as the page does (at most
 *   100 messages a second of each type) and polling /health and /stats. Climbed none, five, none (a
 *   page takes seconds to load, so it cannot come and go at each step); the baseline is the mean of
 *   the two climbs without. On this 2-vCPU machine the pages' renderers compete with the daemon, the
 *   sender and the receiver for the cores, which a stage does not do (the tablets and laptops that
 *   show the page are other machines): the harsher case, and the truthful one for a page opened on
 *   the machine that runs the daemon.
 * - ui.stream_clients_ratio: what the daemon itself pays for five dashboards, with no browser on the
 *   machine. One Node process (ui-child.ts) makes the pages' network load: five /stream sockets whose
 *   frames it parses, the same query and polls. Climbed in lockstep with and without the clients (they
 *   connect before each step and leave after it).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { track } from './api-child.js';
import { forkIpcChild, type Helper } from './osc-procs.js';
import type { Figure, RunResult } from './types.js';
import { climb, condition, pps, startRig } from './ui-climb.js';

const DASHBOARDS = 5;
/** How long five pages may take to load and stream before the run fails. */
const PAGES_TIMEOUT_MS = 30_000;
/**
 * After the pages load, before the climb: their start-up (first draws, the browser's own work) is
 * not what is measured; pages that stay open and stream are. Measured here: five pages loading took
 * the daemon's cores for about a second (it relayed ~2 k of 10 k pkt/s offered right after).
 */
const PAGES_SETTLE_MS = 3_000;
const CLIENT_SCRIPT = fileURLToPath(new URL('./ui-child.js', import.meta.url));

/** Debian's chromium (the binary, not its shell wrapper), or PERFORMIA_CHROMIUM. */
function chromiumPath(): string {
  const found = [process.env.PERFORMIA_CHROMIUM, '/usr/lib/chromium/chromium', '/usr/bin/chromium'].find(
    (p): p is string => p !== undefined && p !== '' && existsSync(p),
  );
  if (found === undefined)
    throw new Error('ui.bus_throughput_ratio needs chromium: apt-get install chromium');
  return found;
}

/**
 * Five pages in one headless chromium, as a person's browser has them: the bench opens them over the
 * DevTools protocol and then lets go of the browser. With the automation attached, every request and
 * every WebSocket frame of every page would also be reported to this process (the one that counts the
 * relayed packets): a cost no dashboard has in a person's browser.
 */
async function openDashboards(
  url: string,
  n: number,
): Promise<{ cpuSeconds(): number; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'performia-bench-chromium-'));
  const args = ['--headless', '--remote-debugging-port=0', `--user-data-dir=${dir}`, '--no-first-run'];
  // As root (this VM, CI) chromium runs only without its sandbox.
  if (process.getuid?.() === 0) args.push('--no-sandbox');
  const proc = spawn(chromiumPath(), [...args, 'about:blank'], { stdio: 'ignore' });
  track(proc);
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const close = async (): Promise<void> => {
    proc.kill('SIGTERM');
    await exited;
    // Chromium's helper processes can still be writing the profile for a moment after the browser
    // exits (ENOTEMPTY): retry, and never fail a measured run over a temporary directory.
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    } catch {
      // Left in the OS's temporary directory, which it cleans.
    }
  };
  try {
    const portFile = join(dir, 'DevToolsActivePort');
    const end = Date.now() + PAGES_TIMEOUT_MS;
    while (!existsSync(portFile) || readFileSync(portFile, 'utf8').trim() === '') {
      if (Date.now() > end || proc.exitCode !== null) throw new Error('chromium did not start');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const port = readFileSync(portFile, 'utf8').split('\n')[0];
    const browser = await chromium.connectOverCDP(`http://127.0.0.1:${port}`, { timeout: PAGES_TIMEOUT_MS });
    const context = browser.contexts()[0];
    if (context === undefined) throw new Error('chromium has no default context');
    for (let i = 0; i < n; i++) {
      const page = await context.newPage();
      await page.goto(`${url}/ui/`, { timeout: PAGES_TIMEOUT_MS });
      await page.waitForSelector('.pill.ok:has-text("stream live")', { timeout: PAGES_TIMEOUT_MS });
      await page.waitForSelector('li.part[data-part="osc"]', { timeout: PAGES_TIMEOUT_MS });
    }
    for (const page of context.pages()) if (page.url() === 'about:blank') await page.close();
    // Disconnects: the pages stay open in the browser (they are not in a context this client made).
    await browser.close();
    return { cpuSeconds: () => treeCpuSeconds(proc.pid), close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** CPU time (s) used so far by process `pid` and its descendants, from /proc (NaN where there is none). */
function treeCpuSeconds(pid: number | undefined): number {
  if (pid === undefined || !existsSync('/proc')) return Number.NaN;
  const procs = new Map<number, { ppid: number; ticks: number }>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // Fields after the command (which may hold spaces) in parentheses: state ppid … utime(12) stime(13).
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      procs.set(Number(name), { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) });
    } catch {
      // The process ended while we read: it has no more time to add.
    }
  }
  let ticks = 0;
  const visit = (p: number): void => {
    ticks += procs.get(p)?.ticks ?? 0;
    for (const [child, info] of procs) if (info.ppid === p) visit(child);
  };
  visit(pid);
  // USER_HZ is 100 on Linux.
  return ticks / 100;
}

/** GET /health's `stream` figures: clients connected, and dropped as too slow since start. */
async function streamFigures(api: string): Promise<{ clients: number; dropped: number }> {
  const h = (await (await fetch(`${api}/health`)).json()) as {
    stream?: { clients: number; dropped: number };
  };
  return h.stream ?? { clients: -1, dropped: -1 };
}

export const busThroughputRatio: Figure = {
  name: 'ui.bus_throughput_ratio',
  unit: 'pkt/s',
  baselineName: 'the same daemon with no dashboard open',
  goal: '>= 0.9x with five pages (chromium) streaming',
  met: (_value, ratio) => ratio >= 0.9,
  async run(): Promise<RunResult> {
    const { rig, daemon, close } = await startRig();
    let pages: { cpuSeconds(): number; close(): Promise<void> } | undefined;
    try {
      const none1 = condition('none, first');
      await climb(rig, [none1]);
      pages = await openDashboards(daemon.api, DASHBOARDS);
      await new Promise((resolve) => setTimeout(resolve, PAGES_SETTLE_MS));
      const streaming = (await streamFigures(daemon.api)).clients;
      const five = condition('five pages');
      const cpuBefore = pages.cpuSeconds();
      const climbStart = performance.now();
      await climb(rig, [five]);
      const pagesCores = (pages.cpuSeconds() - cpuBefore) / ((performance.now() - climbStart) / 1000);
      const dropped = (await streamFigures(daemon.api)).dropped;
      await pages.close();
      pages = undefined;
      const none2 = condition('none, last');
      await climb(rig, [none2]);
      await daemon.stop();
      return {
        value: pps(five),
        baseline: (pps(none1) + pps(none2)) / 2,
        details: {
          none_first_pps: pps(none1),
          none_last_pps: pps(none2),
          first_loss_pps: five.fail ?? 0,
          pages_streaming: streaming,
          pages_cpu_cores: pagesCores,
          pages_dropped_as_slow: dropped,
          steps: none1.steps + five.steps + none2.steps,
        },
      };
    } finally {
      await pages?.close();
      await close();
    }
  },
};

export const streamClientsRatio: Figure = {
  name: 'ui.stream_clients_ratio',
  unit: 'pkt/s',
  baselineName: 'the same daemon, the clients gone (lockstep)',
  goal: ">= 0.9x with five dashboards' network load (no browser)",
  met: (_value, ratio) => ratio >= 0.9,
  async run(): Promise<RunResult> {
    const { rig, daemon, close } = await startRig();
    let clients: Helper | undefined;
    try {
      const helper = forkIpcChild(CLIENT_SCRIPT, [], 'ui stream clients');
      clients = helper;
      const bare = condition('none');
      const withClients = condition('five clients', {
        enter: async () => {
          await helper.request('open', { url: daemon.api, count: DASHBOARDS });
        },
        leave: async () => {
          await helper.request('close');
        },
      });
      await climb(rig, [bare, withClients]);
      const { frames } = await helper.request<{ frames: number }>('stats');
      const { dropped } = await streamFigures(daemon.api);
      await daemon.stop();
      return {
        value: pps(withClients),
        baseline: pps(bare),
        details: {
          first_loss_pps: withClients.fail ?? 0,
          baseline_first_loss_pps: bare.fail ?? 0,
          frames_received: frames,
          dropped_as_slow: dropped,
          steps: bare.steps + withClients.steps,
        },
      };
    } finally {
      await clients?.stop();
      await close();
    }
  },
};
