/**
 * The OSC wire codec: bytes ⇄ packets, pure (no I/O, no timers). OSC 1.0 spec plus the common OSC 1.1 types.
 *
 * Decoding is strict and bounded: every read is checked against the end of the packet (or of its bundle
 * element), every read advances, the cost is linear in the packet size, and every error is an
 * OscDecodeError naming the byte offset and the reason. Encoding validates each argument against its type
 * (no silent 0s) and writes into one allocation. osc.js stays the reference implementation in the tests.
 *
 * This module is the codec's public surface; the code lives in decode.ts, encode.ts and timetag.ts.
 */
export { decodePacket } from './decode.js';
export { encodeBundle, encodeMessage } from './encode.js';
export { isImmediate, msToTimetag, timetagToMs } from './timetag.js';
