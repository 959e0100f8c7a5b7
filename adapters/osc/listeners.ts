/**
 * OSC listeners: UDP sockets, and a TCP server that reads both stream framings (OSC 1.0 length prefix,
 * OSC 1.1 SLIP; tcp-framing.ts). They own their sockets and hand raw packets to the adapter; they never
 * decode. Each counts every byte and packet it receives before anything else decides the packet's fate
 * (issue #10); what the TCP framing drops is counted here, the rest by the adapter. Bind failures become
 * PFM_ERR_OSC_BIND with a reason a show technician can act on.
 */
import { createSocket, type Socket } from 'node:dgram';
import { type AddressInfo, createServer, isIPv6, type Server, type Socket as TcpSocket } from 'node:net';
import { OscBindError } from '../../daemon/kernel/errors.js';
import { TCP_KEEPALIVE_MS } from './sender.js';
import { type DropKind, type StreamFraming, TcpDeframer, type TcpFraming } from './tcp-framing.js';

/**
 * How a packet ended. Every packet counted in `packetsIn` ends in exactly one of these (issue #10): a
 * bundle whose parts fare differently counts once, by its worst fate (a drop, then held, then
 * published).
 */
export const PACKET_OUTCOMES = [
  'published',
  'held',
  'decodeErrors',
  'droppedAllowlist',
  'droppedOversize',
  'droppedFraming',
  'droppedTooFar',
  'refusedByBus',
  'internalErrors',
] as const;
export type PacketOutcome = (typeof PACKET_OUTCOMES)[number];

/** Counters of one listener, shown in /health, /adapters and /metrics. */
export interface ListenerStats {
  name: string;
  protocol: 'udp' | 'tcp';
  host: string;
  /** The configured port (0 = any) and, once bound, the real one. */
  port: number;
  state: 'idle' | 'bound' | 'unbound' | 'closed';
  /** Packets received (datagrams; TCP: packets the framing delimited, or began), counted first. */
  packetsIn: number;
  /** Bytes received (TCP: every byte read, framing included), counted first. */
  bytesIn: number;
  /** Outcomes: every message of the packet reached the bus (routed or as osc_in). */
  published: number;
  /** Outcomes: a bundle held for its future timetag. */
  held: number;
  /** Outcomes: malformed OSC. */
  decodeErrors: number;
  /**
   * Outcomes: from a source outside osc.allow. TCP: connections refused at accept, before a byte is
   * read (they bring no packet, so they are not in `packetsIn`).
   */
  droppedAllowlist: number;
  /** Outcomes: over osc.maxDatagramBytes (a datagram, a SLIP frame or a length prefix). */
  droppedOversize: number;
  /** Outcomes (TCP): bytes that break the framing: a bad SLIP escape, a packet cut off by a close. */
  droppedFraming: number;
  /** Outcomes: a bundle too far ahead, or no room left to hold it. */
  droppedTooFar: number;
  /** Outcomes: the bus refused a message of the packet (queue full, or stopping). */
  refusedByBus: number;
  /** Outcomes: handling the packet failed unexpectedly (a bug; logged at error). */
  internalErrors: number;
  lastError: string | null;
  /** The receive buffer the kernel granted (UDP), bytes. */
  recvBufferBytes?: number;
  /**
   * Datagrams the kernel dropped for this socket because its receive buffer was full (UDP; Linux's
   * /proc/net/udp `drops`); null while unknown (no /proc, e.g. macOS, or not bound).
   */
  kernelDrops?: number | null;
  /** Open TCP connections. */
  connections?: number;
  /** The configured TCP framing. */
  framing?: TcpFraming;
  /** TCP connections by the framing they spoke. */
  framings?: Record<StreamFraming, number>;
  /** TCP connections closed by the listener because their stream could not be followed. */
  connectionsClosed?: number;
  /** TCP connections refused because 64 were open already (no byte of theirs is read). */
  connectionsOverLimit?: number;
}

/** A TCP stream problem, for the adapter to log (rate-limited) with the source and the reason. */
export interface StreamProblem {
  listener: string;
  address: string;
  port: number;
  reason: string;
  kind: DropKind;
  /** True when the connection was closed for it. */
  closed: boolean;
}

