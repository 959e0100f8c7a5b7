/**
 * The notes of midi.rtp_relay_latency_p99_us.
 *
 * Each played note is a note on and, half a step later, its note off, as a player's would be, on one
 * channel within two octaves (C3..B4): the daemon's RTP-MIDI recovery journal (rtp/journal.ts) carries a
 * note log for every note touched since the peer's last acknowledgement, so a wider range than a player
 * uses would make every packet's journal larger than in use. The note on carries a key: its note and
 * its velocity (1..127; 0 would be a note off), 3,048 keys in all, which repeat every 3,048 notes (6 s at
 * one note every 2 ms): an arrival is matched to the latest note sent with its key.
 */

/** The notes used: 24 from C3 (MIDI 48). */
const LOW_NOTE = 48;
const NOTES = 24;
/** Distinct keys. */
export const NOTE_KEYS = NOTES * 127;

const noteOf = (seq: number): number => LOW_NOTE + Math.floor((seq % NOTE_KEYS) / 127);

/** The note on of note `seq` (channel 1). */
export function noteOnOf(seq: number): Uint8Array {
  return Uint8Array.of(0x90, noteOf(seq), ((seq % NOTE_KEYS) % 127) + 1);
}

/** The note off of note `seq`. */
export function noteOffOf(seq: number): Uint8Array {
  return Uint8Array.of(0x80, noteOf(seq), 64);
}

/** The key of `seq`. */
export const keyOfSeq = (seq: number): number => seq % NOTE_KEYS;

/** The key a received note on carries, or -1 for any other message. */
export function keyOfNote(bytes: Uint8Array): number {
  if (bytes.length !== 3 || bytes[0] !== 0x90 || bytes[2] === 0) return -1;
  const note = bytes[1]! - LOW_NOTE;
  if (note < 0 || note >= NOTES) return -1;
  return note * 127 + bytes[2]! - 1;
}
