/**
 * AppleMIDI session packets ⇄ bytes, pure (no sockets, no timers).
 *
 * The wire layout is Apple's "MIDI Network Driver Protocol" (developer.apple.com archive, figures 1-1 to
 * 1-4), checked against Wireshark's packet-applemidi.c (written by rtpMIDI's author), lathoub's
 * Arduino-AppleMIDI-Library (AppleMIDI_Parser.h), mt32-pi (src/net/applemidi.cpp) and the npm rtpmidi
 * package (src/ControlMessage.js). All numbers are big-endian. Every packet starts with the signature
 * 0xFFFF and a command of two ASCII letters:
 *
 * - IN, OK, NO, BY: protocol version (uint32, always 2), initiator token, SSRC, then an optional
 *   NUL-terminated UTF-8 name ("May be omitted", Apple). Arduino-AppleMIDI and rtpmidid send BY, mt32-pi
 *   NO, without one; npm rtpmidi sends BY with an empty one (a lone NUL): all decode.
 * - CK: SSRC, count (0, 1, 2), 3 unused bytes (ignored on input: npm rtpmidi fills them from a `padding`
 *   field), three 64-bit timestamps in units of 100 µs. 36 bytes.
 * - RS (receiver feedback): SSRC, then a 32-bit field whose upper 16 bits are the RTP sequence number of
 *   the last packet received (Wireshark reads the upper half; mt32-pi writes `seq << 16`; Arduino and
 *   npm rtpmidi write the 16 bits then 16 zero bits). The lower half is ignored on input (rtpmidid puts
 *   the sequence number there instead). 12 bytes.
 * - RL (bitrate receive limit, Wireshark and Arduino): SSRC, limit in bits per second. 12 bytes.
 */
import { MidiDecodeError, MidiEncodeError } from '../../../daemon/kernel/errors.js';

/** The commands that carry version, token, SSRC and name. */
export type ExchangeCommand = 'IN' | 'OK' | 'NO' | 'BY';

/** A decoded AppleMIDI session packet. */
export type SessionPacket =
  | {
      command: ExchangeCommand;
      /** The initiator's random token, echoed by OK/NO/BY. */
      token: number;
      ssrc: number;
      /** The sender's session name; undefined when the packet carries none. */
      name?: string;
    }
  | {
      command: 'CK';
      ssrc: number;
      /** 0 from the initiator, 1 the responder's answer, 2 the initiator's last word. */
      count: 0 | 1 | 2;
      /** Timestamps 1..3 in units of 100 µs, each on its writer's own clock. */
      timestamps: readonly [bigint, bigint, bigint];
    }
  | {
      command: 'RS';
      ssrc: number;
      /** The 16-bit RTP sequence number of the last packet the receiver got. */
      sequence: number;
    }
  | {
      command: 'RL';
      ssrc: number;
      /** The most the receiver accepts, in bits per second. */
      limit: number;
    };

/** The AppleMIDI protocol version, the only one there is. */
export const APPLEMIDI_VERSION = 2;

const EXCHANGE = new Set<string>(['IN', 'OK', 'NO', 'BY']);
const FIXED_SIZE: Readonly<Record<string, number>> = { CK: 36, RS: 12, RL: 12 };
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const utf8Encoder = new TextEncoder();
const TWO_64 = 1n << 64n;

const fail = (reason: string): Error => new MidiDecodeError(reason);
const hex = (v: number, digits: number): string => `0x${v.toString(16).padStart(digits, '0')}`;

/**
 * True when a datagram starts with the AppleMIDI signature 0xFFFF. On the data port this tells session
 * packets (CK, and IN/OK/BY) from RTP: an RTP version-2 packet starts with 0x80..0xBF (RFC 3550 §5.1).
 */
export function isSessionPacket(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0xff && bytes[1] === 0xff;
}

function uint32(b: Uint8Array, p: number): number {
  return ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
}

function uint64(b: Uint8Array, p: number): bigint {
  return (BigInt(uint32(b, p)) << 32n) | BigInt(uint32(b, p + 4));
}

