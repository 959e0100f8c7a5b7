/**
 * Datagrams the kernel dropped before a UDP listener could read them (issue #10). When a socket's
 * receive buffer is full, Linux drops what arrives and counts it per socket: /proc/net/udp and
 * /proc/net/udp6 list every UDP socket of the network namespace with its local address, inode and
 * `drops` (the last column). A listener's row is found by its bound address and port, and confirmed
 * by the inode: the socket must be one of this process's (/proc/self/fd), so another program's socket
 * is never read as ours. Without /proc (macOS, Windows) the count stays null: unknown, never an error.
 */
import { readdir, readFile, readlink } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { endianness } from 'node:os';
import { join } from 'node:path';
import type { ListenerStats } from './listeners.js';

/** One row of /proc/net/udp{,6}: the local address as the kernel prints it, and the counters. */
export interface ProcUdpRow {
  /** Hex, as printed: each 32-bit word of the address in the host's byte order. */
  address: string;
  port: number;
  inode: number;
  drops: number;
}

/** Parses /proc/net/udp or /proc/net/udp6; lines it cannot read are skipped. */
export function parseProcNetUdp(text: string): ProcUdpRow[] {
  const rows: ProcUdpRow[] = [];
  for (const line of text.split('\n').slice(1)) {
    // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ref
    // pointer drops (linux/net/ipv4/udp.c, udp4_format_sock; udp6 prints the same columns)
    const f = line.trim().split(/\s+/);
    if (f.length < 13) continue;
    const [address, port] = (f[1] as string).split(':');
    const row = {
      address: (address ?? '').toUpperCase(),
      port: Number.parseInt(port ?? '', 16),
      inode: Number(f[9]),
      drops: Number(f[12]),
    };
    if (Number.isInteger(row.port) && Number.isInteger(row.inode) && Number.isInteger(row.drops))
      rows.push(row);
  }
  return rows;
}

/** The 16 bytes of an IPv6 address (`::` shorthand, embedded IPv4, zone id), or undefined. */
export function ipv6Bytes(address: string): number[] | undefined {
  let text = address.split('%')[0] as string;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  let tail: number[] = [];
  if (v4 !== null) {
    const b = ipv4Bytes(v4[1] as string);
    if (b === undefined) return undefined;
    tail = b;
    text = `${text.slice(0, -(v4[1] as string).length)}0:0`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = (s: string) => (s === '' ? [] : s.split(':'));
  const head = groups(halves[0] as string);
  const rest = halves.length === 2 ? groups(halves[1] as string) : [];
  const missing = 8 - head.length - rest.length;
  if (missing < 0 || (halves.length === 1 && missing !== 0)) return undefined;
  const words = [...head, ...Array<string>(missing).fill('0'), ...rest];
  const bytes: number[] = [];
  for (const w of words) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(w)) return undefined;
    const n = Number.parseInt(w, 16);
    bytes.push(n >> 8, n & 0xff);
  }
  if (tail.length > 0) bytes.splice(12, 4, ...tail);
  return bytes;
}

function ipv4Bytes(address: string): number[] | undefined {
  const parts = address.split('.').map(Number);
  return parts.length === 4 && parts.every((p) => Number.isInteger(p) && p >= 0 && p <= 255)
    ? parts
    : undefined;
}

/**
 * The address as /proc/net/udp{,6} prints it: the kernel prints each 32-bit word of the address as
 * a host-order integer (`%08X`), so on a little-endian machine 127.0.0.1 reads 0100007F.
 */
export function procAddressHex(
  address: string,
  family: 'IPv4' | 'IPv6',
  littleEndian = endianness() === 'LE',
): string | undefined {
  const bytes = family === 'IPv4' ? ipv4Bytes(address) : ipv6Bytes(address);
  if (bytes === undefined) return undefined;
  let out = '';
  for (let w = 0; w < bytes.length; w += 4) {
    const word = bytes.slice(w, w + 4);
    if (littleEndian) word.reverse();
    out += word.map((b) => b.toString(16).padStart(2, '0')).join('');
  }
  return out.toUpperCase();
}

/** A UDP listener as the watch sees it. */
export interface WatchedListener {
  readonly stats: ListenerStats;
  local(): AddressInfo | undefined;
}

