/**
 * RTP packets carrying MIDI (RFC 6295 §2-3; obsoletes RFC 4695) ⇄ bytes, pure (no sockets, no timers).
 *
 * Decoding is strict and bounded like adapters/osc/decode.ts: every read checked against the end of its
 * section, cost linear in the packet size, every error a MidiDecodeError naming the offset. Each command
 * comes out as fresh complete bytes (status restored under running status), with `delta`, its time in RTP
 * timestamp units after the packet's timestamp (the wire's per-command deltas summed). SysEx segments are
 * flagged; `SysexReassembler` joins them across packets.
 *
 * What peers do, and what the encoder does for them:
 * - RTP V=2 without padding, extension or CSRC (tolerated on input when well-formed), payload type 97
 *   (0x61, Apple's; Wireshark's packet-applemidi.c registers 97 for AppleMIDI conversations).
 * - M bit 0: macOS, npm rtpmidi and rtpmidid all send 0x80 0x61, and rtpmidid (rtppeer.cpp) notes that
 *   rtpMIDI on Windows ignores packets with M set. Read and reported, never required.
 * - Running status between consecutive channel commands of one status (RFC 6295 §3.2: receivers MUST
 *   decode it; npm rtpmidi's MidiMessage.js encoder uses it too, and its parser, Wireshark's and
 *   Arduino-AppleMIDI's decode it). `runningStatus: false` turns it off.
 * - Z=0 when the first command is at the packet's timestamp (as macOS, npm rtpmidi), else Z=1 and a delta.
 *   npm rtpmidi 1.0.0 skips a list that is one 1-byte command without a delta (MidiMessage.js, `offset <
 *   this.length + commandStartOffset - 1`): that case goes out with Z=1 and delta 0. Its encoder also
 *   writes every delta below 127 as 0 and garbles larger ones, so its packets decode with deltas of 0.
 */
import { MidiDecodeError, MidiEncodeError } from '../../../daemon/kernel/errors.js';
import { dataLength } from '../types.js';
import { decodeJournal, encodeJournal, type RecoveryJournal } from './journal.js';

/** Apple's dynamic RTP payload type for MIDI. */
export const APPLE_PAYLOAD_TYPE = 0x61;
/** The largest MIDI list LEN (12 bits, RFC 6295 §3). */
export const MAX_LIST_BYTES = 4095;
/** The largest delta between two commands (4 bytes of 7 bits, RFC 6295 §3). */
export const MAX_DELTA = 0x0fffffff;

/** Where a SysEx segment sits in its command (RFC 6295 §3.2, Figure 5). Complete F0…F7 has none. */
export type SysexSegment = 'first' | 'middle' | 'last' | 'cancel';

/** One command of a MIDI list. */
export interface RtpMidiCommand {
  /** RTP timestamp units after the packet's timestamp (cumulative, not the wire's per-command delta). */
  delta: number;
  /** One complete MIDI command, or a SysEx segment as on the wire (F0…F0, F7…F0, F7…F7, F7/F0…F4). */
  bytes: Uint8Array;
  segment?: SysexSegment;
}

/** A decoded RTP-MIDI packet. */
export interface RtpMidiPacket {
  ssrc: number;
  sequence: number;
  timestamp: number;
  marker: boolean;
  payloadType: number;
  /** P: the first command's status byte was not in the sender's source stream (running status there). */
  phantom: boolean;
  commands: RtpMidiCommand[];
  journal?: RecoveryJournal;
}

/** What `encodeRtpMidi` sends. */
export interface RtpMidiSend {
  ssrc: number;
  sequence: number;
  timestamp: number;
  /** Non-decreasing deltas; complete commands or SysEx segments. */
  commands: readonly { delta: number; bytes: Uint8Array }[];
  journal?: RecoveryJournal;
  marker?: boolean;
  payloadType?: number;
  runningStatus?: boolean;
}

const fail = (reason: string): Error => new MidiDecodeError(reason);
const encodeFail = (reason: string): Error => new MidiEncodeError(reason);
const hex = (b: number): string => `0x${b.toString(16).padStart(2, '0')}`;

