/**
 * The streaming half of the MIDI 1.0 byte codec (`codec.ts` has the rest): bytes in chunks of any size →
 * `MidiMessage`s, pure (no I/O, no timers). MIDI 1.0 Detailed Specification 4.2, "Running Status",
 * "Real-Time Messages" and "System Exclusive Messages".
 */
import { MidiConfigError } from '../../daemon/kernel/errors.js';
import { dataLength, type MidiMessage } from './types.js';

const hex = (b: number): string => `0x${b.toString(16).padStart(2, '0')}`;

/** Options of a `MidiParser`. */
export interface MidiParserOptions {
  /** Longest SysEx reassembled, F0 and F7 included (default 65536); a longer one is reported and dropped. */
  maxSysexBytes?: number;
}

const DEFAULT_MAX_SYSEX = 65536;
/** First size of the SysEx buffer; it doubles as needed, up to `maxSysexBytes`. */
const SYSEX_START_BYTES = 256;
const NO_SYSEX = -1;
const EMPTY = new Uint8Array(0);
const noop = (): void => {};
const CHANNEL_KINDS = [
  'noteoff',
  'noteon',
  'polyaftertouch',
  'cc',
  'program',
  'channelaftertouch',
  'pitchbend',
];

/** What a status byte starts, for reasons: "noteon ch1 (0x90)", "mtc (0xf1)". */
function statusName(s: number): string {
  if (s < 0xf0) return `${CHANNEL_KINDS[(s >> 4) - 8]} ch${(s & 0x0f) + 1} (${hex(s)})`;
  return `${s === 0xf1 ? 'mtc' : s === 0xf2 ? 'songposition' : 'songselect'} (${hex(s)})`;
}

/** The message a status byte and its data bytes make (`d2` unused by one-data-byte messages). */
function message(s: number, d1: number, d2: number): MidiMessage {
  const channel = (s & 0x0f) + 1;
  switch (s & 0xf0) {
    case 0x80:
      return { kind: 'noteoff', channel, note: d1, velocity: d2 };
    case 0x90: // MIDI 1.0 "Note Off": a note on with velocity 0 is a note off.
      return { kind: d2 === 0 ? 'noteoff' : 'noteon', channel, note: d1, velocity: d2 };
    case 0xa0:
      return { kind: 'polyaftertouch', channel, note: d1, pressure: d2 };
    case 0xb0:
      return { kind: 'cc', channel, controller: d1, value: d2 };
    case 0xc0:
      return { kind: 'program', channel, program: d1 };
    case 0xd0:
      return { kind: 'channelaftertouch', channel, pressure: d1 };
    case 0xe0:
      return { kind: 'pitchbend', channel, value: d1 | (d2 << 7) };
  }
  if (s === 0xf1) return { kind: 'mtc', piece: d1 >> 4, value: d1 & 0x0f };
  if (s === 0xf2) return { kind: 'songposition', beats: d1 | (d2 << 7) };
  return { kind: 'songselect', song: d1 };
}

/** The message of a defined real-time byte (F8 FA FB FC FE FF). */
function realtime(b: number): MidiMessage {
  switch (b) {
    case 0xf8:
      return { kind: 'clock' };
    case 0xfa:
      return { kind: 'start' };
    case 0xfb:
      return { kind: 'continue' };
    case 0xfc:
      return { kind: 'stop' };
    case 0xfe:
      return { kind: 'activesensing' };
    default:
      return { kind: 'reset' };
  }
}

/**
 * A streaming MIDI 1.0 parser, one per source (a port, a session): bytes go in in chunks of any size,
 * messages come out as soon as they are complete. MIDI 1.0 Detailed Specification 4.2:
 * - running status for channel messages; SysEx and system common cancel it, real-time does not;
 * - real-time bytes (F8..FF) are emitted at once wherever they appear, inside a message or a SysEx too;
 * - a SysEx is reassembled across chunks up to `maxSysexBytes`, and any status byte other than F7 ends it.
 *
 * Malformed input is reported through `onError` with the offset in the chunk and the byte, then skipped:
 * the parser never throws, its work is linear in the input and it holds at most `maxSysexBytes` bytes.
 * Not re-entrant: a callback must not push into the same parser. If a callback throws, the error
 * propagates, the rest of that chunk is not read and the parser stays consistent for the next push.
 */
