/**
 * OSC wire encoding: packets → bytes, pure (no I/O, no timers). OSC 1.0 spec plus the common OSC 1.1 types.
 *
 * Encoding validates each argument against its type (no silent 0s) and writes into one allocation. osc.js
 * stays the reference implementation in the tests.
 */
import { OscEncodeError } from '../../daemon/kernel/errors.js';
import { isValidAddress } from './pattern.js';
import { ntpFromMs, TWO_32 } from './timetag.js';
import type { OscArg, Timetag } from './types.js';
import { BUNDLE_HEADER, MAX_ARRAY_DEPTH, scratch, scratchBytes } from './wire.js';

const utf8Encoder = new TextEncoder();

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
      // An array of byte values too: the form a blob takes in JSON (daemon/kernel/json-values.ts).
      if (v instanceof Uint8Array || isByteArray(v)) return 4 + ((v.length + 3) & ~3);
      throw badArg(i, type, v, 'a Uint8Array or an array of integers 0..255');
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

function isByteArray(v: unknown): v is number[] {
  return Array.isArray(v) && v.every((b) => Number.isInteger(b) && b >= 0 && b <= 255);
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
      case 'b': {
        const blob = v as Uint8Array | number[];
        writeUint32(out, p, blob.length);
        out.set(blob, p + 4);
        dataPos += 4 + ((blob.length + 3) & ~3);
        break;
      }
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