function uint32(b: Uint8Array, p: number): number {
  return ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
}

/**
 * Decodes one RTP-MIDI datagram (tell it from a session packet with `isSessionPacket` first).
 * @throws MidiDecodeError naming the offset and the reason.
 */
export function decodeRtpMidi(bytes: Uint8Array): RtpMidiPacket {
  const n = bytes.length;
  if (n < 13)
    throw fail(`RTP-MIDI packet of ${n} bytes is shorter than its 12-byte RTP header and 1-byte MIDI header`);
  const b0 = bytes[0]!;
  if (b0 >> 6 !== 2)
    throw fail(`RTP version ${b0 >> 6} at offset 0; RTP-MIDI uses version 2 (RFC 3550 §5.1)`);
  // RFC 3550 §5.1: with P set, the last octet counts the padding octets, itself included.
  const pad = b0 & 0x20 ? bytes[n - 1]! : 0;
  if (b0 & 0x20 && (pad === 0 || pad > n - 13))
    throw fail(`RTP padding count ${pad} at offset ${n - 1} does not fit`);
  const end = n - pad;
  let pos = 12 + 4 * (b0 & 0x0f); // after the CSRC list
  if (b0 & 0x10) {
    if (pos + 4 > end) throw fail(`RTP header extension at offset ${pos} runs past the end of the packet`);
    pos += 4 + 4 * ((bytes[pos + 2]! << 8) | bytes[pos + 3]!);
  }
  if (pos >= end) throw fail(`RTP header ends at offset ${pos}, leaving no MIDI command section`);
  const h = bytes[pos]!;
  const listAt = pos + (h & 0x80 ? 2 : 1);
  if (listAt > end) throw fail(`long MIDI command section header at offset ${pos} is cut off`);
  const len = h & 0x80 ? ((h & 0x0f) << 8) | bytes[pos + 1]! : h & 0x0f;
  const listEnd = listAt + len;
  const left = `${end - listAt} bytes left`;
  if (listEnd > end)
    throw fail(`MIDI list LEN ${len} at offset ${pos} runs past the end of the packet (${left})`);
  const list: Cursor = { b: bytes, pos: listAt, end: listEnd, time: 0, running: 0, out: [] };
  const packet: RtpMidiPacket = {
    ssrc: uint32(bytes, 8),
    sequence: (bytes[2]! << 8) | bytes[3]!,
    timestamp: uint32(bytes, 4),
    marker: (bytes[1]! & 0x80) !== 0,
    payloadType: bytes[1]! & 0x7f,
    phantom: (h & 0x10) !== 0,
    commands: readList(list, (h & 0x20) !== 0),
  };
  if (h & 0x40) packet.journal = decodeJournal(bytes, listEnd, end);
  else if (listEnd !== end)
    throw fail(`${end - listEnd} unexpected bytes at offset ${listEnd} after the MIDI list (J is 0)`);
  return packet;
}

/** Where the MIDI list reader is: position, end of the list, time so far, running status, output. */
type Cursor = {
  b: Uint8Array;
  pos: number;
  end: number;
  time: number;
  running: number;
  out: RtpMidiCommand[];
};

/** Reads the MIDI list: (delta, command) pairs, the first delta only when Z is set (RFC 6295 §3). */
function readList(c: Cursor, z: boolean): RtpMidiCommand[] {
  while (c.pos < c.end) {
    if (c.out.length > 0 || z) readDelta(c);
    const s = c.b[c.pos]!;
    if (s >= 0xf8) {
      // System real-time: one byte, running status untouched (RFC 6295 §3.2).
      c.out.push({ delta: c.time, bytes: c.b.slice(c.pos, c.pos + 1) });
      c.pos++;
    } else if (s === 0xf0 || s === 0xf7 || s === 0xf4 || s === 0xf5) {
      c.running = 0;
      readDelimited(c);
    } else readCommand(c, s);
  }
  return c.out;
}

