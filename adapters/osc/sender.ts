/**
 * OSC targets: where output rules send. A UDP target gets a socket of its own, connected to it, so a
 * send does no address lookup or parsing per packet (measured: that was ~15 % of a relay's CPU); a TCP
 * target keeps one connection, framed with SLIP (OSC 1.1, the default) or an int32 length prefix
 * (OSC 1.0, what liblo programs and SuperCollider read), and reconnects after a loss. A send never
 * throws into the bus: a failure is counted, kept as `lastError` and reported through `onError`.
 */
import { createSocket, type Socket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { connect, isIP, type Socket as TcpSocket } from 'node:net';
import { OscSendError } from '../../daemon/kernel/errors.js';
import { slipEncode } from './slip.js';
import { lengthEncode, type StreamFraming } from './tcp-framing.js';

/** A target as configured. */
export interface TargetConfig {
  host: string;
  port: number;
  protocol: 'udp' | 'tcp';
  timetags: boolean;
  /** TCP only: how packets are delimited on the stream. Absent: slip. */
  framing?: StreamFraming;
}

/** Counters of one target. */
export interface TargetStats {
  name: string;
  protocol: 'udp' | 'tcp';
  host: string;
  port: number;
  packetsOut: number;
  bytesOut: number;
  sendErrors: number;
  lastError: string | null;
  connected?: boolean;
  /** TCP: the framing sent. */
  framing?: StreamFraming;
}

/** Packets queued at most for a TCP target while it is disconnected; beyond, sends fail. */
const TCP_BACKLOG = 1_024;
/**
 * A lost TCP target is tried again after 250 ms, then twice as long each failed attempt, up to 5 s:
 * a desk that reboots is back within a fraction of a second of listening again, and one that is gone
 * costs a connection attempt every 5 s.
 */
const RECONNECT_FIRST_MS = 250;
const RECONNECT_MAX_MS = 5_000;
/** Idle time before TCP keep-alive probes start: a peer that vanished without a FIN is found out. */
export const TCP_KEEPALIVE_MS = 10_000;
/** Bytes a TCP target may leave unread before further packets are dropped. */
const TCP_MAX_UNSENT = 1024 * 1024;

interface Target {
  config: TargetConfig;
  stats: TargetStats;
  /** The resolved address. */
  ip: string;
  udp?: Socket;
  tcp?: TcpSocket;
  backlog: Uint8Array[];
  reconnect?: NodeJS.Timeout;
  /** The wait before the next connection attempt. */
  retryDelay: number;
  /** When the current connection opened (Date.now()), 0 while not connected. */
  connectedAt: number;
}

export class OscSender {
  private readonly targets = new Map<string, Target>();
  private stopped = false;

  constructor(
    configs: Readonly<Record<string, TargetConfig>>,
    private readonly onError: (err: Error, target: string) => void,
  ) {
    for (const [name, config] of Object.entries(configs)) {
      const stats: TargetStats = {
        name,
        protocol: config.protocol,
        host: config.host,
        port: config.port,
        packetsOut: 0,
        bytesOut: 0,
        sendErrors: 0,
        lastError: null,
        ...(config.protocol === 'tcp' ? { framing: config.framing ?? 'slip' } : {}),
      };
      this.targets.set(name, {
        config,
        stats,
        ip: config.host,
        backlog: [],
        retryDelay: RECONNECT_FIRST_MS,
        connectedAt: 0,
      });
    }
  }

  /** Resolves host names once (not per packet) and opens the sockets. */
  async start(): Promise<void> {
    for (const t of this.targets.values()) {
      if (isIP(t.config.host) === 0) {
        try {
          t.ip = (await lookup(t.config.host)).address;
        } catch (err) {
          this.fail(t, `cannot resolve ${t.config.host}: ${(err as Error).message}`, err);
        }
      }
      if (t.config.protocol === 'tcp') this.connectTcp(t);
      else t.udp = await this.connectUdp(t);
    }
  }

  /** The target's config, or undefined for an unknown name. */
  config(name: string): TargetConfig | undefined {
    return this.targets.get(name)?.config;
  }

  /** The target's resolved `address:port` (compared with where a message came from). */
  address(name: string): string | undefined {
    const t = this.targets.get(name);
    return t === undefined ? undefined : `${t.ip}:${t.config.port}`;
  }

  stats(): TargetStats[] {
    return [...this.targets.values()].map((t) => ({ ...t.stats }));
  }

  /** Sends one packet; failures are counted and reported, never thrown. */
  send(name: string, packet: Uint8Array): void {
    const t = this.targets.get(name);
    if (t === undefined || this.stopped) return;
    if (t.config.protocol === 'tcp') {
      const framed = t.config.framing === 'length' ? lengthEncode(packet) : slipEncode(packet);
      if (t.tcp !== undefined && t.stats.connected) {
        // A target that stops reading must not make us buffer without bound.
        if (t.tcp.writableLength > TCP_MAX_UNSENT) {
          this.fail(t, `the target is not reading (${t.tcp.writableLength} bytes unsent): packet dropped`);
          return;
        }
        t.tcp.write(framed);
        this.sent(t, framed.length);
      } else if (t.backlog.length < TCP_BACKLOG) t.backlog.push(framed);
      else this.fail(t, `not connected and ${TCP_BACKLOG} packets already waiting`);
      return;
    }
    if (t.udp === undefined) {
      this.fail(t, 'no socket (the address did not resolve)');
      return;
    }
    // No callback: a failed send arrives as the socket's 'error' event (connectUdp), counted there.
    t.udp.send(packet);
    this.sent(t, packet.length);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const closing: Promise<void>[] = [];
    for (const t of this.targets.values()) {
      if (t.reconnect !== undefined) clearTimeout(t.reconnect);
      t.tcp?.destroy();
      t.backlog = [];
      const udp = t.udp;
      t.udp = undefined;
      if (udp !== undefined) closing.push(new Promise<void>((r) => udp.close(() => r())));
    }
    await Promise.all(closing);
  }

  private sent(t: Target, bytes: number): void {
    t.stats.packetsOut++;
    t.stats.bytesOut += bytes;
  }

  private fail(t: Target, reason: string, cause?: unknown): void {
    t.stats.sendErrors++;
    const err = new OscSendError(`${t.stats.name} (${t.config.host}:${t.config.port})`, reason, { cause });
    t.stats.lastError = err.message;
    this.onError(err, t.stats.name);
  }

  /** A socket connected to the target; undefined when it cannot be opened (counted as a send error). */
  private connectUdp(t: Target): Promise<Socket | undefined> {
    if (this.stopped) return Promise.resolve(undefined);
    const socket = createSocket(isIP(t.ip) === 6 ? 'udp6' : 'udp4');
    return new Promise((resolve) => {
      const early = (err: Error): void => {
        this.fail(t, err.message, err);
        socket.close();
        resolve(undefined);
      };
      socket.once('error', early);
      socket.connect(t.config.port, t.ip, () => {
        socket.off('error', early);
        // Errors of sends (e.g. ECONNREFUSED after an ICMP "port unreachable") come here.
        socket.on('error', (err) => this.fail(t, err.message, err));
        resolve(socket);
      });
    });
  }

  private connectTcp(t: Target): void {
    if (this.stopped) return;
    const socket = connect({ host: t.ip, port: t.config.port });
    t.tcp = socket;
    socket.setNoDelay(true);
    socket.setKeepAlive(true, TCP_KEEPALIVE_MS);
    // Read (and drop) what the target sends, so its replies do not pile up in the socket's buffer.
    socket.resume();
    socket.on('connect', () => {
      t.stats.connected = true;
      t.connectedAt = Date.now();
      for (const framed of t.backlog.splice(0)) {
        socket.write(framed);
        this.sent(t, framed.length);
      }
    });
    socket.on('error', (err) => this.fail(t, err.message, err));
    socket.on('close', () => {
      t.stats.connected = false;
      t.tcp = undefined;
      if (this.stopped) return;
      // A connection that lasted starts the back-off afresh; one the peer closes at once (a port that
      // accepts and hangs up) keeps backing off.
      if (t.connectedAt > 0 && Date.now() - t.connectedAt >= RECONNECT_MAX_MS)
        t.retryDelay = RECONNECT_FIRST_MS;
      t.connectedAt = 0;
      t.reconnect = setTimeout(() => this.connectTcp(t), t.retryDelay);
      t.retryDelay = Math.min(RECONNECT_MAX_MS, t.retryDelay * 2);
    });
  }
}
