/**
 * The MIDI wire model shared by the byte codec, the RTP-MIDI payload codec, the routes and the
 * transports (MIDI 1.0 Detailed Specification 4.2; RFC 6295 for the network side). Plain data: a
 * decoded message becomes a bus payload field by field.
 *
 * Channels are 1..16 as musicians count them (the catalog's `channel` is 1-based too); on the wire
 * the low nibble of the status byte is channel - 1.
 */

import { MIDI_KIND_NAMES } from '../../config/midi-schema.js';

/** Channel voice messages. A note on with velocity 0 decodes as a note off (MIDI 1.0, "Note Off"). */
export type MidiChannelMessage =
  | { kind: 'noteon'; channel: number; note: number; velocity: number }
  | { kind: 'noteoff'; channel: number; note: number; velocity: number }
  | { kind: 'polyaftertouch'; channel: number; note: number; pressure: number }
  | { kind: 'cc'; channel: number; controller: number; value: number }
  | { kind: 'program'; channel: number; program: number }
  | { kind: 'channelaftertouch'; channel: number; pressure: number }
  /** 14-bit, 0..16383; 8192 is the centre (no bend). */
  | { kind: 'pitchbend'; channel: number; value: number };

/** System common and system real-time messages. */
export type MidiSystemMessage =
  /** The whole message, F0 … F7 included (reassembled when it came in chunks). */
  | { kind: 'sysex'; data: Uint8Array }
  /** An MTC quarter frame (F1): `piece` 0..7 says which nibble `value` (0..15) carries. */
  | { kind: 'mtc'; piece: number; value: number }
  /** Song position pointer (F2): MIDI beats (sixteenth notes) since the song's start, 0..16383. */
  | { kind: 'songposition'; beats: number }
  | { kind: 'songselect'; song: number }
  | { kind: 'tunerequest' }
  | { kind: 'clock' }
  | { kind: 'start' }
  | { kind: 'continue' }
  | { kind: 'stop' }
  | { kind: 'activesensing' }
  | { kind: 'reset' };

/** Any MIDI 1.0 message. */
export type MidiMessage = MidiChannelMessage | MidiSystemMessage;

/** A message kind. */
export type MidiKind = MidiMessage['kind'];

/**
 * Every kind, in the order of their status bytes: the config's list (config/midi-schema.ts), which
 * routes match on, held once; `tsc` checks each entry is a kind of the model.
 */
export const MIDI_KINDS: readonly MidiKind[] = MIDI_KIND_NAMES satisfies readonly MidiKind[];

/** The channel kinds. */
export const CHANNEL_KINDS: ReadonlySet<MidiKind> = new Set<MidiKind>([
  'noteoff',
  'noteon',
  'polyaftertouch',
  'cc',
  'program',
  'channelaftertouch',
  'pitchbend',
]);

/** System real-time status bytes (F8..FF): one byte, allowed anywhere, even inside another message. */
export function isRealtime(status: number): boolean {
  return status >= 0xf8;
}

/**
 * Data bytes that follow a status byte (MIDI 1.0 table "Summary of Status Bytes"); -1 for SysEx (runs
 * to F7) and for the undefined status bytes F4, F5, F9, FD (which carry none we can know: they are
 * ignored with a reason).
 */
export function dataLength(status: number): number {
  if (status < 0x80) return -1;
  if (status < 0xf0) {
    const high = status & 0xf0;
    return high === 0xc0 || high === 0xd0 ? 1 : 2;
  }
  switch (status) {
    case 0xf1:
    case 0xf3:
      return 1;
    case 0xf2:
      return 2;
    case 0xf6:
    case 0xf7:
    case 0xf8:
    case 0xfa:
    case 0xfb:
    case 0xfc:
    case 0xfe:
    case 0xff:
      return 0;
    default:
      return -1; // F0 (SysEx, variable), F4 F5 F9 FD (undefined)
  }
}