function readDelta(c: Cursor): void {
  const at = c.pos;
  for (let k = 0, delta = 0; ; k++) {
    if (k === 4) throw fail(`delta time at offset ${at} is longer than 4 bytes (RFC 6295 §3)`);
    if (c.pos >= c.end) throw fail(`delta time at offset ${at} runs past the end of the MIDI list`);
    const v = c.b[c.pos++]!;
    delta = delta * 128 + (v & 0x7f);
    if (v >= 0x80) continue;
    c.time += delta;
    if (c.pos >= c.end) throw fail(`delta time at offset ${at} ends the MIDI list with no command after it`);
    return;
  }
}

/** A channel or system common command of known length, its status restored under running status. */
function readCommand(c: Cursor, s: number): void {
  const at = c.pos;
  if (s < 0x80 && c.running === 0)
    throw fail(`data byte ${hex(s)} at offset ${at} with no running status (RFC 6295 §3.2)`);
  const status = s < 0x80 ? c.running : s;
  const from = s < 0x80 ? at : at + 1;
  c.running = status < 0xf0 ? status : 0; // system common cancels running status
  const size = dataLength(status);
  const what = `command ${hex(status)} at offset ${at}`;
  if (from + size > c.end)
    throw fail(`${what} needs ${size} data bytes; the MIDI list ends at offset ${c.end}`);
  const cmd = new Uint8Array(1 + size);
  cmd[0] = status;
  for (let k = 0; k < size; k++) {
    const d = c.b[from + k]!;
    if (d >= 0x80) throw fail(`status byte ${hex(d)} at offset ${from + k} inside ${what}`);
    cmd[1 + k] = d;
  }
  c.out.push({ delta: c.time, bytes: cmd });
  c.pos = from + size;
}

/**
 * A SysEx command or segment, or an undefined System Common F4/F5: data bytes up to a status byte. For
 * SysEx that byte says which part it is (RFC 6295 §3.2, Figure 5); F5 closes a command whose source
 * dropped its F7 (handed over with the F7 restored). F4/F5 are closed by F7 (Wireshark reads them alike).
 */
function readDelimited(c: Cursor): void {
  const { b, pos, end } = c;
  let p = pos + 1;
  while (p < end && b[p]! < 0x80) p++;
  const head = b[pos]!;
  const tail = p < end ? b[p]! : -1;
  const bytes = b.slice(pos, p + 1);
  const what = head === 0xf4 || head === 0xf5 ? `undefined System Common ${hex(head)}` : 'SysEx';
  if (what !== 'SysEx' && tail !== 0xf7) throw fail(`${what} at offset ${pos} is not closed by F7`);
  if (tail < 0)
    throw fail(`SysEx at offset ${pos} has no closing F7, F0 or F4 before the end of the MIDI list`);
  if (tail !== 0xf0 && tail !== 0xf4 && tail !== 0xf5 && tail !== 0xf7) {
    throw fail(
      `SysEx at offset ${pos} is closed by ${hex(tail)} at offset ${p}; only F7, F0, F4 or F5 close one`,
    );
  }
  if (tail === 0xf5) bytes[bytes.length - 1] = 0xf7;
  let segment: SysexSegment | undefined;
  if (what === 'SysEx' && tail === 0xf4) segment = 'cancel';
  else if (what === 'SysEx' && tail === 0xf0) segment = head === 0xf0 ? 'first' : 'middle';
  else if (what === 'SysEx' && head === 0xf7) segment = 'last';
  c.out.push(segment ? { delta: c.time, bytes, segment } : { delta: c.time, bytes });
  c.pos = p + 1;
}

function checkUint(what: string, v: unknown, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) {
    throw encodeFail(`${what} must be an integer in 0..${max}, not ${String(v)}`);
  }
  return v;
}

