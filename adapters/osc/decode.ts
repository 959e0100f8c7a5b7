/**
 * OSC wire decoding: bytes → packets, pure (no I/O, no timers). OSC 1.0 spec plus the common OSC 1.1 types.
 *
 * Decoding is strict and bounded: every read is checked against the end of the packet (or of its bundle
 * element), every read advances, the cost is linear in the packet size, and every error is an
 * OscDecodeError naming the byte offset and the reason. osc.js stays the reference implementation in the
 * tests.
 */
import { OscDecodeError } from '../../daemon/kernel/errors.js';
import { TWO_32, timetagToMs } from './timetag.js';
import type { DecodeLimits, OscBundle, OscMessage, OscPacket, OscValue } from './types.js';
import { BUNDLE_HEADER, MAX_ARRAY_DEPTH, scratch, scratchBytes } from './wire.js';

const DEFAULT_MAX_ARGS = 1024;
/** Bundles never nest deeper than this, whatever `limits.maxDepth` says: it bounds the recursion. */
const HARD_MAX_DEPTH = 128;
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Data bytes each type tag takes: 0 none (T F N I [ ]), -1 variable (s S b), -2 not a type tag. */
const TAG_BYTES = new Int8Array(128).fill(-2);
for (const t of 'ifcrm') TAG_BYTES[t.charCodeAt(0)] = 4;
for (const t of 'htd') TAG_BYTES[t.charCodeAt(0)] = 8;
for (const t of 'sSb') TAG_BYTES[t.charCodeAt(0)] = -1;
for (const t of 'TFNI[]') TAG_BYTES[t.charCodeAt(0)] = 0;

const EMPTY = new Uint8Array(0);

/**
 * Decoding state. Offsets are relative to the start of the packet: all reads index the `bytes` view itself,
 * so a Buffer that is a window on a larger pooled ArrayBuffer (non-zero byteOffset) is read correctly.
 * One instance is reused: decoding is synchronous and calls no outside code, so it is never re-entered.
 */
class Reader {
  bytes: Uint8Array = EMPTY;
  maxDepth = 0;
  maxArgs = 0;
  /** Where the next read starts, and where the message being read ends. */
  pos = 0;
  end = 0;
  /** Whether the last string scanned was pure ASCII. */
  ascii = true;

