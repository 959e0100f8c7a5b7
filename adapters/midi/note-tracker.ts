/**
 * No stuck notes: remembers every note on sent to each output (a port or a network session) until its
 * note off, so that a panic, a stop or an output going away can silence exactly what is sounding.
 * Pure bookkeeping: the transport calls it for what it sends and writes out what `panic` returns.
 *
 * A note on sent twice for the same channel and note counts twice, and needs two note offs. MIDI
 * receivers differ (MIDI 1.0 leaves it open): some start a second voice and end one per note off, others
 * end the note at the first note off. Counting is the view that never forgets a voice that may still
 * sound; `panic` then sends one note off per note on held, which is harmless where one would have done
 * (a note off for a silent note is ignored).
 *
 * `panic` also sends, on every channel the output used since the last panic, Sustain off (CC 64 = 0)
 * and then All Notes Off (CC 123 = 0). Sustain first matters: a receiver holds notes released under a
 * held pedal, and the MIDI 1.0 spec has All Notes Off leave pedal-held notes sounding until the pedal
 * goes up. It releases a pedal a player may be holding through another source: a panic is for silence.
 * All Sound Off (CC 120) is not sent: it cuts release tails dead, a choice for the user, not for a stop.
 */
import { MidiEncodeError } from '../../daemon/kernel/errors.js';
import type { MidiMessage } from './types.js';

/** A note held on an output: `count` note ons not yet matched by a note off. */
export interface HeldNote {
  output: string;
  channel: number;
  note: number;
  count: number;
}

/** Control numbers (MIDI 1.0, "Control Change" and "Channel Mode Messages"). */
const CC_SUSTAIN = 64;
const CC_ALL_NOTES_OFF = 123;

interface OutputState {
  /** Held note ons by (channel - 1) * 128 + note. */
  held: Map<number, number>;
  /** Channels (1..16) that carried anything since the last panic. */
  channels: Set<number>;
}

/** Tracks the notes held per output; see the file's header for the choices. */
export class NoteTracker {
  private readonly outputs = new Map<string, OutputState>();

  /** A note on (velocity > 0) was sent. Throws PFM_ERR_MIDI_ENCODE for a channel or note out of range. */
  noteOn(output: string, channel: number, note: number): void {
    const key = keyOf(channel, note);
    const state = this.stateOf(output);
    state.held.set(key, (state.held.get(key) ?? 0) + 1);
    state.channels.add(channel);
  }

  /** A note off (or a note on with velocity 0) was sent; one for a note not held is ignored. */
  noteOff(output: string, channel: number, note: number): void {
    const key = keyOf(channel, note);
    const state = this.stateOf(output);
    state.channels.add(channel);
    const count = state.held.get(key);
    if (count === undefined) return;
    if (count > 1) state.held.set(key, count - 1);
    else state.held.delete(key);
  }

  /**
   * Records any message sent to `output`: note ons and offs are tracked (a note on with velocity 0 is a
   * note off, MIDI 1.0), any other channel message marks its channel as used; system messages are ignored.
   */
  track(output: string, message: MidiMessage): void {
    switch (message.kind) {
      case 'noteon':
        if (message.velocity > 0) this.noteOn(output, message.channel, message.note);
        else this.noteOff(output, message.channel, message.note);
        return;
      case 'noteoff':
        this.noteOff(output, message.channel, message.note);
        return;
      case 'polyaftertouch':
      case 'cc':
      case 'program':
      case 'channelaftertouch':
      case 'pitchbend':
        checkChannel(message.channel);
        this.stateOf(output).channels.add(message.channel);
        return;
      default:
        return; // system messages belong to no channel and hold no note
    }
  }

  /** Notes held, on one output or all, by output, channel and note. */
  held(output?: string): HeldNote[] {
    const list: HeldNote[] = [];
    for (const [name, state] of this.outputs) {
      if (output !== undefined && name !== output) continue;
      for (const key of [...state.held.keys()].sort((a, b) => a - b)) {
        list.push({ output: name, channel: (key >> 7) + 1, note: key & 0x7f, count: state.held.get(key)! });
      }
    }
    return list;
  }

  /** Note ons awaiting their note off, on one output or all (a note on sent twice counts twice). */
  heldCount(output?: string): number {
    let total = 0;
    for (const [name, state] of this.outputs) {
      if (output !== undefined && name !== output) continue;
      for (const count of state.held.values()) total += count;
    }
    return total;
  }

  /** Channels (1..16, ascending) `output` used since its last panic. */
  channelsUsed(output: string): number[] {
    const state = this.outputs.get(output);
    return state === undefined ? [] : [...state.channels].sort((a, b) => a - b);
  }

  /**
   * The messages that silence `output`: a note off (velocity 0) per held note on, then Sustain off and
   * All Notes Off on every channel it used since the last panic. Clears what was known of it.
   */
  panic(output: string): MidiMessage[] {
    const state = this.outputs.get(output);
    if (state === undefined) return [];
    const messages: MidiMessage[] = [];
    for (const { channel, note, count } of this.held(output)) {
      for (let i = 0; i < count; i++) messages.push({ kind: 'noteoff', channel, note, velocity: 0 });
    }
    for (const channel of this.channelsUsed(output)) {
      messages.push({ kind: 'cc', channel, controller: CC_SUSTAIN, value: 0 });
      messages.push({ kind: 'cc', channel, controller: CC_ALL_NOTES_OFF, value: 0 });
    }
    this.outputs.delete(output);
    return messages;
  }

  /** {@link panic} for every output with anything to silence: output → messages. */
  panicAll(): Map<string, MidiMessage[]> {
    const all = new Map<string, MidiMessage[]>();
    for (const output of [...this.outputs.keys()]) {
      const messages = this.panic(output);
      if (messages.length > 0) all.set(output, messages);
    }
    return all;
  }

  /** Forgets `output` without a message (the port or session is gone: nothing can be sent to it). */
  forget(output: string): void {
    this.outputs.delete(output);
  }

  private stateOf(output: string): OutputState {
    let state = this.outputs.get(output);
    if (state === undefined) {
      state = { held: new Map(), channels: new Set() };
      this.outputs.set(output, state);
    }
    return state;
  }
}

function checkChannel(channel: number): void {
  if (!Number.isInteger(channel) || channel < 1 || channel > 16) {
    throw new MidiEncodeError(`channel ${String(channel)} is not an integer in 1..16`);
  }
}

/** (channel - 1) * 128 + note, after checking both. */
function keyOf(channel: number, note: number): number {
  checkChannel(channel);
  if (!Number.isInteger(note) || note < 0 || note > 127) {
    throw new MidiEncodeError(`note ${String(note)} is not an integer in 0..127`);
  }
  return ((channel - 1) << 7) | note;
}
