/**
 * One network MIDI session (AppleMIDI over RTP-MIDI, RFC 6295): its identity, the state of the two-step
 * invitation, what it sends (RTP sequence numbers, the recovery journal) and what it receives (the
 * expected sequence number, SysEx segments, the notes it holds for journal repairs), clock sync
 * figures and liveness. Plain state and pure steps: the sockets are network-midi.ts's.
 */
import { randomInt } from 'node:crypto';
import { JournalState, ReceiverNotes, recoveryCommands } from './journal.js';
import { encodeRtpMidi, type RtpMidiPacket, SysexReassembler } from './rtp-midi.js';

/** Where a session stands: its control channel invited, its data channel invited, or open. */
export type SessionStage = 'control' | 'data' | 'open';

/** What /health shows of a session. */
export interface SessionStats {
  id: string;
  name: string;
  peer: string;
  /** true: Performia invited the peer; false: the peer invited Performia. */
  initiator: boolean;
  stage: SessionStage;
  packetsIn: number;
  packetsOut: number;
  /** RTP packets the peer sent that never arrived (sequence gaps). */
  lost: number;
  /** Repairs from the recovery journal after a gap (note offs sent for notes a lost packet ended). */
  recovered: number;
  /** One-way latency from the last clock sync, ms; undefined before one completed. */
  latencyMs: number | undefined;
  clockSyncs: number;
  /** Bus time of the last packet heard from the peer, ms. */
  lastSeen: number;
}

/** A SysEx larger than this goes in segments, one packet each (RFC 6295 §3.2), below a typical MTU. */
const SEGMENT_BYTES = 1_000;

export class Session {
  readonly stats: SessionStats;
  /** The peer's SSRC (0 until known, on the initiator side before its OK). */
  remoteSsrc = 0;
  dataPort = 0;
  private sequence = randomInt(0, 0x10000);
  private readonly journal = new JournalState();
  private expected: number | undefined;
  private readonly sysex: SysexReassembler;
  private readonly notes = new ReceiverNotes();
  /** Bus time of the last CK answered, against a peer that floods them. */
  lastClockAnswer = Number.NEGATIVE_INFINITY;
  /** Bus time of the last CK0 we sent to a silent peer to learn whether it is still there. */
  lastProbe = Number.NEGATIVE_INFINITY;
  /** Bus time the last RS was sent, and the sequence it acknowledged. */
  acked: number | undefined;

  constructor(
    readonly id: string,
    /** The initiator token: ours when we invited, the peer's when it did. */
    readonly token: number,
    readonly address: string,
    readonly controlPort: number,
    initiator: boolean,
    now: number,
    maxSysexBytes: number,
  ) {
    this.sysex = new SysexReassembler({ maxBytes: maxSysexBytes });
    this.stats = {
      id,
      name: '',
      peer: `${address}:${controlPort}`,
      initiator,
      stage: 'control',
      packetsIn: 0,
      packetsOut: 0,
      lost: 0,
      recovered: 0,
      latencyMs: undefined,
      clockSyncs: 0,
      lastSeen: now,
    };
  }

  get open(): boolean {
    return this.stats.stage === 'open';
  }

  /** The last sequence number received, for RS feedback. */
  get lastReceived(): number | undefined {
    return this.expected === undefined ? undefined : (this.expected - 1) & 0xffff;
  }

  /**
   * The RTP packets that carry one complete MIDI message: one packet, or for a long SysEx one per
   * segment. Each carries the recovery journal of what this session sent since the peer's last RS.
   */
  packetsFor(bytes: Uint8Array, ssrc: number, timestamp: number): Uint8Array[] {
    const parts = bytes[0] === 0xf0 && bytes.length > SEGMENT_BYTES ? segments(bytes) : [bytes];
    return parts.map((part) => {
      this.sequence = (this.sequence + 1) & 0xffff;
      const commands = [{ delta: 0, bytes: part }];
      const journal = this.journal.journalFor(this.sequence, timestamp);
      const packet = encodeRtpMidi({ ssrc, sequence: this.sequence, timestamp, commands, journal });
      this.journal.record({ sequence: this.sequence, timestamp, commands });
      this.stats.packetsOut++;
      return packet;
    });
  }

  /** RS from the peer: it has every packet up to `sequence`; the journal need not cover them again. */
  acknowledged(sequence: number): void {
    this.journal.acknowledge(sequence);
  }

  /**
   * A packet from the peer → the complete MIDI messages to deliver, in order: first the repairs the
   * journal calls for when packets were lost (note offs for notes they ended), then its commands with
   * SysEx segments joined. `problems` gets a reason for each SysEx that had to be dropped.
   */
  receive(packet: RtpMidiPacket, now: number, problems: (reason: string) => void): Uint8Array[] {
    this.stats.packetsIn++;
    this.stats.lastSeen = now;
    const out: Uint8Array[] = [];
    const gap = this.expected === undefined ? 0 : (packet.sequence - this.expected) & 0xffff;
    // A gap of more than half the sequence space is a late or duplicated packet, not a loss.
    if (gap >= 0x8000) return out;
    if (gap > 0) {
      this.stats.lost += gap;
      if (packet.journal !== undefined) {
        const repairs = recoveryCommands(packet.journal, this.notes, { playNoteOns: false });
        this.stats.recovered += repairs.length;
        out.push(...repairs);
      }
    }
    this.expected = (packet.sequence + 1) & 0xffff;
    for (const command of packet.commands) {
      const first = command.bytes[0];
      if (first === 0xf0 || first === 0xf7) {
        const outcome = this.sysex.push(command, packet.sequence);
        if (outcome.dropped !== undefined) problems(outcome.dropped.message);
        if (outcome.complete !== undefined) out.push(outcome.complete);
        continue;
      }
      out.push(command.bytes);
    }
    for (const bytes of out) this.notes.apply(bytes);
    return out;
  }

  /** Notes the peer left on (for a lost session: the adapter releases them elsewhere). */
  reset(): void {
    this.sysex.abort('session ended');
  }
}

/** F0 d… F7 as segments: F0 d… F0, F7 d… F0, …, F7 d… F7 (RFC 6295 §3.2, Figure 5). */
function segments(bytes: Uint8Array): Uint8Array[] {
  const data = bytes.subarray(1, -1);
  const out: Uint8Array[] = [];
  for (let at = 0; at < data.length; at += SEGMENT_BYTES) {
    const chunk = data.subarray(at, at + SEGMENT_BYTES);
    const last = at + SEGMENT_BYTES >= data.length;
    const seg = new Uint8Array(chunk.length + 2);
    seg[0] = at === 0 ? 0xf0 : 0xf7;
    seg.set(chunk, 1);
    seg[seg.length - 1] = last ? 0xf7 : 0xf0;
    out.push(seg);
  }
  return out;
}