  int32(p: number): number {
    const b = this.bytes;
    return (b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!;
  }

  uint32(p: number): number {
    return this.int32(p) >>> 0;
  }

  float(p: number, size: 4 | 8): number {
    for (let k = 0; k < size; k++) scratchBytes[k] = this.bytes[p + k]!;
    return size === 4 ? scratch.getFloat32(0) : scratch.getFloat64(0);
  }
}
const reader = new Reader();

const fail = (reason: string): Error => new OscDecodeError(reason);
const hex = (b: number): string => `0x${b.toString(16).padStart(2, '0')}`;
const describeByte = (b: number): string =>
  b >= 0x20 && b < 0x7f ? `'${String.fromCharCode(b)}'` : `byte ${hex(b)}`;
const endName = (r: Reader, end: number): string =>
  end === r.bytes.length ? `the ${end}-byte packet` : `its bundle element (ending at offset ${end})`;

/**
 * Decodes one datagram. `t` arguments become Unix-epoch ms (`IMMEDIATELY` → 0), `h` a number when safe
 * else a decimal string, `c` a 1-character string, `r` `{ r, g, b, a }`, `m` `{ port, status, data1, data2 }`,
 * `I` Infinity, blobs fresh copies. A message with no type tag string at all (pre-1.0 style) has no args.
 * @throws OscDecodeError naming the byte offset and the reason.
 */
export function decodePacket(bytes: Uint8Array, limits: DecodeLimits): OscPacket {
  const n = bytes.length;
  if (!(n <= limits.maxBytes)) {
    throw fail(`packet of ${n} bytes is larger than the limit of ${limits.maxBytes} bytes`);
  }
  if (n === 0) throw fail('empty packet (0 bytes)');
  if ((n & 3) !== 0) throw fail(`packet length ${n} is not a multiple of 4`);
  const r = reader;
  r.bytes = bytes;
  r.maxDepth = Math.min(limits.maxDepth, HARD_MAX_DEPTH);
  r.maxArgs = limits.maxArgs ?? DEFAULT_MAX_ARGS;
  try {
    return readPacket(r, 0, n, 0);
  } finally {
    r.bytes = EMPTY; // do not keep the datagram (or its pooled slab) alive
  }
}

/** Reads the message or bundle in [start, end), both multiples of 4. */
function readPacket(r: Reader, start: number, end: number, depth: number): OscPacket {
  const first = r.bytes[start]!;
  if (first === 0x2f) return readMessage(r, start, end);
  if (first !== 0x23) {
    throw fail(`packet at offset ${start} starts with ${describeByte(first)}: neither '/' nor '#bundle'`);
  }
  for (let k = 0; k < 8; k++) {
    if (start + k >= end || r.bytes[start + k] !== BUNDLE_HEADER[k]) {
      throw fail(`header at offset ${start} starts with '#' but is not '#bundle'`);
    }
  }
  if (end - start < 16) throw fail(`bundle at offset ${start} ends at ${end}, before its 8-byte timetag`);
  return readBundle(r, start, end, depth + 1);
}

function readBundle(r: Reader, start: number, end: number, depth: number): OscBundle {
  if (!(depth <= r.maxDepth)) {
    throw fail(`bundle at offset ${start} is nested ${depth} deep, more than the limit of ${r.maxDepth}`);
  }
  const timetag = { seconds: r.uint32(start + 8), fraction: r.uint32(start + 12) };
  const elements: OscPacket[] = [];
  // OSC 1.0 spec: then zero or more elements, each an int32 size (a multiple of 4) and that many bytes.
  for (let pos = start + 16; pos < end; ) {
    const size = r.int32(pos);
    const at = pos + 4;
    if (size <= 0) throw fail(`bundle element at offset ${pos} has size ${size}; it must be positive`);
    if ((size & 3) !== 0) throw fail(`bundle element at offset ${pos} has size ${size}, not a multiple of 4`);
    if (size > end - at) {
      throw fail(`bundle element of ${size} bytes at offset ${at} runs past the end of ${endName(r, end)}`);
    }
    elements.push(readPacket(r, at, at + size, depth));
    pos = at + size;
  }
  return { kind: 'bundle', timetag, elements };
}

function readMessage(r: Reader, start: number, end: number): OscMessage {
  r.pos = start;
  r.end = end;
  const address = text(r, start, scanString(r, 'address'));
  // Pre-1.0 senders may omit the type tag string: the message then carries no arguments we can type.
  if (r.pos === end) return { kind: 'message', address, types: '', args: [] };
  const tagStart = r.pos;
  const comma = r.bytes[tagStart]!;
  if (comma !== 0x2c) {
    throw fail(`missing ',': the type tag string at offset ${tagStart} starts with ${describeByte(comma)}`);
  }
  const tagEnd = scanString(r, 'type tag string');
  checkTags(r, tagStart + 1, tagEnd);
  const types = asciiText(r.bytes, tagStart + 1, tagEnd);
  const args = readArgs(r, tagStart + 1, tagEnd);
  if (r.pos !== end) throw fail(`${end - r.pos} unexpected bytes at offset ${r.pos} after the last argument`);
  return { kind: 'message', address, types, args };
}

/**
 * Checks the OSC-string at `r.pos`: a NUL before the end, then NUL padding up to a multiple of 4 (non-zero
 * padding is refused). Moves `r.pos` past the padding and returns the offset of the NUL.
 */
function scanString(r: Reader, what: string): number {
  const { bytes, end } = r;
  const start = r.pos;
  let i = start;
  let high = 0;
  for (; i < end; i++) {
    const b = bytes[i]!;
    if (b === 0) break;
    high |= b;
  }
  if (i >= end) throw fail(`${what} at offset ${start} has no NUL before the end of ${endName(r, end)}`);
  const padded = (i + 4) & ~3;
  if (padded > end) throw fail(`${what} at offset ${start} has its padding cut off by ${endName(r, end)}`);
  for (let j = i + 1; j < padded; j++) {
    if (bytes[j] !== 0) {
      throw fail(
        `non-zero padding byte ${hex(bytes[j]!)} at offset ${j} after the ${what} at offset ${start}`,
      );
    }
  }
  r.ascii = high < 0x80;
  r.pos = padded;
  return i;
}

/** The string in [start, nul), as UTF-8 (OSC 1.0 says ASCII; UTF-8 is a superset, invalid UTF-8 is refused). */
function text(r: Reader, start: number, nul: number): string {
  if (r.ascii) return asciiText(r.bytes, start, nul);
  try {
    return utf8Decoder.decode(r.bytes.subarray(start, nul));
  } catch {
    throw fail(`string at offset ${start} is not valid UTF-8`);
  }
}

/**
 * Recently seen short ASCII strings (addresses, type tag strings), direct-mapped by a hash of their bytes:
 * a hit costs a hash and a compare, several times cheaper than building the string again, and hands the
 * router the same string object for the same address.
 */
const TEXT_CACHE_SIZE = 256;
const textCache: string[] = new Array<string>(TEXT_CACHE_SIZE).fill('');

function asciiText(bytes: Uint8Array, start: number, end: number): string {
  const n = end - start;
  if (n > 64) return utf8Decoder.decode(bytes.subarray(start, end));
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  const slot = (h ^ (h >>> 16)) & (TEXT_CACHE_SIZE - 1);
  const cached = textCache[slot]!;
  if (cached.length === n) {
    let same = true;
    for (let i = 0; i < n && same; i++) same = cached.charCodeAt(i) === bytes[start + i];
    if (same) return cached;
  }
  const codes = new Array<number>(n);
  for (let i = 0; i < n; i++) codes[i] = bytes[start + i]!;
  const s = String.fromCharCode.apply(null, codes);
  textCache[slot] = s;
  return s;
}

/** Validates the type tags in [from, to): known, '[' ']' balanced and nested at most 16 deep, not too many. */
function checkTags(r: Reader, from: number, to: number): void {
  const { bytes } = r;
  let depth = 0;
  let opened = -1;
  if (!(to - from <= r.maxArgs)) {
    let count = 0;
    for (let k = from; k < to; k++) if (bytes[k] !== 0x5d) count++;
    if (!(count <= r.maxArgs)) {
      throw fail(`message at offset ${from - 1} has ${count} arguments, more than the limit of ${r.maxArgs}`);
    }
  }
  for (let k = from; k < to; k++) {
    const t = bytes[k]!;
    if (t >= 128 || TAG_BYTES[t] === -2) throw fail(`unknown type tag ${describeByte(t)} at offset ${k}`);
    if (t === 0x5b) {
      if (++depth > MAX_ARRAY_DEPTH) {
        throw fail(`array '[' at offset ${k} nests deeper than ${MAX_ARRAY_DEPTH} levels`);
      }
      if (depth === 1) opened = k;
    } else if (t === 0x5d && --depth < 0) {
      throw fail(`unbalanced ']' at offset ${k} closes no array`);
    }
  }
  if (depth !== 0) throw fail(`unbalanced '[' at offset ${opened} is never closed`);
}

function readArgs(r: Reader, from: number, to: number): OscValue[] {
  const top: OscValue[] = [];
  let cur = top;
  let stack: OscValue[][] | null = null; // only messages with arrays need one
  for (let k = from; k < to; k++) {
    const tag = r.bytes[k]!;
    if (tag === 0x5b) {
      const inner: OscValue[] = [];
      cur.push(inner);
      if (stack === null) stack = [];
      stack.push(cur);
      cur = inner;
    } else if (tag === 0x5d) cur = stack!.pop()!;
    else cur.push(readValue(r, tag));
  }
  return top;
}

/** Fails unless `n` more bytes remain before the end of the message. */
function need(r: Reader, n: number, tag: number): void {
  if (r.end - r.pos < n) {
    const what = `'${String.fromCharCode(tag)}' argument of ${n} bytes at offset ${r.pos}`;
    throw fail(`${what} runs past the end of ${endName(r, r.end)}`);
  }
}

function readValue(r: Reader, tag: number): OscValue {
  const size = TAG_BYTES[tag]!;
  if (size === 0) return tag === 0x54 ? true : tag === 0x46 ? false : tag === 0x4e ? null : Infinity;
  if (size < 0) return tag === 0x62 ? readBlob(r) : text(r, r.pos, scanString(r, 'string'));
  need(r, size, tag);
  const { bytes } = r;
  const p = r.pos;
  r.pos = p + size;
  switch (tag) {
    case 0x69: // i
      return r.int32(p);
    case 0x66: // f
      return r.float(p, 4);
    case 0x64: // d
      return r.float(p, 8);
    case 0x68: // h
      return int64(r.int32(p), r.uint32(p + 4));
    case 0x74: // t
      return timetagToMs({ seconds: r.uint32(p), fraction: r.uint32(p + 4) });
    case 0x63: {
      // c: OSC 1.0 says an ASCII character in 32 bits; any Unicode scalar value is accepted.
      const code = r.int32(p);
      if (code < 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) {
        throw fail(`char ${code} at offset ${p} is not a Unicode scalar value`);
      }
      return String.fromCodePoint(code);
    }
    case 0x72: // r
      return { r: bytes[p]!, g: bytes[p + 1]!, b: bytes[p + 2]!, a: bytes[p + 3]! };
    default: // m
      return { port: bytes[p]!, status: bytes[p + 1]!, data1: bytes[p + 2]!, data2: bytes[p + 3]! };
  }
}

function int64(hi: number, lo: number): number | string {
  const v = hi * TWO_32 + lo;
  return Number.isSafeInteger(v) ? v : ((BigInt(hi) << 32n) | BigInt(lo)).toString();
}

function readBlob(r: Reader): Uint8Array {
  need(r, 4, 0x62);
  const p = r.pos;
  const size = r.int32(p);
  if (size < 0) throw fail(`blob at offset ${p} has a negative size ${size}`);
  const at = p + 4;
  if (size > r.end - at) {
    throw fail(`blob of ${size} bytes at offset ${p} runs past the end of ${endName(r, r.end)}`);
  }
  const padded = at + ((size + 3) & ~3);
  for (let j = at + size; j < padded; j++) {
    if (r.bytes[j] !== 0) throw fail(`non-zero padding byte ${hex(r.bytes[j]!)} at offset ${j} after a blob`);
  }
  r.pos = padded;
  // A copy, never a view: the datagram's buffer is reused by the socket layer.
  const blob = new Uint8Array(size);
  blob.set(r.bytes.subarray(at, at + size));
  return blob;
}
