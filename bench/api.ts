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
log: { level: info, pretty: never }
`;

/** What one autocannon run measured. */
interface Load {
  rps: number;
  p50Ms: number;
  p99Ms: number;
}

/** The fields of autocannon's --json result that are read. */
interface AutocannonResult {
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  '2xx': number;
  requests: { total: number; average: number };
  latency: { p50: number; p99: number };
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
  const result = cannon.lines.map(jsonLine).find((r) => r !== undefined && 'requests' in r) as
    | AutocannonResult
    | undefined;
  if (code !== 0 || result === undefined) {
    throw new Error(`autocannon (${target}) failed: exit code ${code}; stderr: ${cannon.stderr()}`);
  }
  const bad = result.errors + result.timeouts + result.non2xx;
  if (bad > 0 || result['2xx'] === 0 || result.duration <= 0) {
    throw new Error(
      `autocannon (${target}): ${result['2xx']} 2xx, ${result.non2xx} non-2xx, ${result.errors} errors, ` +
        `${result.timeouts} timeouts in ${result.duration} s: the server failed requests`,
    );
  }
  return {
    rps: result.requests.total / result.duration,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
  };
}

/** Loads the real daemon; stops it with SIGTERM, which must end in exit 0. */
async function daemonLoad(): Promise<Load> {
  const tmp = tempDir();
  let daemon: Child | undefined;
  try {
    daemon = spawnDaemon(tmp.file('config.yaml', CONFIG));
    const url = await daemonUrl(daemon);
    const result = await load(`${url}/messages`, 'daemon');
    await stop(daemon, 0);
    return result;
  } finally {
    killAll([daemon]);
    tmp.cleanup();
  }
}

/** Loads the bare Fastify server (api-bare-fastify.js). */
async function bareLoad(): Promise<Load> {
  const script = fileURLToPath(new URL('./api-bare-fastify.js', import.meta.url));
  let server: Child | undefined;
  try {
    server = spawnNode('bare Fastify server', [script]);
    const line = await server.waitForLine((l) => typeof jsonLine(l)?.url === 'string');
    const result = await load(`${jsonLine(line)!.url as string}/messages`, 'bare Fastify');
    await stop(server);
    return result;
  } finally {
    killAll([server]);
  }
}

export const publishRps: Figure = {
  name: 'api.publish_rps',
  unit: 'req/s',
  baselineName: 'bare Fastify',
  goal: 'report',
  met: () => true,
  async run(): Promise<RunResult> {
    const daemon = await daemonLoad();
    const bare = await bareLoad();
    return {
      value: daemon.rps,
      baseline: bare.rps,
      details: {
        p50_ms: daemon.p50Ms,
        p99_ms: daemon.p99Ms,
        baseline_p50_ms: bare.p50Ms,
        baseline_p99_ms: bare.p99Ms,
      },
    };
  },
};

export const figures: readonly Figure[] = [publishRps];
