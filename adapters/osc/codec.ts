/**
 * The OSC wire codec: bytes ⇄ packets, pure (no I/O, no timers). OSC 1.0 spec plus the common OSC 1.1 types.
 *
 * Decoding is strict and bounded: every read is checked against the end of the packet (or of its bundle
 * element), every read advances, the cost is linear in the packet size, and every error is an
 * OscDecodeError naming the byte offset and the reason. Encoding validates each argument against its type
 * (no silent 0s) and writes into one allocation. osc.js stays the reference implementation in the tests.
 */
import { OscDecodeError, OscEncodeError } from '../../daemon/errors.js';
import { isValidAddress } from './pattern.js';
import type { DecodeLimits, OscArg, OscBundle, OscMessage, OscPacket, OscValue, Timetag } from './types.js';

const TWO_32 = 4294967296;
/** Seconds from the NTP epoch (1900-01-01) to the Unix epoch (1970-01-01). */
const NTP_UNIX_OFFSET_S = 2208988800;
/** How deeply '[' … ']' arrays may nest, decoding and encoding alike. */
const MAX_ARRAY_DEPTH = 16;
const DEFAULT_MAX_ARGS = 1024;
/** Bundles never nest deeper than this, whatever `limits.maxDepth` says: it bounds the recursion. */
const HARD_MAX_DEPTH = 128;
/** OSC 1.0 spec: a bundle starts with the OSC-string "#bundle". */
const BUNDLE_HEADER = Uint8Array.of(0x23, 0x62, 0x75, 0x6e, 0x64, 0x6c, 0x65, 0x00);
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const utf8Encoder = new TextEncoder();

/** Data bytes each type tag takes: 0 none (T F N I [ ]), -1 variable (s S b), -2 not a type tag. */
const TAG_BYTES = new Int8Array(128).fill(-2);
for (const t of 'ifcrm') TAG_BYTES[t.charCodeAt(0)] = 4;
for (const t of 'htd') TAG_BYTES[t.charCodeAt(0)] = 8;
for (const t of 'sSb') TAG_BYTES[t.charCodeAt(0)] = -1;
for (const t of 'TFNI[]') TAG_BYTES[t.charCodeAt(0)] = 0;

/** Converts an OSC timetag to Unix-epoch milliseconds (a float). `IMMEDIATELY` gives 0. */
export function timetagToMs(t: Timetag): number {
  if (isImmediate(t)) return 0;
  return (t.seconds - NTP_UNIX_OFFSET_S) * 1000 + (t.fraction * 1000) / TWO_32;
}

/** The timetag for a Unix-epoch time in ms, or null outside NTP era 0 (1900-01-01 to 2036-02-07). */
function ntpFromMs(ms: number): Timetag | null {
  if (ms === 0) return { seconds: 0, fraction: 1 };
  if (!Number.isFinite(ms)) return null;
  let s = Math.floor(ms / 1000);
  let fraction = Math.round(((ms - s * 1000) * TWO_32) / 1000);
  if (fraction >= TWO_32) {
    s += 1;
    fraction -= TWO_32;
  }
  const seconds = s + NTP_UNIX_OFFSET_S;
  return seconds >= 0 && seconds < TWO_32 ? { seconds, fraction } : null;
}

/**
 * Converts Unix-epoch milliseconds to an OSC timetag (fraction rounded: exact within 1 µs). The inverse of
 * {@link timetagToMs}, so 0 gives `IMMEDIATELY`, not 1970-01-01T00:00:00Z.
 * @throws OscEncodeError when `ms` is not finite or lies outside NTP era 0 (1900-01-01 to 2036-02-07).
 */
export function msToTimetag(ms: number): Timetag {
  const t = ntpFromMs(ms);
  if (t === null) throw new OscEncodeError(`time ${ms} ms is not a finite time in NTP era 0 (1900 to 2036)`);
  return t;
}

/** True for the OSC "immediately" timetag (seconds 0, fraction 1) only; 0/0 is a time in 1900, long past. */
export function isImmediate(t: Timetag): boolean {
  return t.seconds === 0 && t.fraction === 1;
}

// ---------------------------------------------------------------------------------------------- decoding

const EMPTY = new Uint8Array(0);
/** Big-endian float conversion through 8 scratch bytes, without a DataView per packet. */
const scratch = new DataView(new ArrayBuffer(8));
const scratchBytes = new Uint8Array(scratch.buffer);

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

// ---------------------------------------------------------------------------------------------- encoding