/** Checks that `bytes` is one complete command or a SysEx segment the list can carry. */
function checkCommand(bytes: Uint8Array, k: number): void {
  const s = bytes[0];
  const what = `command ${k} (${Array.from(bytes.subarray(0, 4), hex).join(' ')}${bytes.length > 4 ? ' …' : ''})`;
  if (s === undefined || s < 0x80) throw encodeFail(`${what} does not start with a status byte`);
  if (s === 0xf4 || s === 0xf5) throw encodeFail(`${what} is an undefined System Common message`);
  const sysex = s === 0xf0 || s === 0xf7;
  const tail = bytes.at(-1)!;
  const closed = bytes.length >= 2 && (tail === 0xf4 || tail === 0xf7 || tail === 0xf0);
  if (sysex && !closed) throw encodeFail(`${what} is a SysEx not closed by F7, F0 or F4`);
  const size = sysex ? bytes.length : 1 + (s >= 0xf8 ? 0 : dataLength(s));
  if (bytes.length !== size) throw encodeFail(`${what} has ${bytes.length} bytes; ${hex(s)} takes ${size}`);
  for (let i = 1; i < (sysex ? size - 1 : size); i++) {
    if (bytes[i]! >= 0x80) throw encodeFail(`${what} has status byte ${hex(bytes[i]!)} at index ${i}`);
  }
}

function pushDelta(out: number[], d: number): void {
  if (d >= 1 << 21) out.push(0x80 | (d >>> 21));
  if (d >= 1 << 14) out.push(0x80 | ((d >>> 14) & 0x7f));
  if (d >= 1 << 7) out.push(0x80 | ((d >>> 7) & 0x7f));
  out.push(d & 0x7f);
}

/** Builds the MIDI list; returns it and whether its first command carries a delta (Z). */
function writeList(commands: RtpMidiSend['commands'], rs: boolean): { list: number[]; z: boolean } {
  const list: number[] = [];
  let z = false;
  let prev = 0;
  let running = 0;
  commands.forEach(({ delta, bytes }, k) => {
    checkUint(`delta of command ${k}`, delta, Number.MAX_SAFE_INTEGER);
    if (delta < prev || delta - prev > MAX_DELTA) {
      throw encodeFail(`delta ${delta} of command ${k} must be ${prev}..${prev + MAX_DELTA}`);
    }
    checkCommand(bytes, k);
    if (k > 0) pushDelta(list, delta - prev);
    else if (delta > 0 || (commands.length === 1 && bytes.length === 1)) {
      z = true; // the npm rtpmidi workaround for a lone 1-byte command: see the header comment
      pushDelta(list, delta);
    }
    prev = delta;
    const s = bytes[0]!;
    const omit = rs && s < 0xf0 && s === running;
    if (s < 0xf0) running = s;
    else if (s < 0xf8) running = 0;
    for (let i = omit ? 1 : 0; i < bytes.length; i++) list.push(bytes[i]!);
  });
  return { list, z };
}

/**
 * Encodes an RTP-MIDI packet: RTP header, MIDI command section (long header when the list exceeds 15
 * bytes), and the journal when given (J=1).
 * @throws MidiEncodeError for a field out of range, an invalid command, decreasing deltas, a list over 4095.
 */
export function encodeRtpMidi(p: RtpMidiSend): Uint8Array {
  const ssrc = checkUint('SSRC', p.ssrc, 0xffffffff);
  const sequence = checkUint('sequence number', p.sequence, 0xffff);
  const timestamp = checkUint('timestamp', p.timestamp, 0xffffffff);
  const pt = checkUint('payload type', p.payloadType ?? APPLE_PAYLOAD_TYPE, 0x7f);
  const { list, z } = writeList(p.commands, p.runningStatus !== false);
  const n = list.length;
  if (n > MAX_LIST_BYTES)
    throw encodeFail(`MIDI list of ${n} bytes exceeds LEN's ${MAX_LIST_BYTES} (RFC 6295 §3)`);
  const journal = p.journal ? encodeJournal(p.journal) : undefined;
  const long = list.length > 15;
  const head = 12 + (long ? 2 : 1);
  const out = new Uint8Array(head + list.length + (journal?.length ?? 0));
  out.set([0x80, (p.marker ? 0x80 : 0) | pt, sequence >> 8, sequence & 0xff]);
  new DataView(out.buffer).setUint32(4, timestamp);
  new DataView(out.buffer).setUint32(8, ssrc);
  const flags = (long ? 0x80 : 0) | (journal ? 0x40 : 0) | (z ? 0x20 : 0);
  out.set(long ? [flags | (n >> 8), n & 0xff] : [flags | n], 12);
  out.set(list, head);
  if (journal) out.set(journal, head + list.length);
  return out;
}