/** The command as two letters, or its hex value when the bytes are not printable ASCII. */
function commandName(b: Uint8Array): string {
  const [c0, c1] = [b[2]!, b[3]!];
  const printable = c0 >= 0x20 && c0 < 0x7f && c1 >= 0x20 && c1 < 0x7f;
  return printable ? String.fromCharCode(c0, c1) : hex((c0 << 8) | c1, 4);
}

/**
 * Decodes one AppleMIDI session datagram.
 * @throws MidiDecodeError naming the offset and the reason: short packet, wrong signature, unknown command,
 *   bad version, a name without NUL, invalid UTF-8, a CK count above 2, trailing bytes.
 */
export function decodeSessionPacket(bytes: Uint8Array): SessionPacket {
  const n = bytes.length;
  if (n < 4) throw fail(`session packet of ${n} bytes is shorter than its 4-byte signature and command`);
  if (!isSessionPacket(bytes)) {
    throw fail(`no 0xFFFF signature at offset 0 (found ${hex((bytes[0]! << 8) | bytes[1]!, 4)})`);
  }
  const command = commandName(bytes);
  if (EXCHANGE.has(command)) return decodeExchange(bytes, command as ExchangeCommand);
  const size = FIXED_SIZE[command];
  if (size === undefined) throw fail(`unknown session command ${JSON.stringify(command)} at offset 2`);
  if (n !== size) throw fail(`${command} packet of ${n} bytes; it has exactly ${size}`);
  const ssrc = uint32(bytes, 4);
  if (command === 'RS') return { command, ssrc, sequence: (bytes[8]! << 8) | bytes[9]! };
  if (command === 'RL') return { command, ssrc, limit: uint32(bytes, 8) };
  const count = bytes[8]!;
  if (count > 2) throw fail(`CK count ${count} at offset 8; only 0, 1 and 2 exist`);
  const timestamps = [uint64(bytes, 12), uint64(bytes, 20), uint64(bytes, 28)] as const;
  return { command: 'CK', ssrc, count: count as 0 | 1 | 2, timestamps };
}

function decodeExchange(bytes: Uint8Array, command: ExchangeCommand): SessionPacket {
  const n = bytes.length;
  if (n < 16) throw fail(`${command} packet of ${n} bytes ends before its 16-byte header`);
  const version = uint32(bytes, 4);
  if (version !== APPLEMIDI_VERSION) {
    throw fail(`protocol version ${version} at offset 4 in ${command}; only version 2 exists`);
  }
  const packet = { command, token: uint32(bytes, 8), ssrc: uint32(bytes, 12) };
  if (n === 16) return packet;
  const nul = bytes.indexOf(0, 16);
  if (nul < 0) throw fail(`name at offset 16 has no NUL terminator before the end of the ${n}-byte packet`);
  // Some senders pad after the terminator; anything but NUL there is not a name we can read.
  for (let i = nul + 1; i < n; i++) {
    if (bytes[i] !== 0) throw fail(`${n - nul - 1} unexpected bytes at offset ${nul + 1} after the name`);
  }
  try {
    return { ...packet, name: utf8Decoder.decode(bytes.subarray(16, nul)) };
  } catch {
    throw fail(`name at offset 16 is not valid UTF-8`);
  }
}

function checkUint(what: string, v: unknown, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) {
    throw new MidiEncodeError(`${what} must be an integer in 0..${max}, not ${String(v)}`);
  }
  return v;
}

function put32(out: Uint8Array, p: number, v: number): void {
  out[p] = v >>> 24;
  out[p + 1] = (v >>> 16) & 0xff;
  out[p + 2] = (v >>> 8) & 0xff;
  out[p + 3] = v & 0xff;
}

function header(size: number, command: string): Uint8Array {
  const out = new Uint8Array(size);
  out[0] = 0xff;
  out[1] = 0xff;
  out[2] = command.charCodeAt(0);
  out[3] = command.charCodeAt(1);
  return out;
}

