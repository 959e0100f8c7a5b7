/**
 * OSC targets: where output rules send. UDP targets share one socket per address family; a TCP target
 * keeps one SLIP-framed connection and reconnects after a loss. A send never throws into the bus: a
 * failure is counted, kept as `lastError` and reported through `onError`.
 */
import { createSocket, type Socket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { connect, isIP, type Socket as TcpSocket } from 'node:net';
import { OscSendError } from '../../daemon/errors.js';
import { slipEncode } from './slip.js';

/** A target as configured. */
export interface TargetConfig {
  host: string;
  port: number;
  protocol: 'udp' | 'tcp';
  timetags: boolean;
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
}

/** Packets queued at most for a TCP target while it is disconnected; beyond, sends fail. */
const TCP_BACKLOG = 1_024;
const RECONNECT_MS = 1_000;

interface Target {
  config: TargetConfig;
  stats: TargetStats;
  /** The resolved address (UDP). */
  ip: string;
  tcp?: TcpSocket;
  backlog: Uint8Array[];
  reconnect?: NodeJS.Timeout;
}

export class OscSender {
  private readonly targets = new Map<string, Target>();
  private udp4: Socket | undefined;
  private udp6: Socket | undefined;
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
      };
      this.targets.set(name, { config, stats, ip: config.host, backlog: [] });
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
    }
    this.udp4 = await this.bindUdp('udp4');
    if ([...this.targets.values()].some((t) => isIP(t.ip) === 6)) this.udp6 = await this.bindUdp('udp6');
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
      const framed = slipEncode(packet);
      if (t.tcp !== undefined && t.stats.connected) {
        t.tcp.write(framed);
        this.sent(t, framed.length);
      } else if (t.backlog.length < TCP_BACKLOG) t.backlog.push(framed);
      else this.fail(t, `not connected and ${TCP_BACKLOG} packets already waiting`);
      return;
    }
    const socket = isIP(t.ip) === 6 ? this.udp6 : this.udp4;
    if (socket === undefined) {
      this.fail(t, 'no socket');
      return;
    }
    socket.send(packet, t.config.port, t.ip, (err) => {
      if (err) this.fail(t, err.message, err);
      else this.sent(t, packet.length);
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.targets.values()) {
      if (t.reconnect !== undefined) clearTimeout(t.reconnect);
      t.tcp?.destroy();
      t.backlog = [];
    }
    await Promise.all(
      [this.udp4, this.udp6].map((s) =>
        s === undefined ? undefined : new Promise<void>((r) => s.close(() => r())),
      ),
    );
    this.udp4 = undefined;
    this.udp6 = undefined;
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

  private bindUdp(type: 'udp4' | 'udp6'): Promise<Socket> {
    const socket = createSocket(type);
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, () => {
        socket.off('error', reject);
        // Errors of later sends arrive in their callbacks; a socket-level error is only logged.
        socket.on('error', (err) => this.onError(err, type));
        resolve(socket);
      });
    });
  }

  private connectTcp(t: Target): void {
    if (this.stopped) return;
    const socket = connect({ host: t.ip, port: t.config.port });
    t.tcp = socket;
    socket.setNoDelay(true);
    socket.on('connect', () => {
      t.stats.connected = true;
      for (const framed of t.backlog.splice(0)) {
        socket.write(framed);
        this.sent(t, framed.length);
      }
    });
    socket.on('error', (err) => this.fail(t, err.message, err));
    socket.on('close', () => {
      t.stats.connected = false;
      t.tcp = undefined;
      if (!this.stopped) t.reconnect = setTimeout(() => this.connectTcp(t), RECONNECT_MS);
    });
  }
}