/**
 * Where a listener delivers a packet: the bytes and the sender as `host:port`. The packet is already in
 * `packetsIn` and `bytesIn`; the sink counts its outcome in `stats`.
 */
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
    published: 0,
    held: 0,
    decodeErrors: 0,
    droppedAllowlist: 0,
    droppedOversize: 0,
    droppedFraming: 0,
    droppedTooFar: 0,
    refusedByBus: 0,
    internalErrors: 0,
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
    this.stats.kernelDrops = null;
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
      socket.on('message', (msg, rinfo) => {
        this.stats.packetsIn++;
        this.stats.bytesIn += msg.length;
        this.sink(msg, rinfo.address, rinfo.port, this.stats);
      });
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

  /** The bound address (what /proc/net/udp lists), or undefined while not bound. */
  local(): AddressInfo | undefined {
    return this.socket?.address();
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

/** TCP connections accepted at most at once: more are refused at accept. */
const MAX_TCP_CONNECTIONS = 64;

/** A TCP listener's counters: the connection figures are always there. */
type TcpStats = ListenerStats &
  Required<Pick<ListenerStats, 'connections' | 'framings' | 'connectionsClosed' | 'connectionsOverLimit'>>;

/** A TCP listener; each connection's framing is detected from its first bytes, or configured. */
export class TcpListener {
  readonly stats: TcpStats;
  private server: Server | undefined;
  private readonly sockets = new Set<TcpSocket>();
  private closing = false;

  constructor(
    name: string,
    private readonly host: string,
    private readonly port: number,
    private readonly framing: TcpFraming,
    private readonly maxFrameBytes: number,
    private readonly sink: PacketSink,
    private readonly onProblem: (problem: StreamProblem) => void,
    private readonly allowed: (address: string) => boolean = () => true,
  ) {
    this.stats = {
      ...newStats(name, 'tcp', host, port),
      framing,
      connections: 0,
      framings: { slip: 0, length: 0 },
      connectionsClosed: 0,
      connectionsOverLimit: 0,
    };
  }

  start(): Promise<void> {
    const server = createServer((socket) => this.accept(socket));
    server.maxConnections = MAX_TCP_CONNECTIONS;
    // Node closes a connection over maxConnections before our handler sees it: counted here.
    server.on('drop', () => {
      this.stats.connectionsOverLimit++;
    });
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
    const deframer = this.deframer(socket);
    const stats = this.stats;
    socket.on('data', (chunk: Buffer) => {
      stats.bytesIn += chunk.length;
      try {
        deframer.push(chunk);
      } catch (err) {
        // The sink catches its own failures; this is the framing itself failing (a bug). Nothing from
        // the wire may take the daemon down: the connection goes, the reason stays in lastError.
        stats.lastError = (err as Error).message;
        socket.destroy();
      }
    });
    // A packet cut off by the peer's close is counted, never silently forgotten.
    socket.on('end', () => deframer.end());
    socket.on('error', (err) => {
      stats.lastError = err.message;
    });
    socket.on('close', () => {
      deframer.end();
      this.sockets.delete(socket);
      stats.connections = this.sockets.size;
    });
  }

  /**
   * The connection's deframer, wired to the counters: each packet it delimits is counted, then handed
   * to the sink; each one it drops is counted with its reason and reported for the log.
   */
  private deframer(socket: TcpSocket): TcpDeframer {
    const address = socket.remoteAddress ?? '?';
    const port = socket.remotePort ?? 0;
    const stats = this.stats;
    const problem = (reason: string, kind: DropKind, closed: boolean): void => {
      // The bytes a packet began with were counted in bytesIn; the packet is counted here, with its fate.
      stats.packetsIn++;
      if (kind === 'oversize') stats.droppedOversize++;
      else stats.droppedFraming++;
      if (closed) stats.connectionsClosed++;
      this.onProblem({ listener: stats.name, address, port, reason, kind, closed });
    };
    return new TcpDeframer(this.framing, this.maxFrameBytes, {
      packet: (packet) => {
        stats.packetsIn++;
        this.sink(packet, address, port, stats);
      },
      dropped: (reason, kind) => problem(reason, kind, false),
      fatal: (reason, kind) => {
        problem(reason, kind, true);
        socket.destroy();
      },
      detected: (framing) => {
        stats.framings[framing]++;
      },
    });
  }
}
