import { describe, expect, it } from 'vitest';
import {
  decodeJournal,
  encodeJournal,
  JournalState,
  ReceiverNotes,
  type RecoveryJournal,
  recoveryCommands,
} from '../../../../adapters/midi/rtp/journal.js';
import { decodeRtpMidi, encodeRtpMidi } from '../../../../adapters/midi/rtp/rtp-midi.js';
import { MidiDecodeError, MidiEncodeError } from '../../../../daemon/kernel/errors.js';

const hex = (s: string): Uint8Array => Uint8Array.from(s.trim().split(/\s+/), (h) => Number.parseInt(h, 16));
const u8 = (...b: number[]): Uint8Array => Uint8Array.from(b);

/** The decode error's message, failing the test if anything else (or nothing) is thrown. */
function reason(b: Uint8Array): string {
  try {
    decodeJournal(b);
  } catch (err) {
    expect(err).toBeInstanceOf(MidiDecodeError);
    return (err as Error).message;
  }
  throw new Error('decoded without error');
}

describe('recovery journal: wire format', () => {
  it('decodes and re-encodes the journals macOS sent (laenzlinger/go-midi-rtp, rtp/rtp_test.go)', () => {
    const offbits = hex('20 98 72 00 06 08 00 77 08');
    const noteLog = hex('20 98 72 00 07 08 81 f1 3c 40');
    expect(decodeJournal(offbits)).toEqual({
      checkpoint: 0x9872,
      s: false,
      h: false,
      channels: [{ channel: 0, s: false, h: false, notes: { b: false, logs: [], off: [60] } }],
    });
    expect(encodeJournal(decodeJournal(offbits))).toEqual(offbits);
    expect(encodeJournal(decodeJournal(noteLog))).toEqual(noteLog);
  });

  it('encodes chapters C and N with every field placed', () => {
    const j: RecoveryJournal = {
      checkpoint: 0xabcd,
      channels: [
        {
          channel: 9,
          controllers: [
            { controller: 7, value: 100 },
            { controller: 64, value: 0x45, alt: true, s: true },
          ],
          notes: { logs: [{ note: 36, velocity: 127, play: true }], off: [0, 15, 17] },
        },
      ],
    };
    expect(encodeJournal(j)).toEqual(
      // header A=1 TOTCHAN=0; channel 9 LENGTH 15 TOC C|N; C: LEN=1, (7,100) (S|64, A|0x45);
      // N: LEN=1 LOW=0 HIGH=2, log (36, Y|127), OFFBITS 0x80 (note 0) 0x01 (note 15) 0x40 (note 17).
      hex('20 ab cd 48 0f 48 01 07 64 c0 c5 01 02 24 ff 80 01 40'),
    );
    expect(decodeJournal(encodeJournal(j)).channels[0]).toEqual({
      channel: 9,
      s: false,
      h: false,
      controllers: [
        { controller: 7, value: 100, alt: false, s: false },
        { controller: 64, value: 0x45, alt: true, s: true },
      ],
      notes: { b: false, logs: [{ note: 36, velocity: 127, play: true, s: false }], off: [0, 15, 17] },
    });
  });

  it('codes 128 note logs as LEN=127 LOW=15 HIGH=0 and 127 logs without OFFBITS as LOW=15 HIGH=1', () => {
    const logs = (n: number) => Array.from({ length: n }, (_, note) => ({ note, velocity: 1, play: false }));
    const all = encodeJournal({
      checkpoint: 1,
      channels: [{ channel: 0, notes: { logs: logs(128), off: [] } }],
    });
    expect([...all.subarray(6, 8)]).toEqual([0x7f, 0xf0]);
    expect(decodeJournal(all).channels[0]?.notes?.logs).toHaveLength(128);
    const most = encodeJournal({
      checkpoint: 1,
      channels: [{ channel: 0, notes: { logs: logs(127), off: [] } }],
    });
    expect([...most.subarray(6, 8)]).toEqual([0x7f, 0xf1]);
    expect(decodeJournal(most).channels[0]?.notes?.logs).toHaveLength(127);
  });

  it('skips the system journal and chapters P, M, W, E, T, A by their lengths', () => {
    // Y=1 A=1 TOTCHAN=1; system journal LENGTH 4; channel 2 with every chapter; channel 3 with N only.
    const j = hex(`61 00 05  00 04 aa bb
      10 1b ff  05 06 07  00 3c 40  00 03 99  01 02  01 f1 3c 40  01 3c 40 3e 41  00  00 3c 40
      18 06 08  00 77 08`);
    const decoded = decodeJournal(j);
    expect(decoded.system).toEqual(hex('00 04 aa bb'));
    expect(decoded.channels).toEqual([
      {
        channel: 2,
        s: false,
        h: false,
        skipped: 'PMWETA',
        controllers: [{ controller: 0x3c, value: 0x40, alt: false, s: false }],
        notes: { b: false, logs: [{ note: 0x3c, velocity: 0x40, play: false, s: false }], off: [] },
      },
      { channel: 3, s: false, h: false, notes: { b: false, logs: [], off: [60] } },
    ]);
    // What is modelled is written back; the system journal verbatim.
    expect(decodeJournal(encodeJournal(decoded)).system).toEqual(hex('00 04 aa bb'));
  });

  // name | bytes (hex) | expected reason
  const cases = `
    a short header | 20 98 | recovery journal header at offset 0 needs 3 bytes but only 2 remain
    a system LENGTH below its header | 40 00 01 00 01 | system journal at offset 3 has LENGTH 1, less than its header
    a system LENGTH past the end | 40 00 01 00 09 00 | system journal of LENGTH 9 at offset 3 needs 9 bytes but only 3 remain
    a missing channel journal | 21 00 01 00 06 08 00 77 08 | channel journal header at offset 9 needs 3 bytes but only 0 remain
    a channel LENGTH below its header | 20 00 01 00 02 08 | channel journal for channel 0 at offset 3 has LENGTH 2, less than its header
    a channel LENGTH past the end | 20 00 01 00 20 08 00 77 08 | channel journal for channel 0 (LENGTH 32) at offset 3 needs 32 bytes but only 6 remain
    chapter C past its channel | 20 00 01 00 06 40 01 07 64 | chapter C of channel journal for channel 0 with 2 logs at offset 6 needs 5 bytes but only 3 remain
    chapter N logs past its channel | 20 00 01 00 07 08 02 f1 3c 40 | chapter N of channel journal for channel 0 with 2 logs at offset 6 needs 6 bytes but only 4 remain
    OFFBITS past its channel | 20 00 01 00 06 08 00 03 08 | chapter N of channel journal for channel 0 with 0 logs at offset 6 needs 6 bytes
    chapter M LENGTH past its channel | 20 00 01 00 06 20 00 09 00 | chapter M of channel journal for channel 0 (LENGTH 9) at offset 6 needs 9 bytes but only 3 remain
    chapter M LENGTH below its header | 20 00 01 00 05 20 00 01 | chapter M at offset 6 has LENGTH 1, less than its header
    chapters E/T/A with no bytes | 20 00 01 00 03 07 | channel journal for channel 0 at offset 3 lists chapters E/T/A but has no bytes for them
    bytes after the chapters | 20 00 01 00 06 10 55 00 00 | 1 unexpected bytes at offset 8 in channel journal for channel 0
    bytes after the journal | 20 00 01 00 03 00 ff | 1 unexpected bytes at offset 6 after the recovery journal
  `
    .trim()
    .split('\n')
    .map((line) => line.split(' | ').map((part) => part.trim()) as [string, string, string]);
  for (const [name, input, expected] of cases) {
    it(`reports ${name}`, () => {
      expect(reason(hex(input))).toContain(expected);
    });
  }

  it('reports journal errors with offsets in the whole packet', () => {
    const packet = hex('80 61 00 02 00 00 00 00 00 00 00 01 41 f8 20 00 01 00 09 08 00 77');
    expect(() => decodeRtpMidi(packet)).toThrow(/channel journal for channel 0 \(LENGTH 9\) at offset 17/);
  });

  it('refuses to encode what the format cannot hold', () => {
    const bad: [RecoveryJournal, RegExp][] = [
      [
        { checkpoint: 0x10000, channels: [] },
        /journal checkpoint \(a 16-bit sequence number\) must be an integer in 0..65535/,
      ],
      [
        { checkpoint: 0, channels: [{ channel: 16 }] },
        /channel journal channel must be an integer in 0..15, not 16/,
      ],
      [
        { checkpoint: 0, channels: [{ channel: 1 }, { channel: 1 }] },
        /channel journal for channel 1 is listed twice/,
      ],
      [
        {
          checkpoint: 0,
          channels: [{ channel: 0, notes: { logs: [{ note: 1, velocity: 0, play: true }], off: [] } }],
        },
        /note log velocity must be an integer in 1..127, not 0/,
      ],
      [
        { checkpoint: 0, channels: [{ channel: 0, notes: { logs: [], off: [5, 5] } }] },
        /OFFBITS note 5 is listed twice/,
      ],
      [
        { checkpoint: 0, channels: [{ channel: 0, notes: { logs: [], off: [128] } }] },
        /OFFBITS note must be an integer in 0..127/,
      ],
      [
        {
          checkpoint: 0,
          channels: [
            {
              channel: 0,
              controllers: [
                { controller: 7, value: 1 },
                { controller: 7, value: 2 },
              ],
            },
          ],
        },
        /controller 7 is listed twice/,
      ],
      [
        { checkpoint: 0, channels: [{ channel: 0, controllers: [{ controller: 7, value: 128 }] }] },
        /controller value must be an integer in 0..127/,
      ],
      [
        { checkpoint: 0, channels: [], system: u8(0, 5, 1) },
        /system journal of 3 bytes does not match its LENGTH field/,
      ],
    ];
    for (const [j, re] of bad) {
      expect(() => encodeJournal(j)).toThrow(re);
      expect(() => encodeJournal(j)).toThrow(MidiEncodeError);
    }
    const logs = Array.from({ length: 128 }, (_, note) => ({ note, velocity: 1, play: false }));
    expect(() =>
      encodeJournal({ checkpoint: 0, channels: [{ channel: 0, notes: { logs, off: [1] } }] }),
    ).toThrow(/128 note logs leave no room for OFFBITS/);
  });

  it('survives seeded random bytes: a journal or a MidiDecodeError, nothing else', () => {
    let seed = 7;
    const next = (): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed >>> 16;
    };
    let decoded = 0;
    for (let i = 0; i < 10000; i++) {
      const b = Uint8Array.from({ length: 3 + (next() % 40) }, () => next() & 0xff);
      if (i % 2 === 0) {
        b[0] = 0x20; // one channel journal whose LENGTH fits the buffer
        b[3] = (b[3]! & 0xf8) | ((b.length - 3) >> 8);
        b[4] = (b.length - 3) & 0xff;
      }
      try {
        decodeJournal(b);
        decoded++;
      } catch (err) {
        expect(err).toBeInstanceOf(MidiDecodeError);
      }
    }
    expect(decoded).toBeGreaterThan(250);
  });
});