/** What one segment did: a finished F0…F7 message, a dropped one (with why), both, or neither. */
export interface SysexOutcome {
  complete?: Uint8Array;
  dropped?: Error;
}

/**
 * Joins SysEx segments across packets into complete F0…F7 messages (RFC 6295 §3.2). A cancel (F4), a
 * segment out of order, a sequence gap while a message is pending, or a message over `maxBytes` (default
 * 65536) drops it and reports a MidiDecodeError; after an overflow the rest of that message is ignored.
 */
export class SysexReassembler {
  readonly #max: number;
  #parts: Uint8Array[] = [];
  #size = 0;
  /** 'open' while collecting; 'skip' after an overflow, until the message's last segment. */
  #state: 'idle' | 'open' | 'skip' = 'idle';
  #lastSequence: number | undefined;

  constructor(options: { maxBytes?: number } = {}) {
    this.#max = options.maxBytes ?? 65536;
  }

  /** True while a message is being collected. */
  get pending(): boolean {
    return this.#state === 'open';
  }

  /**
   * Feeds one command of a decoded packet; commands that are not SysEx are ignored. With `sequence`, a gap
   * in RTP sequence numbers drops a pending message: a lost packet may have held one of its segments.
   */
  push(command: RtpMidiCommand, sequence?: number): SysexOutcome {
    const out: SysexOutcome = {};
    const last = this.#lastSequence;
    if (
      sequence !== undefined &&
      last !== undefined &&
      sequence !== last &&
      sequence !== ((last + 1) & 0xffff)
    ) {
      if (this.#state === 'open')
        out.dropped = this.#drop(`packet ${sequence} follows ${last}: segments lost`);
      this.#reset('idle');
    }
    if (sequence !== undefined) this.#lastSequence = sequence;
    const { bytes, segment } = command;
    if (bytes[0] !== 0xf0 && bytes[0] !== 0xf7) return out;
    if (segment === undefined || segment === 'first') {
      if (this.#state === 'open') out.dropped = this.#drop('a new SysEx began before the previous one ended');
      this.#reset('idle');
      if (this.#add(segment ? bytes.subarray(0, -1) : bytes, out)) {
        if (segment) this.#state = 'open';
        else out.complete = this.#finish();
      }
    } else if (this.#state === 'skip') {
      if (segment !== 'middle') this.#reset('idle');
    } else if (this.#state === 'idle') {
      if (segment !== 'cancel')
        out.dropped ??= this.#drop(`SysEx ${segment} segment with no first segment before it`);
    } else if (segment === 'cancel') out.dropped = this.#drop('SysEx cancelled by the sender (F4)');
    else if (this.#add(bytes.subarray(1, segment === 'last' ? undefined : -1), out) && segment === 'last') {
      out.complete = this.#finish();
    }
    return out;
  }

  /** Drops a pending message (session ended, packets lost); returns the report, or {} when none was pending. */
  abort(reason: string): SysexOutcome {
    const open = this.#state === 'open';
    this.#reset('idle');
    return open ? { dropped: new MidiDecodeError(`${reason}; SysEx discarded`) } : {};
  }

  #add(part: Uint8Array, out: SysexOutcome): boolean {
    if (this.#size + part.length > this.#max) {
      out.dropped = this.#drop(`SysEx longer than the limit of ${this.#max} bytes`);
      this.#state = 'skip';
      return false;
    }
    this.#parts.push(part.slice());
    this.#size += part.length;
    return true;
  }

  #finish(): Uint8Array {
    const whole = new Uint8Array(this.#size);
    let at = 0;
    for (const part of this.#parts) {
      whole.set(part, at);
      at += part.length;
    }
    this.#reset('idle');
    return whole;
  }

  #drop(reason: string): Error {
    this.#reset('idle');
    return new MidiDecodeError(`${reason}; discarded`);
  }

  #reset(state: 'idle' | 'skip'): void {
    this.#parts = [];
    this.#size = 0;
    this.#state = state;
  }
}
