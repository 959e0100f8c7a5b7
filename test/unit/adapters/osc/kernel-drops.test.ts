import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ipv6Bytes,
  KernelDropsWatch,
  parseProcNetUdp,
  procAddressHex,
} from '../../../../adapters/osc/kernel-drops.js';
import { type ListenerStats, newStats } from '../../../../adapters/osc/listeners.js';

// Two rows as Linux 6.x prints them (the header has a trailing run of spaces too).
const UDP = `   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops            
  171: 0100007F:AC8D 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 370262 2 00000000e9f567ae 0        
  283: 0100007F:ACFD 00000000:0000 07 00000000:00020000 00:00000000 00000000  1000        0 370256 2 0000000064682769 1851     
   12: 00000000:2F59 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 999 2 0000000064682769 7
  garbage line
`;
const UDP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
   40: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000  1000        0 5555 2 0000000000000000 3
`;

describe('parseProcNetUdp', () => {
  it('reads address, port, inode and drops; skips what it cannot read', () => {
    expect(parseProcNetUdp(UDP)).toEqual([
      { address: '0100007F', port: 0xac8d, inode: 370262, drops: 0 },
      { address: '0100007F', port: 0xacfd, inode: 370256, drops: 1851 },
      { address: '00000000', port: 0x2f59, inode: 999, drops: 7 },
    ]);
    expect(parseProcNetUdp(UDP6)).toEqual([
      { address: '00000000000000000000000001000000', port: 8080, inode: 5555, drops: 3 },
    ]);
    expect(parseProcNetUdp('')).toEqual([]);
  });
});

describe('procAddressHex', () => {
  it('prints each 32-bit word in the host byte order, as the kernel does', () => {
    expect(procAddressHex('127.0.0.1', 'IPv4', true)).toBe('0100007F');
    expect(procAddressHex('127.0.0.1', 'IPv4', false)).toBe('7F000001');
    expect(procAddressHex('192.168.1.20', 'IPv4', true)).toBe('1401A8C0');
    expect(procAddressHex('0.0.0.0', 'IPv4', true)).toBe('00000000');
    expect(procAddressHex('::1', 'IPv6', true)).toBe('00000000000000000000000001000000');
    expect(procAddressHex('::', 'IPv6', true)).toBe('0'.repeat(32));
    expect(procAddressHex('fe80::1%eth0', 'IPv6', true)).toBe('000080FE000000000000000001000000');
    expect(procAddressHex('::ffff:127.0.0.1', 'IPv6', true)).toBe('0000000000000000FFFF00000100007F');
    expect(procAddressHex('not an address', 'IPv4', true)).toBeUndefined();
  });

  it('parses IPv6 shorthand and refuses what is not IPv6', () => {
    expect(ipv6Bytes('2001:db8::8:800:200c:417a')).toEqual([
      0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0x08, 0x08, 0, 0x20, 0x0c, 0x41, 0x7a,
    ]);
    expect(ipv6Bytes('1:2:3:4:5:6:7:8')).toHaveLength(16);
    for (const bad of ['1::2::3', '1:2:3', 'g::1', '1:2:3:4:5:6:7:8:9', '::1.2.3.256']) {
      expect(ipv6Bytes(bad), bad).toBeUndefined();
    }
  });
});

describe('KernelDropsWatch', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  /** A /proc of our own: net/udp with `udp`, and self/fd links to the socket inodes `ours`. */
  function fakeProc(udp: string | undefined, ours: number[]): string {
    const root = mkdtempSync(join(tmpdir(), 'performia-proc-'));
    dirs.push(root);
    mkdirSync(join(root, 'net'));
    mkdirSync(join(root, 'self', 'fd'), { recursive: true });
    if (udp !== undefined) writeFileSync(join(root, 'net', 'udp'), udp);
    ours.forEach((inode, i) => {
      symlinkSync(`socket:[${inode}]`, join(root, 'self', 'fd', String(i + 3)));
    });
    symlinkSync('/dev/null', join(root, 'self', 'fd', '0'));
    return root;
  }

  function listener(port: number, address = '127.0.0.1'): { stats: ListenerStats; local(): AddressInfo } {
    const stats = newStats(`udp${port}`, 'udp', address, port);
    stats.kernelDrops = null;
    return { stats, local: () => ({ address, family: 'IPv4', port }) };
  }

  it("reads the drops of the listener's own socket, found by address, port and inode", async () => {
    const l = listener(0xacfd);
    const growth: [string, number, number][] = [];
    const watch = new KernelDropsWatch([l], (s, d, g) => growth.push([s.name, d, g]), {
      pollMs: 1_000,
      reportEveryMs: 10_000,
      proc: fakeProc(UDP, [370256]),
    });
    await watch.poll();
    expect(l.stats.kernelDrops).toBe(1851);
    expect(growth).toEqual([[l.stats.name, 1851, 1851]]);
  });

  it("does not read another process's socket on the same address and port as ours", async () => {
    const l = listener(0xacfd);
    const watch = new KernelDropsWatch([l], () => {}, {
      pollMs: 1_000,
      reportEveryMs: 10_000,
      proc: fakeProc(UDP, [370262]),
    });
    await watch.poll();
    expect(l.stats.kernelDrops).toBeNull();
  });

  it('without /proc/net/udp (macOS) the count is unknown (null), and nothing throws', async () => {
    const l = listener(0xacfd);
    l.stats.kernelDrops = 5;
    const watch = new KernelDropsWatch([l], () => {}, {
      pollMs: 1_000,
      reportEveryMs: 10_000,
      proc: join(tmpdir(), 'performia-no-such-proc'),
    });
    await watch.poll();
    expect(l.stats.kernelDrops).toBeNull();
    const missing = new KernelDropsWatch([l], () => {}, {
      pollMs: 1_000,
      reportEveryMs: 10_000,
      proc: fakeProc(undefined, [370256]),
    });
    await missing.poll();
    expect(l.stats.kernelDrops).toBeNull();
  });

  it('reports growth at most once per interval, with what grew since the last report', async () => {
    const l = listener(0xacfd);
    const growth: [number, number][] = [];
    let now = 0;
    const proc = fakeProc(UDP, [370256]);
    const watch = new KernelDropsWatch([l], (_s, d, g) => growth.push([d, g]), {
      pollMs: 1_000,
      reportEveryMs: 10_000,
      proc,
      now: () => now,
    });
    const drops = (n: number) =>
      writeFileSync(join(proc, 'net', 'udp'), UDP.replace(' 1851 ', ` ${String(n)} `));
    drops(0);
    await watch.poll();
    drops(10);
    now = 1_000;
    await watch.poll();
    drops(25);
    now = 5_000;
    await watch.poll();
    expect(l.stats.kernelDrops).toBe(25);
    now = 11_000;
    await watch.poll();
    now = 30_000;
    await watch.poll();
    expect(growth).toEqual([
      [10, 10],
      [25, 15],
    ]);
  });
});