/** Write cursors of the message being encoded: encoding is synchronous and never re-entered. */
let tagCount = 0;
/** Indices of the arrays enclosing the argument being sized, to name it in errors: `argument 2[0]`. */
const argPath: number[] = [];
let tagPos = 0;
let dataPos = 0;
/**
 * Packets up to 1 KiB are carved from 8 KiB slabs, as Node's Buffer pool does: a typed array of over 64
 * bytes costs ~1 µs to allocate on its own (off-heap, zeroed, tracked), a view on a slab ~60 ns, and
 * `dgram.send` wraps a view without copying. Slabs are fresh (zeroed) memory and no region is handed out
 * twice, so padding is always zero. So a result may share its ArrayBuffer: use it through its view.
 */
const SLAB_SIZE = 8192;
const POOL_MAX = 1024;
let slab = new ArrayBuffer(SLAB_SIZE);
let slabUsed = 0;

function allocate(size: number): Uint8Array {
  if (size > POOL_MAX) return new Uint8Array(size);
  if (slabUsed + size > SLAB_SIZE) {
    slab = new ArrayBuffer(SLAB_SIZE);
    slabUsed = 0;
  }
  const out = new Uint8Array(slab, slabUsed, size);
  slabUsed += size;
  return out;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * Encodes one message: sizes first, then one Uint8Array written in place (up to 1 KiB, a view on a shared
 * slab: see `allocate`). Strings are written as UTF-8 (OSC 1.0 says ASCII, which UTF-8 extends). `f` and
 * `d` take any number, NaN and ±Infinity included (IEEE 754), but a finite `f` beyond the float32 range is
 * refused rather than sent as Infinity. Value forms per type: see {@link OscArg}.
 * @throws OscEncodeError naming the argument (index, and `[k]` inside arrays), its type and its value.
 */
export function encodeMessage(address: string, args: readonly OscArg[]): Uint8Array {
  if (!isValidAddress(address)) {
    throw new OscEncodeError(
      `address ${JSON.stringify(String(address).slice(0, 80))} is not a valid OSC address ('/' first, then printable ASCII without space or #*,?[]{})`,
    );
  }
  if (!Array.isArray(args)) throw new OscEncodeError('arguments must be an array of { type, value }');
  tagCount = 0;
  if (argPath.length !== 0) argPath.length = 0; // left over by an error inside an array
  const dataSize = sizeArgs(args);
  const addressSize = (address.length + 4) & ~3;
  const tagsSize = (tagCount + 1 + 4) & ~3; // ',' + tags + NUL, padded to 4
  const out = allocate(addressSize + tagsSize + dataSize);
  for (let i = 0; i < address.length; i++) out[i] = address.charCodeAt(i);
  out[addressSize] = 0x2c;
  tagPos = addressSize + 1;
  dataPos = addressSize + tagsSize;
  writeArgs(out, args);
  if (dataPos !== out.length) throw new OscEncodeError('an argument changed while it was being encoded');
  return out;
}

/**
 * Wraps encoded messages or bundles into a bundle (OSC 1.0 spec: '#bundle', the timetag, then each element
 * with its int32 size).
 * @throws OscEncodeError for a bad timetag or an element that is not an encoded packet.
 */
export function encodeBundle(timetag: Timetag, elements: readonly Uint8Array[]): Uint8Array {
  if (!isTimetag(timetag)) {
    throw new OscEncodeError('bundle timetag must be { seconds, fraction }, both integers 0..4294967295');
  }
  let size = 16;
  for (let i = 0; i < elements.length; i++) {
    const e = elements[i];
    if (!(e instanceof Uint8Array) || e.length === 0 || (e.length & 3) !== 0 || !isPacketStart(e)) {
      throw new OscEncodeError(
        `bundle element ${i} is not an encoded OSC packet (non-empty, length a multiple of 4, '/' or '#bundle' first)`,
      );
    }
    size += 4 + e.length;
  }
  const out = allocate(size);
  out.set(BUNDLE_HEADER, 0);
  writeUint32(out, 8, timetag.seconds);
  writeUint32(out, 12, timetag.fraction);
  let pos = 16;
  for (const e of elements) {
    writeUint32(out, pos, e.length);
    out.set(e, pos + 4);
    pos += 4 + e.length;
  }
  return out;
}

function isPacketStart(e: Uint8Array): boolean {
  if (e[0] === 0x2f) return true;
  for (let k = 0; k < 8; k++) if (e[k] !== BUNDLE_HEADER[k]) return false;
  return true;
}

const isUint32 = (v: unknown): v is number =>
  Number.isInteger(v) && (v as number) >= 0 && (v as number) < TWO_32;
const isByte = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 255;
const isTimetag = (v: unknown): v is Timetag =>
  typeof v === 'object' &&
  v !== null &&
  isUint32((v as Timetag).seconds) &&
  isUint32((v as Timetag).fraction);
const allBytes = (v: unknown, keys: readonly string[]): boolean =>
  typeof v === 'object' && v !== null && keys.every((k) => isByte((v as Record<string, unknown>)[k]));
const RGBA = ['r', 'g', 'b', 'a'] as const;
/** The values decoding yields for the tags without data. */
const NO_DATA_VALUES: Readonly<Record<string, unknown>> = { T: true, F: false, N: null, I: Infinity };
const MIDI = ['port', 'status', 'data1', 'data2'] as const;

function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'number' || typeof v === 'boolean' || v == null) return String(v);
  return Array.isArray(v) ? 'an array' : v instanceof Uint8Array ? 'a Uint8Array' : `an ${typeof v}`;
}

