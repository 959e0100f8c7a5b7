/**
 * The OSC wire model shared by the codec, the address patterns and the transport (OSC 1.0 spec, plus the
 * common OSC 1.1 argument types).
 */
import type { OscValue } from '../../daemon/bus/index.js';

export type { OscValue };

/**
 * An NTP timestamp as OSC sends it: whole seconds since 1900-01-01 UTC, and the fraction of a second in
 * units of 2^-32 s. Both are unsigned 32-bit integers.
 */
export interface Timetag {
  seconds: number;
  fraction: number;
}

/** OSC 1.0 spec: the timetag 0x00000000 00000001 means "immediately". */
export const IMMEDIATELY: Timetag = Object.freeze({ seconds: 0, fraction: 1 });

/**
 * A decoded OSC message. `types` is the type tag string without its leading ',' (arrays appear as '['
 * and ']'); `args` mirrors it, with one nested array per '[' … ']'.
 */
export interface OscMessage {
  kind: 'message';
  address: string;
  types: string;
  args: OscValue[];
}

/** A decoded OSC bundle: its timetag, kept raw, and its elements in wire order. */
export interface OscBundle {
  kind: 'bundle';
  timetag: Timetag;
  elements: OscPacket[];
}

/** What one datagram holds. */
export type OscPacket = OscMessage | OscBundle;

/**
 * An argument to encode: an explicit OSC type tag and its value.
 * - `i` an integer in the int32 range; `f` / `d` any number (NaN and ±Infinity included; a finite `f` must
 *   fit float32); `h` a safe integer, a bigint or a decimal string in the int64 range.
 * - `s` / `S` a string without NUL (sent as UTF-8); `b` a Uint8Array (a Buffer is one) or an array of
 *   byte values (a blob's JSON form); `c` a 1-character string or a code point.
 * - `t` Unix-epoch ms (0 is `IMMEDIATELY`) or a {@link Timetag}; `r` `{ r, g, b, a }` and `m`
 *   `{ port, status, data1, data2 }`, each an integer 0..255.
 * - `T`, `F`, `N`, `I` no value (or the value decoding gives: true, false, null, Infinity).
 * - `[` an array: `{ type: '[', value: OscArg[] }`, nested at most 16 deep.
 */
export interface OscArg {
  type: string;
  value?: unknown;
}

/** Limits applied by `decodePacket` before and while parsing untrusted bytes. */
export interface DecodeLimits {
  /** Larger packets are refused before any parsing. */
  maxBytes: number;
  /**
   * How deeply bundles may nest: a top-level bundle has depth 1, so 1 allows bundles of messages only and 0
   * refuses every bundle. Values above 128 count as 128 (the decoder recurses once per level).
   */
  maxDepth: number;
  /** Most arguments one message may carry, counting each array and each value inside one. Default 1024. */
  maxArgs?: number;
}
