/**
 * The source allowlist (issue #4): CIDR blocks, IPv4 and IPv6. Datagrams from elsewhere are counted
 * and dropped before any decoding. Pure: no I/O.
 */
import { isIPv4, isIPv6 } from 'node:net';

/** A dotted IPv4 tail (`::ffff:1.2.3.4`, `64:ff9b::192.0.2.1`) as two hex groups; undefined if invalid. */
function dottedTailToHex(addr: string): string | undefined {
  const m = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(addr);
  if (m === null) return addr;
  const v4 = m[2] as string;
  if (!isIPv4(v4)) return undefined;
  const [a = 0, b = 0, c = 0, d = 0] = v4.split('.').map(Number);
  return `${m[1]}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
}

/**
 * A 128-bit address as a bigint. IPv4 lives in the IPv4-mapped range `::ffff:a.b.c.d`, so an IPv4
 * source matches IPv4 blocks and `::ffff:0:0/96`-style IPv6 blocks alike. A zone id (`fe80::1%eth0`) is
 * ignored. Undefined for anything that is not an address.
 */
function toBigInt(raw: string): bigint | undefined {
  const addr = raw.split('%')[0] as string;
  if (isIPv4(addr)) {
    const [a = 0, b = 0, c = 0, d = 0] = addr.split('.').map(Number);
    return (0xffffn << 32n) | BigInt(((a << 24) >>> 0) + (b << 16) + (c << 8) + d);
  }
  if (!isIPv6(addr)) return undefined;
  const hex = dottedTailToHex(addr);
  if (hex === undefined) return undefined;
  const halves = hex.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] === '' || halves[0] === undefined ? [] : halves[0].split(':');
  const tail = halves.length === 1 || halves[1] === '' ? [] : (halves[1] as string).split(':');
  const fill = halves.length === 2 ? 8 - head.length - tail.length : 0;
  const groups = [...head, ...Array<string>(fill).fill('0'), ...tail];
  if (groups.length !== 8 || groups.some((g) => !/^[0-9a-f]{1,4}$/i.test(g))) return undefined;
  let out = 0n;
  for (const g of groups) out = (out << 16n) | BigInt(Number.parseInt(g, 16));
  return out;
}

/** Makes the error for an entry that is not an address or block (each adapter its own config code). */
export type Refuse = (reason: string) => Error;
const plain: Refuse = (reason) => new RangeError(reason);

interface Block {
  base: bigint;
  mask: bigint;
}

/** Parses CIDR blocks (`10.0.0.0/8`, `::1/128`, a bare address = one host). */
export function parseAllowlist(entries: readonly string[], bad: Refuse = plain): Block[] {
  return entries.map((entry) => {
    const parts = entry.split('/');
    const addr = parts[0] ?? '';
    const bitsText = parts[1];
    const value = addr.includes('%') ? undefined : toBigInt(addr);
    const v4 = isIPv4(addr);
    const max = v4 ? 32 : 128;
    const bits = bitsText === undefined ? max : /^\d{1,3}$/.test(bitsText) ? Number(bitsText) : Number.NaN;
    if (parts.length > 2 || value === undefined || !Number.isInteger(bits) || bits < 0 || bits > max) {
      throw bad(`"${entry}" is not an IPv4 or IPv6 address or CIDR block`);
    }
    // IPv4 blocks live in the ::ffff:0:0/96 range of the 128-bit space.
    const prefix = v4 ? 96 + bits : bits;
    const mask = prefix === 0 ? 0n : ((1n << 128n) - 1n) ^ ((1n << BigInt(128 - prefix)) - 1n);
    return { base: value & mask, mask };
  });
}

/** A source check: true when `address` is inside one of the blocks (always true for an empty list). */
export function allowlist(entries: readonly string[], bad: Refuse = plain): (address: string) => boolean {
  const blocks = parseAllowlist(entries, bad);
  if (blocks.length === 0) return () => true;
  const seen = new Map<string, boolean>();
  return (address) => {
    let ok = seen.get(address);
    if (ok === undefined) {
      const v = toBigInt(address);
      ok = v !== undefined && blocks.some((b) => (v & b.mask) === b.base);
      if (seen.size > 4096) seen.clear();
      seen.set(address, ok);
    }
    return ok;
  };
}
