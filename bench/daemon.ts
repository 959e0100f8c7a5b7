/**
 * The daemon group: daemon.ready_ms, the time from spawning `node dist/daemon/cli.js start` (the
 * embedded default config, PERFORMIA_API_PORT=0) to the first `GET /health` answering `ready: true`.
 * The URL comes from the ready log line; /health is then polled every 5 ms over fresh connections. The
 * baseline, timed the same way, is bare Node start-up plus listen: `node -e` with a tiny node:http
 * server on 127.0.0.1 port 0 that prints its port, to its first HTTP 200.
 *
 * Each run starts the baseline once untimed (to warm this process's HTTP client), then alternates
 * daemon and baseline STARTS times and keeps the medians. Details: the ready log line's time and the
 * time from SIGTERM to exit 0.
 */
import {
  type Child,
  daemonUrl,
  jsonLine,
  killAll,
  pollUntil,
  spawnDaemon,
  spawnNode,
  stop,
} from './api-child.js';
import type { Figure, RunResult } from './types.js';
import { median } from './util.js';

const STARTS = 5;
const POLL_MS = 5;

/** The baseline: a tiny node:http server that prints `{"port":N}` once listening. */
const BARE_SERVER = `
const http = require('node:http');
const server = http.createServer((req, res) => res.end('ok'));
server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: server.address().port })));
process.once('SIGTERM', () => server.close(() => process.exit(0)));
`;

/** One daemon start: ms to ready on /health, ms to the ready log line, ms from SIGTERM to exit 0. */
async function daemonStart(): Promise<{ readyMs: number; lineMs: number; stopMs: number }> {
  let daemon: Child | undefined;
  try {
    const t0 = performance.now();
    // PERFORMIA_OSC_PORT=0 too: once the OSC adapter exists, its default port must not collide.
    daemon = spawnDaemon(undefined, { PERFORMIA_API_PORT: '0', PERFORMIA_OSC_PORT: '0' });
    const url = await daemonUrl(daemon);
    const lineMs = performance.now() - t0;
    const ready = await pollUntil(
      `${url}/health`,
      (res) => res.status === 200 && jsonLine(res.body)?.ready === true,
      POLL_MS,
    );
    const readyMs = ready - t0;
    const s0 = performance.now();
    await stop(daemon, 0);
    return { readyMs, lineMs, stopMs: performance.now() - s0 };
  } finally {
    killAll([daemon]);
  }
}

/** One baseline start: ms from spawn to the first 200. */
async function bareStart(): Promise<number> {
  let server: Child | undefined;
  try {
    const t0 = performance.now();
    server = spawnNode('bare node:http server', ['-e', BARE_SERVER]);
    const line = await server.waitForLine((l) => typeof jsonLine(l)?.port === 'number');
    const port = jsonLine(line)!.port as number;
    const ready = await pollUntil(`http://127.0.0.1:${port}/`, (res) => res.status === 200, POLL_MS);
    await stop(server);
    return ready - t0;
  } finally {
    killAll([server]);
  }
}

export const readyMs: Figure = {
  name: 'daemon.ready_ms',
  unit: 'ms',
  baselineName: 'node -e http.listen',
  goal: 'report',
  met: () => true,
  async run(): Promise<RunResult> {
    // Untimed: loads node:http's client code in this process (a daemon start needs no warming: the
    // median of STARTS absorbs a cold file cache).
    await bareStart();
    const daemon: { readyMs: number; lineMs: number; stopMs: number }[] = [];
    const bare: number[] = [];
    for (let i = 0; i < STARTS; i++) {
      daemon.push(await daemonStart());
      bare.push(await bareStart());
    }
    return {
      value: median(daemon.map((d) => d.readyMs)),
      baseline: median(bare),
      details: {
        ready_line_ms: median(daemon.map((d) => d.lineMs)),
        stop_ms: median(daemon.map((d) => d.stopMs)),
      },
    };
  },
};

export const figures: readonly Figure[] = [readyMs];
