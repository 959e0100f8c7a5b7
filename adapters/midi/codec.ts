/**
 * The MIDI 1.0 byte codec: `MidiMessage` ⇄ wire bytes, pure (no I/O, no timers). MIDI 1.0 Detailed
 * Specification 4.2, "Summary of Status Bytes" and "Data Formats". Serves both transports: OS ports hand
 * over bytes in arbitrary chunks (a `MidiParser` per port), RTP-MIDI hands over complete commands.
 *
 * Encoding is strict: every field is checked and nothing is clamped. Decoding never throws in the streaming
 * parser (errors are reported with the offset and the byte) and throws `MidiDecodeError` in `decodeMidi`.
 */
import { MidiDecodeError, MidiEncodeError } from '../../daemon/kernel/errors.js';
import { MidiParser, type MidiParserOptions } from './parser.js';
import type { MidiMessage } from './types.js';

export { MtcDecoder, type MtcPosition, type MtcRate } from './mtc.js';
export { MidiParser, type MidiParserOptions } from './parser.js';

/** Status bytes of the one-byte messages. */
const SINGLE: Readonly<Record<string, number>> = {
  tunerequest: 0xf6,
  clock: 0xf8,
  start: 0xfa,
  continue: 0xfb,
  stop: 0xfc,
  activesensing: 0xfe,
  reset: 0xff,
};

const hex = (b: number): string => `0x${b.toString(16).padStart(2, '0')}`;

/** A value as an error message shows it; never throws (String() does on a null-prototype object). */
function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'object' && v !== null) return Array.isArray(v) ? 'an array' : 'an object';
  if (typeof v === 'symbol') return v.toString();
  return String(v);
}

/** Returns `v` if it is an integer in [min, max], else throws naming kind, field and value. */
function field(kind: string, name: string, v: unknown, max: number, min = 0): number {
  if (typeof v === 'number' && Number.isInteger(v)) {
    if (v >= min && v <= max) return v;
    throw new MidiEncodeError(`${kind} ${name} ${v} is outside ${min}..${max}`);
  }
  throw new MidiEncodeError(`${kind} ${name} ${show(v)} is not an integer in ${min}..${max}`);
}

/** The status byte of a channel message: the high nibble, and channel 1..16 as 0..15 in the low one. */
function status(kind: string, high: number, channel: unknown): number {
  return high | (field(kind, 'channel', channel, 16, 1) - 1);
}

/** A 14-bit value as LSB then MSB (MIDI 1.0: pitch bend and song position send the low 7 bits first). */
function fourteen(kind: string, name: string, v: unknown, first: number): Uint8Array {
  const n = field(kind, name, v, 16383);
  return Uint8Array.of(first, n & 0x7f, n >> 7);
}

function sysex(data: unknown): Uint8Array {
  if (!(data instanceof Uint8Array))
    throw new MidiEncodeError(`sysex data must be a Uint8Array, not ${show(data)}`);
  const n = data.length;
  if (n < 2) throw new MidiEncodeError(`sysex data of ${n} bytes is too short: it needs at least F0 and F7`);
  if (data[0] !== 0xf0) throw new MidiEncodeError(`sysex data must start with F0, not ${hex(data[0]!)}`);
  if (data[n - 1] !== 0xf7) {
    throw new MidiEncodeError(`sysex data must end with F7, not ${hex(data[n - 1]!)}`);
  }
  for (let k = 1; k < n - 1; k++) {
    // MIDI 1.0: any status byte inside SysEx would end it (or, real-time, be taken out of it by receivers).
    if (data[k]! >= 0x80) {
      throw new MidiEncodeError(`sysex data byte ${hex(data[k]!)} at index ${k} is outside 0..0x7f`);
    }
  }
  return new Uint8Array(data); // a copy: a Buffer's slice() would share the caller's memory
}

/**
 * The wire bytes of one message: status byte first, no running status (each message stands alone, so a
 * transport may interleave or drop messages freely). A note on with velocity 0 is sent as given.
 * @throws MidiEncodeError naming kind, field and value ("noteon velocity 128 is outside 0..127").
 */