export class MidiParser {
  /** Longest SysEx reassembled, F0 and F7 included. */
  readonly maxSysexBytes: number;
  /** Status of the message under way or, between channel messages, the running status; 0 for none. */
  #status = 0;
  /** Data bytes `#status` takes, how many have arrived, and the first of them. */
  #need = 0;
  #got = 0;
  #data1 = 0;
  /** Part of a message has arrived: its status byte, or a first data byte under running status. */
  #pending = false;
  /** Data bytes are dropped silently: a stray run already reported, or the data of an undefined status. */
  #dropping = false;
  /** Bytes of the SysEx under way (F0 included), or NO_SYSEX. */
  #sysexLength = NO_SYSEX;
  /** The SysEx under way went past the limit (reported once): its bytes are dropped up to its end. */
  #sysexOverflow = false;
  #sysex: Uint8Array = EMPTY;
  #emit: (m: MidiMessage) => void = noop;
  #fail: (reason: string) => void = noop;

  /** @throws MidiConfigError when `maxSysexBytes` is not an integer ≥ 2. */
  constructor(options: MidiParserOptions = {}) {
    const max = options.maxSysexBytes ?? DEFAULT_MAX_SYSEX;
    if (!Number.isInteger(max) || max < 2) {
      throw new MidiConfigError(`maxSysexBytes ${String(max)} must be an integer of at least 2 (F0 and F7)`);
    }
    this.maxSysexBytes = max;
  }

  /** Bytes held for SysEx reassembly: never more than `maxSysexBytes`. */
  get bufferedBytes(): number {
    return this.#sysex.length;
  }

  /** Reads one chunk: complete messages go to `onMessage` in wire order, problems to `onError`. */
  push(bytes: Uint8Array, onMessage: (m: MidiMessage) => void, onError: (reason: string) => void): void {
    this.#emit = onMessage;
    this.#fail = onError;
    try {
      for (let i = 0; i < bytes.length; i++) this.#byte(bytes[i]!, i);
    } finally {
      this.#emit = noop;
      this.#fail = noop;
    }
  }

  /**
   * Ends the input: reports a message or SysEx left incomplete (a chunk that should have been complete,
   * such as an RTP-MIDI command list), then resets.
   */
  finish(onError: (reason: string) => void): void {
    let reason: string | undefined;
    if (this.#sysexLength !== NO_SYSEX) {
      if (!this.#sysexOverflow) {
        reason = `SysEx not terminated by F7: the input ended after ${this.#sysexLength} bytes of it`;
      }
    } else if (this.#pending) {
      const what = statusName(this.#status);
      reason = `incomplete ${what} at the end of the input: ${this.#got} of ${this.#need} data bytes`;
    }
    this.reset();
    if (reason !== undefined) onError(reason);
  }

  /** Forgets everything under way, the running status and the SysEx buffer (after a port is reopened). */
  reset(): void {
    this.#status = 0;
    this.#got = 0;
    this.#pending = false;
    this.#dropping = false;
    this.#sysexLength = NO_SYSEX;
    this.#sysexOverflow = false;
    this.#sysex = EMPTY;
  }

  #byte(b: number, i: number): void {
    if (b >= 0xf8) {
      this.#realtime(b, i);
      return;
    }
    if (this.#sysexLength !== NO_SYSEX) {
      if (b < 0x80) {
        this.#sysexData(b, i);
        return;
      }
      if (b === 0xf7) {
        this.#sysexEnd();
        return;
      }
      this.#sysexAbort(b, i); // MIDI 1.0: any status byte ends a SysEx; then it is read as itself
    }
    if (b < 0x80) this.#data(b, i);
    else this.#statusByte(b, i);
  }