/**
 * Encodes a session packet. IN/OK/NO carry the name when one is given (Apple: it "should be included"
 * in IN); BY is always sent without one, as Arduino-AppleMIDI and rtpmidid send it.
 * @throws MidiEncodeError for a field out of range, an unknown command or a name containing NUL.
 */
export function encodeSessionPacket(p: SessionPacket): Uint8Array {
  const ssrc = checkUint('SSRC', p.ssrc, 0xffffffff);
  switch (p.command) {
    case 'IN':
    case 'OK':
    case 'NO':
    case 'BY':
      return encodeExchange(p, ssrc);
    case 'CK': {
      const count = checkUint('CK count', p.count, 2);
      const out = header(36, 'CK');
      put32(out, 4, ssrc);
      out[8] = count;
      for (let k = 0; k < 3; k++) {
        const t = p.timestamps[k];
        if (typeof t !== 'bigint' || t < 0n || t >= TWO_64) {
          throw new MidiEncodeError(`CK timestamp ${k + 1} must be a bigint in 0..2^64-1, not ${String(t)}`);
        }
        put32(out, 12 + 8 * k, Number(t >> 32n));
        put32(out, 16 + 8 * k, Number(t & 0xffffffffn));
      }
      return out;
    }
    case 'RS': {
      const out = header(12, 'RS');
      put32(out, 4, ssrc);
      put32(out, 8, checkUint('RS sequence number', p.sequence, 0xffff) * 0x10000);
      return out;
    }
    case 'RL': {
      const out = header(12, 'RL');
      put32(out, 4, ssrc);
      put32(out, 8, checkUint('RL limit', p.limit, 0xffffffff));
      return out;
    }
    default:
      throw new MidiEncodeError(
        `unknown session command ${JSON.stringify((p as { command: unknown }).command)}`,
      );
  }
}

function encodeExchange(p: SessionPacket & { command: ExchangeCommand }, ssrc: number): Uint8Array {
  const token = checkUint(`${p.command} initiator token`, p.token, 0xffffffff);
  let name: Uint8Array | undefined;
  if (p.command !== 'BY' && p.name !== undefined) {
    if (typeof p.name !== 'string' || p.name.includes('\0')) {
      throw new MidiEncodeError(`${p.command} name must be a string without NUL characters`);
    }
    name = utf8Encoder.encode(p.name);
  }
  const out = header(16 + (name ? name.length + 1 : 0), p.command);
  put32(out, 4, APPLEMIDI_VERSION);
  put32(out, 8, token);
  put32(out, 12, ssrc);
  if (name) out.set(name, 16); // the NUL terminator is the array's last, zero-filled byte
  return out;
}

/** What one complete CK exchange says about the link and the two clocks, in units of 100 µs. */
export interface ClockEstimate {
  /** t3 - t1: CK0 sent to CK1 received, on the initiator's clock (includes the responder's turnaround). */
  roundTrip: bigint;
  /** roundTrip / 2: the one-way delay, assuming symmetric paths (rounded toward zero). */
  latency: bigint;
  /**
   * (t1 + t3) / 2 - t2: how far the initiator's clock is ahead of the responder's. Apple's formula, quoted
   * in Arduino-AppleMIDI (AppleMIDI.hpp, ReceivedSynchronization) and used by mt32-pi: add it to a
   * responder time to get initiator time, subtract it for the other way.
   */
  offset: bigint;
}

/**
 * Clock-sync maths for the three timestamps of one CK exchange (t1 and t3 on the initiator's clock, t2 on
 * the responder's). With three timestamps the responder's turnaround cannot be told apart from the network
 * delay, so both sides count it in the latency (as rtpmidid and npm rtpmidi do with t3 - t1).
 * Returns undefined for an exchange that cannot be right (t3 before t1).
 */
export function clockEstimate(t1: bigint, t2: bigint, t3: bigint): ClockEstimate | undefined {
  if (t3 < t1) return undefined;
  const roundTrip = t3 - t1;
  return { roundTrip, latency: roundTrip / 2n, offset: (t1 + t3) / 2n - t2 };
}