function badArg(i: number, type: unknown, v: unknown, expected: string): Error {
  const t = typeof type === 'string' ? `'${type}'` : describe(type);
  const name =
    argPath.length === 0 ? `${i}` : `${argPath[0]}${[...argPath.slice(1), i].map((k) => `[${k}]`).join('')}`;
  return new OscEncodeError(`argument ${name} (type ${t}): expected ${expected}, got ${describe(v)}`);
}

/** UTF-8 length of `s`, or -1 when it holds a NUL or a lone surrogate (neither can be sent). */
function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0) return -1;
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c < 0xd800 || c > 0xdfff) n += 2;
    else {
      const d = s.charCodeAt(i + 1);
      if (c > 0xdbff || !(d >= 0xdc00 && d <= 0xdfff)) return -1;
      n += 2; // a surrogate pair: two UTF-16 units, four bytes
      i++;
    }
  }
  return n;
}

/** The int64 value of an `h` argument, or null when it is not an integer in range. */
function toInt64(v: unknown): bigint | null {
  let big: bigint;
  if (typeof v === 'bigint') big = v;
  else if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v);
  else if (typeof v === 'string' && /^-?\d{1,20}$/.test(v)) big = BigInt(v);
  else return null;
  return big >= INT64_MIN && big <= INT64_MAX ? big : null;
}

/** The code point of a `c` argument (a Unicode scalar value: no surrogates), or -1. */
function charCode(v: unknown): number {
  if (typeof v === 'number') {
    return Number.isInteger(v) && v >= 0 && v <= 0x10ffff && !(v >= 0xd800 && v <= 0xdfff) ? v : -1;
  }
  if (typeof v !== 'string' || v.length === 0) return -1;
  const code = v.codePointAt(0)!;
  return v.length === (code > 0xffff ? 2 : 1) && utf8Length(v) > 0 ? code : -1;
}

/** Validates `args` and returns the size of their data; counts their type tags into `tagCount`. */
function sizeArgs(args: readonly OscArg[]): number {
  let size = 0;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    tagCount++;
    if (typeof arg !== 'object' || arg === null) throw badArg(i, undefined, arg, 'a { type, value } object');
    size += argSize(arg, i);
  }
  return size;
}