/** A sender and a receiver joined by RTP-MIDI packets that may be lost on the way. */
function link() {
  const sender = new JournalState();
  const receiver = new ReceiverNotes();
  let sequence = 0xfffe; // wraps during the test
  let lastReceived: number | undefined;
  return {
    sender,
    receiver,
    /** Sends one packet; returns what the receiver applied (its commands, after any repair). */
    send(timestamp: number, commands: Uint8Array[], lost = false): Uint8Array[] {
      const send = { ssrc: 1, sequence, timestamp, commands: commands.map((bytes) => ({ delta: 0, bytes })) };
      const wire = encodeRtpMidi({ ...send, journal: sender.journalFor(sequence, timestamp) });
      sender.record(send);
      sequence = (sequence + 1) & 0xffff;
      if (lost) return [];
      const packet = decodeRtpMidi(wire);
      const applied: Uint8Array[] = [];
      const gap = lastReceived !== undefined && packet.sequence !== ((lastReceived + 1) & 0xffff);
      if (gap && packet.journal) applied.push(...recoveryCommands(packet.journal, receiver));
      applied.push(...packet.commands.map((c) => c.bytes));
      for (const b of applied) receiver.apply(b);
      lastReceived = packet.sequence;
      return applied;
    },
  };
}

describe('recovery journal: sender and receiver', () => {
  it('note on in packet 1, note off in packet 2 lost, packet 3 with the journal: the note is turned off', () => {
    const l = link();
    expect(l.send(1000, [u8(0x90, 60, 100)])).toEqual([u8(0x90, 60, 100)]);
    expect(l.receiver.isHeld(0, 60)).toBe(true);
    l.send(2000, [u8(0x80, 60, 0)], true);
    expect(l.receiver.isHeld(0, 60)).toBe(true); // stuck, until the next packet
    expect(l.send(3000, [u8(0xf8)])).toEqual([u8(0x80, 60, 64), u8(0xf8)]);
    expect(l.receiver.isHeld(0, 60)).toBe(false);
  });

  it('journals the history since the checkpoint, newest command per note, and trims it on RS feedback', () => {
    const s = new JournalState();
    expect(s.journalFor(10, 0)).toBeUndefined();
    s.record({
      sequence: 10,
      timestamp: 0,
      commands: [{ bytes: u8(0x91, 60, 90) }, { bytes: u8(0xb1, 7, 80) }],
    });
    // The journal for packet 11 covers packet 10.
    expect(s.journalFor(11, 100)?.channels[0]?.notes).toEqual({
      logs: [{ note: 60, velocity: 90, play: true }],
      off: [],
    });
    s.record({
      sequence: 11,
      timestamp: 50,
      commands: [{ bytes: u8(0x81, 60, 0) }, { bytes: u8(0x91, 62, 70) }],
    });
    expect(s.journalFor(12, 100)).toEqual({
      checkpoint: 10,
      channels: [
        {
          channel: 1,
          controllers: [{ controller: 7, value: 80 }],
          notes: { logs: [{ note: 62, velocity: 70, play: true }], off: [60] },
        },
      ],
    });
    s.acknowledge(10);
    expect(s.checkpoint).toBe(11);
    expect(s.journalFor(12, 100)?.channels[0]).toEqual({
      channel: 1,
      notes: { logs: [{ note: 62, velocity: 70, play: true }], off: [60] },
    });
    s.acknowledge(11);
    expect(s.journalFor(12, 100)).toBeUndefined();
    s.acknowledge(3); // an old RS moves nothing back
    expect(s.checkpoint).toBe(12);
  });

  it('clears Y for NoteOns older than the play window', () => {
    const s = new JournalState({ playWindow: 200 });
    s.record({ sequence: 1, timestamp: 0xffffff80, commands: [{ bytes: u8(0x90, 60, 1) }] });
    expect(s.journalFor(2, 0x48)?.channels[0]?.notes?.logs[0]?.play).toBe(true); // 200 later, across the wrap
    expect(s.journalFor(2, 0x49)?.channels[0]?.notes?.logs[0]?.play).toBe(false);
  });

  it('turns an all-notes-off into OFFBITS for every note held, even ones from before the checkpoint', () => {
    const s = new JournalState();
    s.record({
      sequence: 1,
      timestamp: 0,
      commands: [{ bytes: u8(0x92, 60, 1) }, { bytes: u8(0x92, 64, 1) }],
    });
    s.acknowledge(1);
    s.record({ sequence: 2, timestamp: 0, commands: [{ bytes: u8(0xb2, 123, 0) }] });
    expect(s.journalFor(3, 0)?.channels).toEqual([{ channel: 2, notes: { logs: [], off: [60, 64] } }]);
    s.record({ sequence: 3, timestamp: 0, commands: [{ bytes: u8(0x93, 1, 1) }, { bytes: u8(0xff) }] });
    expect(s.journalFor(4, 0)?.channels.map((c) => c.notes?.off)).toEqual([[60, 64], [1]]);
  });

  it('repairs controllers and replays a missed NoteOn only when Y is set and allowed', () => {
    const journal: RecoveryJournal = {
      checkpoint: 1,
      channels: [
        {
          channel: 0,
          controllers: [
            { controller: 7, value: 100 },
            { controller: 10, value: 64 },
            { controller: 64, value: 3, alt: true },
          ],
          notes: {
            logs: [
              { note: 60, velocity: 90, play: true },
              { note: 62, velocity: 80, play: false },
              { note: 64, velocity: 70, play: true },
              { note: 65, velocity: 60, play: true },
            ],
            off: [65, 67],
          },
        },
      ],
    };
    const view = new ReceiverNotes();
    for (const b of [u8(0xb0, 10, 64), u8(0x90, 64, 70), u8(0x90, 65, 1), u8(0x90, 67, 1), u8(0x90, 69, 1)])
      view.apply(b);
    expect(recoveryCommands(journal, view)).toEqual([
      u8(0xb0, 7, 100), // unknown to the receiver; 10 already right; the A=1 log is not acted on
      u8(0x80, 65, 64), // logged then released: off
      u8(0x80, 67, 64),
      u8(0x90, 60, 90), // missed and recent (Y); 62 is stale, 64 rings on, 69 was not touched
    ]);
    expect(recoveryCommands(journal, view, { playNoteOns: false })).toHaveLength(3);
  });

  it('keeps its receiver view through channel mode messages and reset', () => {
    const v = new ReceiverNotes();
    for (const b of [u8(0x90, 1, 1), u8(0x91, 2, 1), u8(0x90, 3, 0), u8(0x90, 4, 1)]) v.apply(b);
    expect([v.isHeld(0, 1), v.isHeld(1, 2), v.isHeld(0, 3), v.isHeld(0, 4)]).toEqual([
      true,
      true,
      false,
      true,
    ]);
    v.apply(u8(0xb0, 120, 0));
    expect([v.isHeld(0, 1), v.isHeld(1, 2)]).toEqual([false, true]);
    v.apply(u8(0xff));
    expect(v.isHeld(1, 2)).toBe(false);
    v.apply(u8(0xb3, 7, 99));
    expect([v.controllerValue(3, 7), v.controllerValue(3, 8)]).toEqual([99, undefined]);
  });
});
