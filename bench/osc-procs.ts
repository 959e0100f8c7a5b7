/**
 * Processes and sockets of the osc group: the real daemon (dist/daemon/cli.js, through api-child.ts)
 * with the relay config, the helper children of osc-child.ts (forked with IPC), and UDP sockets.
 * Everything binds 127.0.0.1 port 0; every wait has a deadline; a child still running when the worker
 * exits is killed, and a child exits by itself when the worker goes away (IPC disconnect).
 */
import { fork } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { fileURLToPath } from 'node:url';
import {
  type Child,
  daemonUrl,
  get,
  jsonLine,
  killAll,
  spawnDaemon,
  stop,
  tempDir,
  track,
} from './api-child.js';

export const HOST = '127.0.0.1';
/** SO_RCVBUF requested for every receiving socket of the group (daemon, raw relay, bench receiver). */
export const RECV_BUFFER_BYTES = 4 * 1024 * 1024;
/** How long one request to a helper child, a start or a stop may take before the run fails. */
export const CHILD_TIMEOUT_MS = 30_000;

const CHILD_SCRIPT = fileURLToPath(new URL('./osc-child.js', import.meta.url));

/** A child process driven by requests over IPC (osc-child.ts, midi-child.ts). */
export interface Helper {
  readonly name: string;
  readonly pid: number | undefined;
  request<T>(cmd: string, args?: Record<string, unknown>, ms?: number): Promise<T>;
  /** SIGTERM, then waits for the exit (SIGKILL after the deadline). */
  stop(): Promise<void>;
}

interface Reply {
  id: number;
  ok: boolean;
  result?: unknown;
  error?: string;
}

/** Forks `osc-child.js <role>`. */
export function forkHelper(role: 'relay' | 'sender' | 'pinger'): Helper {
  return forkIpcChild(CHILD_SCRIPT, [role], `osc ${role} child`);
}

/**
 * Forks a child script that answers `{ id, cmd, ...args }` requests with `{ id, ok, result | error }`
 * over IPC: each request has a deadline (the child is killed past it), an exit rejects what is pending.
 */
export function forkIpcChild(script: string, args: string[], name: string): Helper {
  const proc = fork(script, args, { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  track(proc);
  let stderr = '';
  proc.stderr?.setEncoding('utf8');
  proc.stderr?.on('data', (chunk: string) => {
    stderr += chunk;
  });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let exitCode: number | null | undefined;
  const exited = new Promise<void>((resolve) => {
    proc.once('exit', (code, signal) => {
      exitCode = code;
      for (const p of pending.values()) {
        p.reject(new Error(`${name} exited (code ${code}, signal ${signal}); stderr: ${stderr.trim()}`));
      }
      pending.clear();
      resolve();
    });
  });
  proc.once('error', (err) => {
    for (const p of pending.values()) p.reject(new Error(`${name}: ${err.message}`));
    pending.clear();
  });
  proc.on('message', (message: Reply) => {
    const p = pending.get(message.id);
    if (p === undefined) return;
    pending.delete(message.id);
    if (message.ok) p.resolve(message.result);
    else p.reject(new Error(`${name}: ${message.error}`));
  });
  return {
    name,
    pid: proc.pid,
    request<T>(cmd: string, args: Record<string, unknown> = {}, ms = CHILD_TIMEOUT_MS): Promise<T> {
      if (exitCode !== undefined) return Promise.reject(new Error(`${name} has exited (code ${exitCode})`));
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          proc.kill('SIGKILL');
          reject(
            new Error(`${name}: no answer to "${cmd}" within ${ms} ms (killed); stderr: ${stderr.trim()}`),
          );
        }, ms);
        pending.set(id, {
          resolve: (v) => {
            clearTimeout(timer);
            resolve(v as T);
          },
          reject: (e) => {
            clearTimeout(timer);
            reject(e);
          },
        });
        proc.send({ id, cmd, ...args });
      });
    },
    async stop() {
      if (exitCode === undefined) proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), CHILD_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** A UDP socket bound to 127.0.0.1 port 0 with the group's receive buffer; resolves with its port. */
export async function udpSocket(): Promise<{ socket: Socket; port: number }> {
  const socket = createSocket({ type: 'udp4', recvBufferSize: RECV_BUFFER_BYTES });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, HOST, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  socket.on('error', () => undefined);
  return { socket, port: socket.address().port };
}

/** Connects a UDP socket to 127.0.0.1:port (sends then skip the address lookup). */
export function connectUdp(socket: Socket, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.connect(port, HOST, () => {
      socket.off('error', reject);
      resolve();
    });
  });
}

export function closeSocket(socket: Socket | undefined): Promise<void> {
  if (socket === undefined) return Promise.resolve();
  return new Promise((resolve) => {
    try {
      socket.close(() => resolve());
    } catch {
      resolve(); // already closed
    }
  });
}