function argSize(arg: OscArg, i: number): number {
  const { type, value: v } = arg;
  switch (type) {
    case 'i':
      if (Number.isInteger(v) && (v as number) >= -2147483648 && (v as number) <= 2147483647) return 4;
      throw badArg(i, type, v, 'an integer in the int32 range');
    case 'f':
      if (typeof v === 'number' && (Number.isFinite(Math.fround(v)) || !Number.isFinite(v))) return 4;
      throw badArg(i, type, v, 'a number in the float32 range, NaN or ±Infinity');
    case 'd':
      if (typeof v === 'number') return 8;
      throw badArg(i, type, v, 'a number');
    case 'h':
      if (toInt64(v) !== null) return 8;
      throw badArg(i, type, v, 'a safe integer, a bigint or a decimal string in the int64 range');
    case 's':
    case 'S': {
      const n = typeof v === 'string' ? utf8Length(v) : -1;
      if (n >= 0) return (n + 4) & ~3;
      throw badArg(i, type, v, 'a string without NUL or lone surrogates');
    }
    case 'b':
      if (v instanceof Uint8Array) return 4 + ((v.length + 3) & ~3);
      throw badArg(i, type, v, 'a Uint8Array');
    case 't':
      if (isTimetag(v) || (typeof v === 'number' && ntpFromMs(v) !== null)) return 8;
      throw badArg(i, type, v, 'Unix-epoch ms in NTP era 0 (1900 to 2036) or a { seconds, fraction }');
    case 'c':
      if (charCode(v) >= 0) return 4;
      throw badArg(i, type, v, 'a 1-character string or a Unicode scalar value');
    case 'r':
      if (allBytes(v, RGBA)) return 4;
      throw badArg(i, type, v, '{ r, g, b, a }, each an integer 0..255');
    case 'm':
      if (allBytes(v, MIDI)) return 4;
      throw badArg(i, type, v, '{ port, status, data1, data2 }, each an integer 0..255');
    case 'T':
    case 'F':
    case 'N':
    case 'I':
      // No data; a value, if given, must be the one decoding yields.
      if (v === undefined || v === NO_DATA_VALUES[type]) return 0;
      throw badArg(i, type, v, 'no value');
    case '[': {
      if (!Array.isArray(v)) throw badArg(i, type, v, 'an array of { type, value }');
      if (argPath.length >= MAX_ARRAY_DEPTH) {
        throw badArg(i, type, 'nesting', `at most ${MAX_ARRAY_DEPTH} levels of arrays`);
      }
      tagCount++; // the closing ']'
      argPath.push(i);
      const size = sizeArgs(v as OscArg[]);
      argPath.pop();
      return size;
    }
    default:
      throw badArg(i, type, v, 'a known type tag (i f s S b h t d c r m T F N I [)');
  }
}

function writeUint32(out: Uint8Array, p: number, v: number): void {
  out[p] = v >>> 24;
  out[p + 1] = v >>> 16;
  out[p + 2] = v >>> 8;
  out[p + 3] = v;
}

function writeString(out: Uint8Array, p: number, s: string): number {
  const n = s.length;
  let i = 0;
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f) break;
    out[p + i] = c;
  }
  // Non-ASCII: TextEncoder writes the whole string as UTF-8 (sized by utf8Length in the first pass).
  const written = i === n ? n : utf8Encoder.encodeInto(s, out.subarray(p)).written;
  return p + ((written + 4) & ~3);
}

/** Writes arguments already validated by `sizeArgs`. */
function writeArgs(out: Uint8Array, args: readonly OscArg[]): void {
  for (const arg of args) {
    const v = arg.value;
    const type = arg.type;
    out[tagPos++] = type.charCodeAt(0);
    const p = dataPos;
    switch (type) {
      case 'i':
        writeUint32(out, p, v as number);
        dataPos += 4;
        break;
      case 'f':
      case 'd':
        if (type === 'f') scratch.setFloat32(0, v as number);
        else scratch.setFloat64(0, v as number);
        for (let k = type === 'f' ? 3 : 7; k >= 0; k--) out[p + k] = scratchBytes[k]!;
        dataPos += type === 'f' ? 4 : 8;
        break;
      case 'h': {
        const big = toInt64(v)!;
        writeUint32(out, p, Number(big >> 32n));
        writeUint32(out, p + 4, Number(big & 0xffffffffn));
        dataPos += 8;
        break;
      }
      case 's':
      case 'S':
        dataPos = writeString(out, p, v as string);
        break;
      case 'b':
        writeUint32(out, p, (v as Uint8Array).length);
        out.set(v as Uint8Array, p + 4);
        dataPos += 4 + (((v as Uint8Array).length + 3) & ~3);
        break;
      default:
        writeOther(out, arg, p);
    }
  }
}

function writeOther(out: Uint8Array, arg: OscArg, p: number): void {
  const v = arg.value as Record<string, number>;
  switch (arg.type) {
    case 't': {
      const t = typeof v === 'number' ? ntpFromMs(v)! : (v as unknown as Timetag);
      writeUint32(out, p, t.seconds);
      writeUint32(out, p + 4, t.fraction);
      dataPos += 8;
      break;
    }
    case 'c':
      writeUint32(out, p, charCode(v));
      dataPos += 4;
      break;
    case 'r':
    case 'm': {
      const keys = arg.type === 'r' ? RGBA : MIDI;
      for (let k = 0; k < 4; k++) out[p + k] = v[keys[k]!]!;
      dataPos += 4;
      break;
    }
    case '[':
      writeArgs(out, v as unknown as OscArg[]);
      out[tagPos++] = 0x5d;
      break;
    // T F N I: a type tag, no data.
  }
}