/** How often and where the watch reads. */
export interface KernelDropsOptions {
  pollMs: number;
  /** Growth is reported at most this often per listener, with what grew since the last report. */
  reportEveryMs: number;
  /** The /proc mount (a test points it at a directory of its own). */
  proc?: string;
  now?: () => number;
}

/** Reads the kernel's drop counts for the listeners into their `kernelDrops`, and reports growth. */
export class KernelDropsWatch {
  /** The socket inode each listener's row was confirmed by (cleared when its socket goes). */
  private readonly inodes = new Map<WatchedListener, number>();
  /** The count each listener's last report went up to, and when it was made. */
  private readonly reported = new Map<WatchedListener, { drops: number; at: number }>();
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private readonly proc: string;
  private readonly now: () => number;

  constructor(
    private readonly listeners: readonly WatchedListener[],
    private readonly onGrowth: (listener: ListenerStats, drops: number, grew: number) => void,
    private readonly options: KernelDropsOptions,
  ) {
    this.proc = options.proc ?? '/proc';
    this.now = options.now ?? Date.now;
  }

  /** Reads once (so /health has a figure at once), then every `pollMs`. */
  async start(): Promise<void> {
    await this.poll();
    this.timer = setInterval(() => {
      // One read at a time: a slow /proc read is skipped over, not stacked up.
      this.polling ??= this.poll().finally(() => {
        this.polling = undefined;
      });
    }, this.options.pollMs);
    // The figures are for /health only: they must not keep the process alive.
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    await this.polling;
  }

  /** One reading of every bound listener. Never throws: what cannot be read is unknown (null). */
  async poll(): Promise<void> {
    const bound = this.listeners.filter((l) => l.local() !== undefined);
    const families = new Set(bound.map((l) => (l.local() as AddressInfo).family));
    const rows: ProcUdpRow[] = [];
    let readable = true;
    for (const family of families) {
      const file = join(this.proc, 'net', family === 'IPv6' ? 'udp6' : 'udp');
      const text = await readFile(file, 'utf8').catch(() => undefined);
      if (text === undefined) readable = false;
      else rows.push(...parseProcNetUdp(text));
    }
    let ours: Set<number> | undefined;
    for (const l of this.listeners) {
      const local = l.local();
      if (local === undefined || !readable) {
        l.stats.kernelDrops = null;
        this.inodes.delete(l);
        continue;
      }
      let row = rows.find((r) => r.inode === this.inodes.get(l));
      if (row === undefined) {
        ours ??= await this.ownSocketInodes();
        row = this.findRow(rows, local, ours);
      }
      if (row === undefined) {
        l.stats.kernelDrops = null;
        this.inodes.delete(l);
        continue;
      }
      if (this.inodes.get(l) !== row.inode) this.reported.delete(l);
      this.inodes.set(l, row.inode);
      l.stats.kernelDrops = row.drops;
      this.report(l, row.drops);
    }
  }

  /** Growth since the last report, at most once per `reportEveryMs`. */
  private report(l: WatchedListener, drops: number): void {
    const last = this.reported.get(l) ?? { drops: 0, at: Number.NEGATIVE_INFINITY };
    const now = this.now();
    if (drops <= last.drops || now - last.at < this.options.reportEveryMs) return;
    this.reported.set(l, { drops, at: now });
    this.onGrowth(l.stats, drops, drops - last.drops);
  }

  private findRow(
    rows: readonly ProcUdpRow[],
    local: AddressInfo,
    ours: Set<number>,
  ): ProcUdpRow | undefined {
    const hex = procAddressHex(local.address, local.family as 'IPv4' | 'IPv6');
    return rows.find((r) => r.address === hex && r.port === local.port && ours.has(r.inode));
  }

  /** The inodes of this process's sockets, from the links in /proc/self/fd (`socket:[12345]`). */
  private async ownSocketInodes(): Promise<Set<number>> {
    const dir = join(this.proc, 'self', 'fd');
    const fds = await readdir(dir).catch(() => [] as string[]);
    const inodes = new Set<number>();
    for (const fd of fds) {
      const target = await readlink(join(dir, fd)).catch(() => '');
      const m = /^socket:\[(\d+)\]$/.exec(target);
      if (m !== null) inodes.add(Number(m[1]));
    }
    return inodes;
  }
}