/**
 * The daemon config of the relay figures: `/relay ,i seq` in → bus message `relay { seq }` (NORMAL) →
 * `/relay ,i seq` out to 127.0.0.1:sinkPort over UDP. A bus queue far above any backlog of a run, so
 * the bus never evicts or refuses; logs at info (nothing per message). The gateway alone: no MIDI, no
 * band, no audio (the band's scheduled events would busy-wait the scheduler under the relay).
 */
export function relayConfig(sinkPort: number): string {
  return `api:
  host: 127.0.0.1
  port: 0
bus:
  maxQueueSize: 1000000
osc:
  listen: { host: 127.0.0.1, port: 0 }
  recvBufferBytes: ${RECV_BUFFER_BYTES}
  routes:
    - { address: /relay, type: relay, payload: { seq: { arg: 0 } } }
  targets:
    sink: { host: 127.0.0.1, port: ${sinkPort}, protocol: udp }
  outputs:
    - { type: relay, target: sink, address: /relay, args: [{ type: i, from: seq }] }
midi: { enabled: false }
agents: { enabled: false }
audio: { enabled: false }
log: { level: info, pretty: never }
`;
}

/** What GET /adapters says of the OSC adapter. */
export interface OscAdapterInfo {
  state: string;
  details?: {
    listeners?: { port: number; recvBufferBytes?: number; packetsIn: number; decodeErrors: number }[];
    targets?: { packetsOut: number; sendErrors: number }[];
    published?: number;
    refusedByBus?: number;
    mappingErrors?: number;
    unmatched?: number;
    echoesSkipped?: number;
  };
}

/** The real daemon running the relay config. */
export interface RelayDaemon {
  child: Child;
  api: string;
  /** The OSC adapter's bound UDP port. */
  port: number;
  recvBufferBytes: number;
  /** GET /adapters: the OSC adapter. */
  osc(): Promise<OscAdapterInfo>;
  /** SIGTERM, expects exit 0; removes the temp config. */
  stop(): Promise<void>;
  /** Kills it if it still runs; removes the temp config (for finally blocks). */
  kill(): void;
}

/** GET /adapters: the adapter named `name` (throws naming what is missing). */
export async function adapterInfo<T>(api: string, name: string): Promise<T> {
  const res = await get(`${api}/adapters`);
  if (res === undefined || res.status !== 200) {
    throw new Error(`GET ${api}/adapters failed: ${res === undefined ? 'no answer' : `HTTP ${res.status}`}`);
  }
  const found = (JSON.parse(res.body) as ({ name: string } & T)[]).find((p) => p.name === name);
  if (found === undefined) throw new Error(`GET ${api}/adapters has no ${name} adapter: ${res.body}`);
  return found;
}

const oscInfo = (api: string): Promise<OscAdapterInfo> => adapterInfo<OscAdapterInfo>(api, 'osc');

/** Starts `node dist/daemon/cli.js start` with the relay config and reads its OSC port from /adapters. */
export async function startRelayDaemon(sinkPort: number): Promise<RelayDaemon> {
  const tmp = tempDir();
  let child: Child | undefined;
  let cleaned = false;
  const cleanup = (): void => {
    if (cleaned) return;
    cleaned = true;
    tmp.cleanup();
  };
  try {
    child = spawnDaemon(tmp.file('config.yaml', relayConfig(sinkPort)));
    const api = await daemonUrl(child);
    const osc = await oscInfo(api);
    const listener = osc.details?.listeners?.[0];
    if (osc.state !== 'ok' || listener === undefined || !(listener.port > 0)) {
      throw new Error(`the daemon's OSC adapter is not listening: ${JSON.stringify(osc)}`);
    }
    const started = child;
    return {
      child: started,
      api,
      port: listener.port,
      recvBufferBytes: listener.recvBufferBytes ?? 0,
      osc: () => oscInfo(api),
      async stop() {
        try {
          await stop(started, 0);
        } finally {
          killAll([started]);
          cleanup();
        }
      },
      kill() {
        killAll([started]);
        cleanup();
      },
    };
  } catch (err) {
    killAll([child]);
    cleanup();
    const log = child?.lines.slice(-5).map((l) => jsonLine(l)?.msg ?? l);
    throw new Error(`${(err as Error).message}${log?.length ? ` (daemon log: ${log.join(' | ')})` : ''}`, {
      cause: err,
    });
  }
}

/** The raw node:dgram relay child, forwarding to 127.0.0.1:forwardPort. */
export async function startRawRelay(forwardPort: number): Promise<{ helper: Helper; port: number }> {
  const helper = forkHelper('relay');
  try {
    const { port } = await helper.request<{ port: number }>('start', { forwardPort });
    return { helper, port };
  } catch (err) {
    await helper.stop();
    throw err;
  }
}