  #realtime(b: number, i: number): void {
    if (b === 0xf9 || b === 0xfd) this.#fail(`undefined real-time byte ${hex(b)} at offset ${i}: ignored`);
    else this.#emit(realtime(b));
  }

  #statusByte(b: number, i: number): void {
    if (this.#pending) {
      const what = `${statusName(this.#status)} after ${this.#got} of ${this.#need} data bytes`;
      this.#pending = false;
      this.#fail(`status byte ${hex(b)} at offset ${i} interrupts ${what}: dropped`);
    }
    this.#dropping = false;
    this.#got = 0;
    if (b < 0xf0) {
      this.#begin(b);
      return;
    }
    this.#status = 0; // MIDI 1.0 "Running Status": system exclusive and system common cancel it
    switch (b) {
      case 0xf0:
        this.#sysexLength = 0;
        this.#put(0xf0);
        return;
      case 0xf1:
      case 0xf2:
      case 0xf3:
        this.#begin(b);
        return;
      case 0xf6:
        this.#emit({ kind: 'tunerequest' });
        return;
      case 0xf7:
        this.#fail(`EOX byte 0xf7 at offset ${i} ends no SysEx (no F0 before it): ignored`);
        return;
      default: // F4, F5: MIDI 1.0 says to ignore undefined status bytes and the data bytes after them
        this.#dropping = true;
        this.#fail(`undefined status byte ${hex(b)} at offset ${i}: ignored with its data bytes`);
    }
  }

  #begin(s: number): void {
    this.#status = s;
    this.#need = dataLength(s);
    this.#pending = true;
  }

  #data(b: number, i: number): void {
    const s = this.#status;
    if (s === 0) {
      if (this.#dropping) return;
      this.#dropping = true; // one reason per run of stray bytes, not one per byte
      this.#fail(
        `data byte ${hex(b)} at offset ${i} follows no status byte (and no running status): ignored`,
      );
      return;
    }
    this.#pending = true;
    if (this.#got + 1 < this.#need) {
      this.#data1 = b;
      this.#got += 1;
      return;
    }
    const d1 = this.#need === 1 ? b : this.#data1;
    this.#got = 0;
    this.#pending = false;
    if (s >= 0xf0) this.#status = 0; // system common: its data bytes are not followed by running status
    this.#emit(message(s, d1, b));
  }

  #sysexData(b: number, i: number): void {
    if (this.#sysexOverflow) return;
    if (this.#sysexLength + 1 >= this.maxSysexBytes) {
      // + 1: the F7 must still fit.
      this.#sysexOverflow = true;
      const limit = `the limit of ${this.maxSysexBytes} bytes`;
      this.#fail(
        `data byte ${hex(b)} at offset ${i} makes the SysEx longer than ${limit}: dropped up to its F7`,
      );
      return;
    }
    this.#put(b);
  }

  #sysexEnd(): void {
    const overflow = this.#sysexOverflow;
    this.#sysexOverflow = false;
    if (overflow) {
      this.#sysexLength = NO_SYSEX; // reported when it went past the limit
      return;
    }
    this.#put(0xf7);
    const data = this.#sysex.slice(0, this.#sysexLength);
    this.#sysexLength = NO_SYSEX;
    this.#emit({ kind: 'sysex', data });
  }

  #sysexAbort(b: number, i: number): void {
    const length = this.#sysexLength;
    const overflow = this.#sysexOverflow;
    this.#sysexLength = NO_SYSEX;
    this.#sysexOverflow = false;
    if (!overflow) {
      this.#fail(
        `SysEx not terminated by F7: status byte ${hex(b)} at offset ${i} ended it after ${length} bytes; dropped`,
      );
    }
  }

  /** Appends to the SysEx, doubling the buffer when full (callers keep the length within the limit). */
  #put(b: number): void {
    const n = this.#sysexLength;
    if (n === this.#sysex.length) {
      const grown = new Uint8Array(Math.min(Math.max(SYSEX_START_BYTES, n * 2), this.maxSysexBytes));
      grown.set(this.#sysex.subarray(0, n));
      this.#sysex = grown;
    }
    this.#sysex[n] = b;
    this.#sysexLength = n + 1;
  }
}
