/**
 * The api group: api.publish_rps, the rate of `POST /messages` the real daemon answers over keep-alive
 * HTTP. The daemon runs from the built output (`dist/daemon/cli.js start`) with a rate limit too high
 * to matter and logging at info (no per-request logs at info); autocannon, a second process, loads it
 * with 16 connections. The baseline is a bare Fastify server (same package, no plugins, one route) in
 * a third process, loaded by the same autocannon command in the same run.
 */
import { fileURLToPath } from 'node:url';
import {
  AUTOCANNON,
  type Child,
  daemonUrl,
  jsonLine,
  killAll,
  spawnDaemon,
  spawnNode,
  stop,
  TIMEOUT_MS,
  tempDir,
  waitForExit,
} from './api-child.js';
import type { Figure, RunResult } from './types.js';

const CONNECTIONS = 16;
/** Seconds of untimed load first (autocannon --warmup): JIT-compiles the server and autocannon. */
const WARMUP_S = 1;
/** Seconds of timed load. */
const DURATION_S = 3;
const BODY = JSON.stringify({ type: 'bench_tick', payload: { n: 1 } });

/** The daemon's config: port 0, a rate limit that never trips, JSON logs at info. */
const CONFIG = `api:
  host: 127.0.0.1
  port: 0
  rateLimit: { max: 100000000, timeWindowMs: 1000 }
osc:
  listen: { host: 127.0.0.1, port: 0 }
midi: { enabled: false }
agents: { enabled: false }
audio: { enabled: false }
log: { level: info, pretty: never }
`;

/** What one autocannon run measured. */
interface Load {
  rps: number;
  /** Mean and 99th percentile latency (autocannon's percentiles are whole milliseconds). */
  meanMs: number;
  p99Ms: number;
}

/** The fields of autocannon's --json result that are read. */
interface AutocannonResult {
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  '2xx': number;
  statusCodeStats: Record<string, { count: number }>;
  requests: { total: number; average: number };
  latency: { average: number; p99: number };
  /** The warm-up's result (present on the timed run's). */
  warmup?: AutocannonResult;
}

/** Runs autocannon against `url` as a process of its own; fails on any error or non-2xx answer. */
async function load(url: string, target: string): Promise<Load> {
  const args = [
    AUTOCANNON,
    '--json',
    ...['-c', String(CONNECTIONS), '-p', '1', '-d', String(DURATION_S)],
    ...['-W', '[', '-c', String(CONNECTIONS), '-d', String(WARMUP_S), ']'],
    ...['-m', 'POST', '-H', 'content-type=application/json', '-b', BODY],
    url,
  ];
  const cannon = spawnNode(`autocannon (${target})`, args);
  let code: number | null;
  try {
    code = await waitForExit(cannon, (WARMUP_S + DURATION_S) * 1_000 + TIMEOUT_MS);
  } finally {
    killAll([cannon]);
  }
  // With --warmup, autocannon prints the warm-up's result, then the timed run's (which has `warmup`).
  const results = cannon.lines
    .map(jsonLine)
    .filter((r) => r !== undefined && 'requests' in r) as unknown as AutocannonResult[];
  const result = results.at(-1);
  if (code !== 0 || results.length !== 2 || result?.warmup === undefined) {
    throw new Error(
      `autocannon (${target}) failed: exit code ${code}, ${results.length} results (expected the warm-up's and the timed run's); stderr: ${cannon.stderr()}`,
    );
  }
  for (const [run, r] of [
    ['warm-up', result.warmup],
    ['timed run', result],
  ] as const) {
    if (r.errors + r.timeouts + r.non2xx > 0 || r['2xx'] === 0 || r.duration <= 0) {
      throw new Error(
        `autocannon (${target}), ${run}: ${r['2xx']} 2xx, ${r.non2xx} non-2xx, ${r.errors} errors, ` +
          `${r.timeouts} timeouts in ${r.duration} s (status codes ${JSON.stringify(r.statusCodeStats)}): the server failed requests`,
      );
    }
  }
  return {
    rps: result.requests.total / result.duration,
    meanMs: result.latency.average,
    p99Ms: result.latency.p99,
  };
}

const BARE_SERVER = fileURLToPath(new URL('./api-bare-fastify.js', import.meta.url));

/**
 * Starts both servers at once (their start-up is not measured, so it may overlap), loads the daemon,
 * stops it with SIGTERM (which must end in exit 0), then loads and stops the bare server. The idle
 * bare server costs nothing while the daemon is loaded.
 */
async function loadBoth(): Promise<{ daemon: Load; bare: Load }> {
  const tmp = tempDir();
  let daemon: Child | undefined;
  let bare: Child | undefined;
  try {
    daemon = spawnDaemon(tmp.file('config.yaml', CONFIG));
    bare = spawnNode('bare Fastify server', [BARE_SERVER]);
    const bareLine = bare.waitForLine((l) => typeof jsonLine(l)?.url === 'string');
    // Whichever fails first is reported; the other wait must not become an unhandled rejection.
    bareLine.catch(() => undefined);
    const daemonBase = await daemonUrl(daemon);
    const bareBase = jsonLine(await bareLine)!.url as string;
    const daemonResult = await load(`${daemonBase}/messages`, 'daemon');
    await stop(daemon, 0);
    const bareResult = await load(`${bareBase}/messages`, 'bare Fastify');
    await stop(bare);
    return { daemon: daemonResult, bare: bareResult };
  } finally {
    killAll([daemon, bare]);
    tmp.cleanup();
  }
}

export const publishRps: Figure = {
  name: 'api.publish_rps',
  unit: 'req/s',
  baselineName: 'bare Fastify',
  goal: 'report',
  met: () => true,
  async run(): Promise<RunResult> {
    const { daemon, bare } = await loadBoth();
    return {
      value: daemon.rps,
      baseline: bare.rps,
      details: {
        latency_mean_ms: daemon.meanMs,
        latency_p99_ms: daemon.p99Ms,
        baseline_latency_mean_ms: bare.meanMs,
        baseline_latency_p99_ms: bare.p99Ms,
      },
    };
  },
};

export const figures: readonly Figure[] = [publishRps];