export function encodeMidi(m: MidiMessage): Uint8Array {
  if (typeof m !== 'object' || m === null) throw new MidiEncodeError(`message ${show(m)} is not an object`);
  const k = m.kind;
  switch (k) {
    case 'noteoff':
    case 'noteon':
      return Uint8Array.of(
        status(k, k === 'noteoff' ? 0x80 : 0x90, m.channel),
        field(k, 'note', m.note, 127),
        field(k, 'velocity', m.velocity, 127),
      );
    case 'polyaftertouch':
      return Uint8Array.of(
        status(k, 0xa0, m.channel),
        field(k, 'note', m.note, 127),
        field(k, 'pressure', m.pressure, 127),
      );
    case 'cc':
      return Uint8Array.of(
        status(k, 0xb0, m.channel),
        field(k, 'controller', m.controller, 127),
        field(k, 'value', m.value, 127),
      );
    case 'program':
      return Uint8Array.of(status(k, 0xc0, m.channel), field(k, 'program', m.program, 127));
    case 'channelaftertouch':
      return Uint8Array.of(status(k, 0xd0, m.channel), field(k, 'pressure', m.pressure, 127));
    case 'pitchbend':
      return fourteen(k, 'value', m.value, status(k, 0xe0, m.channel));
    case 'sysex':
      return sysex(m.data);
    case 'mtc':
      return Uint8Array.of(0xf1, (field(k, 'piece', m.piece, 7) << 4) | field(k, 'value', m.value, 15));
    case 'songposition':
      return fourteen(k, 'beats', m.beats, 0xf2);
    case 'songselect':
      return Uint8Array.of(0xf3, field(k, 'song', m.song, 127));
    default: {
      const single = typeof k === 'string' && Object.hasOwn(SINGLE, k) ? SINGLE[k] : undefined;
      if (single === undefined) throw new MidiEncodeError(`unknown MIDI kind ${show(k)}`);
      return Uint8Array.of(single);
    }
  }
}

/**
 * Decodes one complete chunk (an RTP-MIDI command list, a file's track event) through a fresh parser.
 * @throws MidiDecodeError with the first reason, if any byte was malformed or the chunk ends inside a message.
 */
export function decodeMidi(bytes: Uint8Array, options?: MidiParserOptions): MidiMessage[] {
  const parser = new MidiParser(options);
  const out: MidiMessage[] = [];
  let first: string | undefined;
  const onError = (reason: string): void => {
    first ??= reason;
  };
  parser.push(bytes, (m) => out.push(m), onError);
  parser.finish(onError);
  if (first !== undefined) throw new MidiDecodeError(first);
  return out;
}

const NOTE_NAMES = ['C', 'C#', 'D', 'D#', 'E', 'F', 'F#', 'G', 'G#', 'A', 'A#', 'B'];

/** Scientific pitch name of a MIDI note: 60 → "C4", 61 → "C#4", 0 → "C-1", 127 → "G9". */
export function noteName(n: number): string {
  return `${NOTE_NAMES[((n % 12) + 12) % 12]}${Math.floor(n / 12) - 1}`;
}

/** Up to 16 bytes in hex, then the count of the rest. */
function hexBytes(data: Uint8Array): string {
  const shown = Array.from(data.subarray(0, 16), (b) => b.toString(16).toUpperCase().padStart(2, '0'));
  return data.length > 16 ? `${shown.join(' ')} … (+${data.length - 16})` : shown.join(' ');
}

/** Short text for logs: "noteon ch1 C4(60) vel 100", "cc ch2 #7 = 100", "sysex 6 bytes F0 7E 7F 06 01 F7". */
export function describeMidi(m: MidiMessage): string {
  switch (m.kind) {
    case 'noteon':
    case 'noteoff':
      return `${m.kind} ch${m.channel} ${noteName(m.note)}(${m.note}) vel ${m.velocity}`;
    case 'polyaftertouch':
      return `${m.kind} ch${m.channel} ${noteName(m.note)}(${m.note}) pressure ${m.pressure}`;
    case 'cc':
      return `cc ch${m.channel} #${m.controller} = ${m.value}`;
    case 'program':
      return `program ch${m.channel} ${m.program}`;
    case 'channelaftertouch':
      return `channelaftertouch ch${m.channel} pressure ${m.pressure}`;
    case 'pitchbend': {
      const bend = m.value - 8192;
      return `pitchbend ch${m.channel} ${m.value} (${bend < 0 ? bend : `+${bend}`})`;
    }
    case 'sysex':
      return `sysex ${m.data.length} bytes ${hexBytes(m.data)}`;
    case 'mtc':
      return `mtc piece ${m.piece} value ${m.value}`;
    case 'songposition':
      return `songposition ${m.beats} beats`;
    case 'songselect':
      return `songselect ${m.song}`;
    default:
      return m.kind;
  }
}
