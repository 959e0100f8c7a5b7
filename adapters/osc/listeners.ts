/**
 * OSC listeners: UDP sockets, and a TCP server with SLIP framing (OSC 1.1). They own their sockets and
 * hand raw packets to the adapter; they never decode. Bind failures become PFM_ERR_OSC_BIND with a
 * reason a show technician can act on.
 */
import { createSocket, type Socket } from 'node:dgram';
import { createServer, isIPv6, type Server, type Socket as TcpSocket } from 'node:net';
import { OscBindError } from '../../daemon/kernel/errors.js';
import { TCP_KEEPALIVE_MS } from './sender.js';
import { SlipDecoder } from './slip.js';

/** Counters of one listener, shown in /health, /adapters and /metrics. */
export interface ListenerStats {
  name: string;
  protocol: 'udp' | 'tcp';
  host: string;
  /** The configured port (0 = any) and, once bound, the real one. */
  port: number;
  state: 'idle' | 'bound' | 'unbound' | 'closed';
  packetsIn: number;
  bytesIn: number;
  decodeErrors: number;
  droppedAllowlist: number;
  droppedOversize: number;
  lastError: string | null;
  /** The receive buffer the kernel granted (UDP), bytes. */
  recvBufferBytes?: number;
  /** Open TCP connections. */
  connections?: number;
}

/** Where a listener delivers a packet: the bytes and the sender as `host:port`. */
export type PacketSink = (bytes: Uint8Array, address: string, port: number, stats: ListenerStats) => void;

/** Turns a bind error into PFM_ERR_OSC_BIND naming the port and what to do. */
export function bindError(what: string, host: string, port: number, err: unknown): Error {
  const code = (err as { code?: string }).code;
  const reason =
    code === 'EADDRINUSE'
      ? `port ${port} is already in use by another program (stop it, or change the port in osc.listen)`
      : code === 'EACCES'
        ? `permission denied for port ${port}: use a port above 1023`
        : code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN'
          ? `${host} is not an address of this machine`
          : (err as Error).message;
  return new OscBindError(`${what} ${host}:${port}`, reason, { cause: err });
}

export function newStats(name: string, protocol: 'udp' | 'tcp', host: string, port: number): ListenerStats {
  return {
    name,
    protocol,
    host,
    port,
    state: 'idle',
    packetsIn: 0,
    bytesIn: 0,
    decodeErrors: 0,
    droppedAllowlist: 0,
    droppedOversize: 0,
    lastError: null,
  };
}

/** A UDP listener. */
export class UdpListener {
  readonly stats: ListenerStats;
  private socket: Socket | undefined;
  /** stop() was called: a bind still under way closes its socket instead of keeping it. */
  private closing = false;

  constructor(
    name: string,
    private readonly host: string,
    private readonly port: number,
    private readonly recvBufferBytes: number,
    private readonly sink: PacketSink,
  ) {
    this.stats = newStats(name, 'udp', host, port);
  }

  /** Binds; rejects with PFM_ERR_OSC_BIND. */
  start(): Promise<void> {
    const socket = createSocket({
      type: isIPv6(this.host) ? 'udp6' : 'udp4',
      recvBufferSize: this.recvBufferBytes,
    });
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => {
        socket.close();
        this.stats.state = 'unbound';
        const e = bindError('UDP listener', this.host, this.port, err);
        this.stats.lastError = e.message;
        reject(e);
      };
      socket.once('error', onError);
      socket.on('message', (msg, rinfo) => this.sink(msg, rinfo.address, rinfo.port, this.stats));
      socket.bind({ address: this.host, port: this.port, exclusive: true }, () => {
        socket.off('error', onError);
        if (this.closing) {
          socket.close();
          resolve();
          return;
        }
        // After the bind, a socket error is reported and counted, never thrown.
        socket.on('error', (err) => {
          this.stats.lastError = err.message;
        });
        this.socket = socket;
        this.stats.state = 'bound';
        this.stats.port = socket.address().port;
        this.stats.recvBufferBytes = socket.getRecvBufferSize();
        resolve();
      });
    });
  }

  stop(): Promise<void> {
    this.closing = true;
    const socket = this.socket;
    this.socket = undefined;
    this.stats.state = 'closed';
    if (socket === undefined) return Promise.resolve();
    return new Promise((resolve) => socket.close(() => resolve()));
  }
}

/** A TCP listener with SLIP framing; each complete frame is one packet. */
/** TCP connections accepted at most at once: more are refused at accept. */
const MAX_TCP_CONNECTIONS = 64;

export class TcpListener {
  readonly stats: ListenerStats;
  private server: Server | undefined;
  private readonly sockets = new Set<TcpSocket>();
  private closing = false;

  constructor(
    name: string,
    private readonly host: string,
    private readonly port: number,
    private readonly maxFrameBytes: number,
    private readonly sink: PacketSink,
    private readonly onDropped: (reason: string, address: string) => void,
    private readonly allowed: (address: string) => boolean = () => true,
  ) {
    this.stats = newStats(name, 'tcp', host, port);
    this.stats.connections = 0;
  }

  start(): Promise<void> {
    const server = createServer((socket) => this.accept(socket));
    server.maxConnections = MAX_TCP_CONNECTIONS;
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => {
        server.close();
        this.stats.state = 'unbound';
        const e = bindError('TCP listener', this.host, this.port, err);
        this.stats.lastError = e.message;
        reject(e);
      };
      server.once('error', onError);
      server.listen({ host: this.host, port: this.port, exclusive: true }, () => {
        server.off('error', onError);
        if (this.closing) {
          server.close();
          resolve();
          return;
        }
        server.on('error', (err) => {
          this.stats.lastError = err.message;
        });
        this.server = server;
        this.stats.state = 'bound';
        const addr = server.address();
        if (typeof addr === 'object' && addr !== null) this.stats.port = addr.port;
        resolve();
      });
    });
  }

  stop(): Promise<void> {
    this.closing = true;
    const server = this.server;
    this.server = undefined;
    this.stats.state = 'closed';
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    if (server === undefined) return Promise.resolve();
    return new Promise((resolve) => server.close(() => resolve()));
  }

  private accept(socket: TcpSocket): void {
    // The allowlist is checked before a byte is buffered.
    if (!this.allowed(socket.remoteAddress ?? '')) {
      this.stats.droppedAllowlist++;
      socket.destroy();
      return;
    }
    this.sockets.add(socket);
    this.stats.connections = this.sockets.size;
    // A controller that vanished without closing (battery out, Wi-Fi gone) is found out and its slot
    // freed, rather than held among the 64 forever.
    socket.setKeepAlive(true, TCP_KEEPALIVE_MS);
    const address = socket.remoteAddress ?? '?';
    const port = socket.remotePort ?? 0;
    const decoder = new SlipDecoder(this.maxFrameBytes, {
      frame: (frame) => this.sink(frame, address, port, this.stats),
      dropped: (reason) => {
        this.stats.droppedOversize++;
        this.onDropped(reason, address);
      },
    });
    socket.on('data', (chunk) => decoder.push(chunk));
    socket.on('error', (err) => {
      this.stats.lastError = err.message;
    });
    socket.on('close', () => {
      this.sockets.delete(socket);
      this.stats.connections = this.sockets.size;
    });
  }
}
