import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import {
  decodeRtpMidi,
  encodeRtpMidi,
  MAX_DELTA,
  type RtpMidiCommand,
  type RtpMidiSend,
  SysexReassembler,
} from '../../../../adapters/midi/rtp/rtp-midi.js';
import { MidiDecodeError, MidiEncodeError } from '../../../../daemon/kernel/errors.js';

// npm rtpmidi 1.0.0 (a devDependency and one of our peers) as the independent reference codec.
const require = createRequire(import.meta.url);
(require('rtpmidi/src/logger.js') as { silent: boolean }).silent = true;
interface NpmMidi {
  mixin(o: object): NpmMidi;
  generateBuffer(): NpmMidi;
  parseBuffer(b: Buffer): NpmMidi;
  buffer: Buffer;
  commands: { deltaTime: number; data: Buffer }[];
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
}
const MidiMessage = require('rtpmidi/src/MidiMessage.js') as new () => NpmMidi;

const hex = (s: string): Uint8Array => Uint8Array.from(s.trim().split(/\s+/), (h) => Number.parseInt(h, 16));
const u8 = (...b: number[]): Uint8Array => Uint8Array.from(b);
const HEAD = '80 61 12 34 00 00 00 64 ca fe 00 01'; // seq 0x1234, timestamp 100, SSRC 0xcafe0001
const base = { ssrc: 0xcafe0001, sequence: 0x1234, timestamp: 100 };

/** The decode error's message, failing the test if anything else (or nothing) is thrown. */
function reason(b: Uint8Array): string {
  try {
    decodeRtpMidi(b);
  } catch (err) {
    expect(err).toBeInstanceOf(MidiDecodeError);
    return (err as Error).message;
  }
  throw new Error('decoded without error');
}

describe('RTP-MIDI: captured macOS packets', () => {
  // Hexdumps kept in laenzlinger/go-midi-rtp, rtp/rtp_test.go ("note on", "note off"), received from the
  // Apple MIDI Network Driver (the only peer its README says it was tested with; its own encoder writes
  // no journal). RTP header, command section 0x43 (J=1, LEN=3), then a journal with one chapter N:
  const NOTE_ON = hex('80 61 98 78 2f 0f 1d c5 7e 33 a0 24 43 90 3c 40 20 98 72 00 06 08 00 77 08');
  const NOTE_OFF = hex('80 61 98 79 2f 0f 24 92 7e 33 a0 24 43 80 3c 00 20 98 72 00 07 08 81 f1 3c 40');

  it('decodes the note on and its journal (OFFBITS: note 60 was last turned off)', () => {
    expect(decodeRtpMidi(NOTE_ON)).toEqual({
      ssrc: 0x7e33a024,
      sequence: 0x9878,
      timestamp: 0x2f0f1dc5,
      marker: false,
      payloadType: 0x61,
      phantom: false,
      commands: [{ delta: 0, bytes: u8(0x90, 60, 64) }],
      journal: {
        checkpoint: 0x9872,
        s: false,
        h: false,
        channels: [{ channel: 0, s: false, h: false, notes: { b: false, logs: [], off: [60] } }],
      },
    });
  });

  it('decodes the note off and its journal (a note log: note 60 was last turned on, velocity 64)', () => {
    const p = decodeRtpMidi(NOTE_OFF);
    expect(p.commands).toEqual([{ delta: 0, bytes: u8(0x80, 60, 0) }]);
    expect(p.journal?.channels[0]?.notes).toEqual({
      b: true,
      logs: [{ note: 60, velocity: 64, play: false, s: false }],
      off: [],
    });
  });

  it('re-encodes both byte for byte', () => {
    for (const packet of [NOTE_ON, NOTE_OFF]) {
      const p = decodeRtpMidi(packet);
      expect(encodeRtpMidi({ ...p, commands: p.commands })).toEqual(packet);
    }
  });
});

describe('RTP-MIDI: encoding', () => {
  it('writes a note on as macOS and go-midi-rtp do: 80 61, no M bit, short header, Z=0', () => {
    const out = encodeRtpMidi({ ...base, commands: [{ delta: 0, bytes: u8(0x90, 0x3c, 0x40) }] });
    expect(out).toEqual(hex(`${HEAD} 03 90 3c 40`));
  });

  it('uses running status between commands of the same status, and not when told', () => {
    const commands = [
      { delta: 0, bytes: u8(0x90, 60, 100) },
      { delta: 0, bytes: u8(0x90, 64, 100) },
      { delta: 3, bytes: u8(0xf8) },
      { delta: 3, bytes: u8(0x90, 67, 100) },
      { delta: 3, bytes: u8(0xf6) },
      { delta: 3, bytes: u8(0x90, 72, 100) },
    ];
    expect(encodeRtpMidi({ ...base, commands })).toEqual(
      hex(`${HEAD} 80 11 90 3c 64 00 40 64 03 f8 00 43 64 00 f6 00 90 48 64`),
    );
    expect(encodeRtpMidi({ ...base, commands, runningStatus: false }).subarray(12, 16)).toEqual(
      hex('80 13 90 3c'),
    );
    expect(decodeRtpMidi(encodeRtpMidi({ ...base, commands })).commands).toEqual(commands);
  });

  it('sets Z and writes the first delta when the first command is late', () => {
    const out = encodeRtpMidi({ ...base, commands: [{ delta: 5, bytes: u8(0xb0, 7, 100) }] });
    expect(out.subarray(12)).toEqual(hex('24 05 b0 07 64'));
  });

  it('sends a lone 1-byte command with Z=1 and delta 0, which npm rtpmidi would otherwise skip', () => {
    const out = encodeRtpMidi({ ...base, commands: [{ delta: 0, bytes: u8(0xf8) }] });
    expect(out.subarray(12)).toEqual(hex('22 00 f8'));
    const npm = new MidiMessage().parseBuffer(Buffer.from(out));
    expect(npm.commands.map((c) => [...c.data])).toEqual([[0xf8]]);
    const bare = hex(`${HEAD} 01 f8`);
    expect(new MidiMessage().parseBuffer(Buffer.from(bare)).commands).toEqual([]);
    expect(decodeRtpMidi(bare).commands).toEqual([{ delta: 0, bytes: u8(0xf8) }]);
  });

  it('writes delta times as minimal 1-4 byte variable-length quantities', () => {
    const cases: [number, string][] = [
      [0x7f, '7f'],
      [0x80, '81 00'],
      [0x3fff, 'ff 7f'],
      [0x4000, '81 80 00'],
      [0x200000, '81 80 80 00'],
      [MAX_DELTA, 'ff ff ff 7f'],
    ];
    for (const [delta, wire] of cases) {
      const commands = [
        { delta: 0, bytes: u8(0xfa) },
        { delta, bytes: u8(0xfc) },
      ];
      const out = encodeRtpMidi({ ...base, commands });
      expect(out.subarray(13)).toEqual(hex(`fa ${wire} fc`));
      expect(decodeRtpMidi(out).commands[1]).toEqual({ delta, bytes: u8(0xfc) });
    }
  });

  it('switches to the long header past 15 list bytes', () => {
    const commands = Array.from({ length: 6 }, (_, k) => ({ delta: 0, bytes: u8(0x90 + k, 60, 1) }));
    const out = encodeRtpMidi({ ...base, commands });
    expect([...out.subarray(12, 14)]).toEqual([0x80, 23]); // B=1, LEN=23 (18 command + 5 delta bytes)
    expect(decodeRtpMidi(out).commands).toEqual(commands);
  });

  it('is read by npm rtpmidi, and reads what npm rtpmidi writes', () => {
    const commands = [
      { delta: 0, bytes: u8(0x90, 60, 100) },
      { delta: 200, bytes: u8(0x90, 62, 90) },
      { delta: 400, bytes: u8(0xe0, 0, 64) },
      { delta: 900, bytes: u8(0xf0, 0x7e, 0x7f, 0x09, 0x01, 0xf7) },
    ];
    const theirs = new MidiMessage().parseBuffer(Buffer.from(encodeRtpMidi({ ...base, commands })));
    expect([theirs.sequenceNumber, theirs.timestamp, theirs.ssrc]).toEqual([0x1234, 100, 0xcafe0001]);
    expect(theirs.commands.map((c) => [c.deltaTime, ...c.data])).toEqual([
      [0, 0x90, 60, 100],
      [200, 0x90, 62, 90],
      [200, 0xe0, 0, 64],
      [500, 0xf0, 0x7e, 0x7f, 0x09, 0x01, 0xf7],
    ]);
    // npm rtpmidi's encoder writes every delta below 127 as 0 (MidiMessage.js writes the delta one byte
    // ahead, then the command overwrites it) and corrupts larger ones: only deltas of 0 survive its trip.
    const npmCommands = commands.map((c, k) => ({ deltaTime: k, data: Buffer.from(c.bytes) }));
    const written = new MidiMessage()
      .mixin({ ssrc: 7, sequenceNumber: 9, timestamp: 11, commands: npmCommands })
      .generateBuffer().buffer;
    expect(new Uint8Array(written.subarray(12))).toEqual(
      hex('80 11 90 3c 64 00 3e 5a 00 e0 00 40 00 f0 7e 7f 09 01 f7'),
    );
    expect(decodeRtpMidi(new Uint8Array(written))).toMatchObject({
      ssrc: 7,
      sequence: 9,
      timestamp: 11,
      commands: commands.map((c) => ({ delta: 0, bytes: c.bytes })),
    });
  });

  it('refuses what it cannot send', () => {
    const bad: [Partial<RtpMidiSend>, RegExp][] = [
      [{ ssrc: 2 ** 32 }, /SSRC must be an integer in 0..4294967295/],
      [{ sequence: -1 }, /sequence number must be an integer in 0..65535/],
      [{ payloadType: 128 }, /payload type must be an integer in 0..127/],
      [
        { commands: [{ delta: 0, bytes: u8(0x90, 60) }] },
        /command 0 \(0x90 0x3c\) has 2 bytes; 0x90 takes 3/,
      ],
      [{ commands: [{ delta: 0, bytes: u8(0x90, 60, 0x80) }] }, /has status byte 0x80 at index 2/],
      [{ commands: [{ delta: 0, bytes: u8(0x3c, 1) }] }, /does not start with a status byte/],
      [{ commands: [{ delta: 0, bytes: u8(0xf4) }] }, /undefined System Common/],
      [{ commands: [{ delta: 0, bytes: u8(0xf0, 1, 2) }] }, /SysEx not closed by F7, F0 or F4/],
      [{ commands: [{ delta: 0, bytes: u8(0xf8, 0) }] }, /has 2 bytes; 0xf8 takes 1/],
      [
        {
          commands: [
            { delta: 5, bytes: u8(0xf8) },
            { delta: 4, bytes: u8(0xf8) },
          ],
        },
        /delta 4 of command 1 must be 5../,
      ],
      [{ commands: [{ delta: 0.5, bytes: u8(0xf8) }] }, /delta of command 0 must be an integer/],
      [{ commands: [{ delta: MAX_DELTA + 1, bytes: u8(0xf8) }] }, /delta 268435456 of command 0/],
      [
        {
          commands: [
            { delta: 0, bytes: new Uint8Array(4097).fill(1, 1, -1).fill(0xf0, 0, 1).fill(0xf7, -1) },
          ],
        },
        /MIDI list of 4097 bytes exceeds LEN's 4095/,
      ],
    ];
    for (const [change, re] of bad) {
      const p = { ...base, commands: [], ...change } as RtpMidiSend;
      expect(() => encodeRtpMidi(p)).toThrow(re);
      expect(() => encodeRtpMidi(p)).toThrow(MidiEncodeError);
    }
  });
});

describe('RTP-MIDI: decoding', () => {
  it('restores running status, keeps it across real-time, and sums deltas from the packet timestamp', () => {
    const p = decodeRtpMidi(hex(`${HEAD} 2c 02 b0 07 64 03 0a 7f 01 f8 05 40 00`));
    expect(p.commands).toEqual([
      { delta: 2, bytes: u8(0xb0, 7, 100) },
      { delta: 5, bytes: u8(0xb0, 10, 127) },
      { delta: 6, bytes: u8(0xf8) },
      { delta: 11, bytes: u8(0xb0, 64, 0) },
    ]);
  });

  it('flags SysEx segments and restores a dropped F7 (F5)', () => {
    const p = decodeRtpMidi(
      hex(
        `${HEAD} 8f 00 f0 01 02 f0 00 f7 03 f0 00 f7 04 f7 00 f7 05 f4 00 f0 06 f5 00 f7 f4`.replace(
          '8f 00',
          '80 17',
        ),
      ),
    );
    expect(p.commands.map((c) => [c.segment, [...c.bytes]])).toEqual([
      ['first', [0xf0, 1, 2, 0xf0]],
      ['middle', [0xf7, 3, 0xf0]],
      ['last', [0xf7, 4, 0xf7]],
      ['cancel', [0xf7, 5, 0xf4]],
      [undefined, [0xf0, 6, 0xf7]],
      ['cancel', [0xf7, 0xf4]],
    ]);
  });

  it('reads undefined System Common F4/F5 up to their closing F7, and tolerates padding, CSRC and extension', () => {
    expect(decodeRtpMidi(hex(`${HEAD} 04 f5 01 02 f7`)).commands).toEqual([
      { delta: 0, bytes: u8(0xf5, 1, 2, 0xf7) },
    ]);
    // V=2 P=1 X=1 CC=1, then 1 CSRC, a 1-word extension, the MIDI section and 3 bytes of padding.
    const odd = hex(
      'b1 e1 00 07 00 00 00 01 00 00 00 02 00 00 00 09 be de 00 01 aa bb cc dd 03 90 3c 40 00 00 03',
    );
    expect(decodeRtpMidi(odd)).toMatchObject({
      marker: true,
      sequence: 7,
      ssrc: 2,
      commands: [{ bytes: u8(0x90, 60, 64) }],
    });
  });

  // name | bytes (hex) | expected reason
  const cases = `
    short packet | 80 61 00 01 00 00 | RTP-MIDI packet of 6 bytes is shorter than its 12-byte RTP header
    RTP version 1 | 40 ${HEAD.slice(3)} 00 | RTP version 1 at offset 0; RTP-MIDI uses version 2
    RTP version 3 | c0 ${HEAD.slice(3)} 00 | RTP version 3 at offset 0
    padding too long | a0 ${HEAD.slice(3)} 00 09 | RTP padding count 9 at offset 13 does not fit
    zero padding | a0 ${HEAD.slice(3)} 00 00 | RTP padding count 0 at offset 13
    CSRC past the end | 83 ${HEAD.slice(3)} 00 | RTP header ends at offset 24, leaving no MIDI command section
    extension past the end | 90 ${HEAD.slice(3)} be de | RTP header extension at offset 12 runs past the end
    LEN beyond the packet | ${HEAD} 05 90 3c 40 | MIDI list LEN 5 at offset 12 runs past the end of the packet (3 bytes left)
    long LEN beyond the packet | ${HEAD} 81 00 90 | MIDI list LEN 256 at offset 12 runs past the end
    cut long header | ${HEAD} 80 | long MIDI command section header at offset 12 is cut off
    delta time of 5 bytes | ${HEAD} 27 81 81 81 81 01 f8 00 | delta time at offset 13 is longer than 4 bytes (RFC 6295 §3)
    delta past the list | ${HEAD} 22 81 81 | delta time at offset 13 runs past the end of the MIDI list
    delta with no command | ${HEAD} 04 90 3c 40 00 | delta time at offset 16 ends the MIDI list with no command after it
    running status without status | ${HEAD} 02 3c 40 | data byte 0x3c at offset 13 with no running status (RFC 6295 §3.2)
    running status after system common | ${HEAD} 06 f6 00 3c 40 00 00 | data byte 0x3c at offset 15 with no running status
    truncated command | ${HEAD} 02 90 3c | command 0x90 at offset 13 needs 2 data bytes; the MIDI list ends at offset 15
    status inside data | ${HEAD} 03 90 3c 90 | status byte 0x90 at offset 15 inside command 0x90 at offset 13
    unclosed SysEx | ${HEAD} 03 f0 01 02 | SysEx at offset 13 has no closing F7, F0 or F4 before the end
    SysEx closed by real-time | ${HEAD} 03 f0 01 f8 | SysEx at offset 13 is closed by 0xf8 at offset 15
    F4 without F7 | ${HEAD} 02 f4 01 | undefined System Common 0xf4 at offset 13 is not closed by F7
    bytes after the list | ${HEAD} 01 f8 00 | 1 unexpected bytes at offset 14 after the MIDI list (J is 0)
    journal LENGTH past the end | ${HEAD} 41 f8 20 00 01 00 09 08 00 77 | channel journal for channel 0 (LENGTH 9) at offset 17 needs 9 bytes but only 5 remain
    journal header cut | ${HEAD} 41 f8 20 00 | recovery journal header at offset 14 needs 3 bytes but only 2 remain
  `
    .trim()
    .split('\n')
    .map((line) => line.split(' | ').map((part) => part.trim()) as [string, string, string]);
  for (const [name, input, expected] of cases) {
    it(`reports ${name}`, () => {
      expect(reason(hex(input))).toContain(expected);
    });
  }

  it('survives seeded random bytes: a packet or a MidiDecodeError, with output bounded by the input', () => {
    let seed = 0xc0ffee;
    const next = (): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed >>> 16;
    };
    const pool = [u8(0x90, 60, 1), u8(0x80, 60, 0), u8(0xb0, 7, 9), u8(0xc0, 3), u8(0xf8), u8(0xf0, 1, 0xf7)];
    let decoded = 0;
    for (let i = 0; i < 10000; i++) {
      let b: Uint8Array;
      if (i % 2 === 0) {
        // A valid packet with one byte changed: mostly still decodable, so the deep paths run.
        const commands = Array.from({ length: 1 + (next() % 8) }, (_, k) => ({
          delta: k,
          bytes: pool[next() % 6]!,
        }));
        b = encodeRtpMidi({ ...base, commands });
        b[next() % b.length] = next() & 0xff;
      } else {
        b = Uint8Array.from({ length: next() % 80 }, () => next() & 0xff);
        if (b.length > 0 && i % 3 !== 0) b[0] = 0x80 | (b[0]! & 0x3f);
      }
      const n = b.length;
      try {
        const p = decodeRtpMidi(b);
        decoded++;
        expect(p.commands.length).toBeLessThanOrEqual(n);
        for (const c of p.commands) expect(c.bytes.length).toBeLessThanOrEqual(n);
      } catch (err) {
        expect(err).toBeInstanceOf(MidiDecodeError);
      }
    }
    expect(decoded).toBeGreaterThan(1000);
  });
});

describe('SysexReassembler', () => {
  const seg = (segment: RtpMidiCommand['segment'], ...b: number[]): RtpMidiCommand =>
    segment ? { delta: 0, bytes: u8(...b), segment } : { delta: 0, bytes: u8(...b) };

  it('joins first, middle and last segments across packets into one F0…F7 message', () => {
    const r = new SysexReassembler();
    expect(r.push(seg('first', 0xf0, 0x7e, 1, 0xf0), 10)).toEqual({});
    expect(r.pending).toBe(true);
    expect(r.push(seg('middle', 0xf7, 2, 3, 0xf0), 11)).toEqual({});
    expect(r.push(seg(undefined, 0x90, 60, 1), 11)).toEqual({}); // not SysEx: ignored
    expect(r.push(seg('last', 0xf7, 4, 0xf7), 12)).toEqual({ complete: u8(0xf0, 0x7e, 1, 2, 3, 4, 0xf7) });
    expect(r.pending).toBe(false);
    expect(r.push(seg(undefined, 0xf0, 9, 0xf7))).toEqual({ complete: u8(0xf0, 9, 0xf7) });
  });

  it('reports and discards a cancel, segments out of order, a gap and an interrupted message', () => {
    const r = new SysexReassembler();
    r.push(seg('first', 0xf0, 1, 0xf0));
    const cancelled = r.push(seg('cancel', 0xf7, 0xf4));
    expect(cancelled.dropped).toBeInstanceOf(MidiDecodeError);
    expect(cancelled.dropped?.message).toBe('Malformed MIDI: SysEx cancelled by the sender (F4); discarded');
    expect(r.push(seg('middle', 0xf7, 2, 0xf0)).dropped?.message).toContain(
      'SysEx middle segment with no first segment before it',
    );
    expect(r.push(seg('last', 0xf7, 2, 0xf7)).dropped?.message).toContain(
      'SysEx last segment with no first segment',
    );
    r.push(seg('first', 0xf0, 1, 0xf0), 0xffff);
    r.push(seg('middle', 0xf7, 2, 0xf0), 0); // sequence numbers wrap: no gap
    const gap = r.push(seg('last', 0xf7, 3, 0xf7), 2);
    expect(gap).toEqual({ dropped: expect.any(MidiDecodeError) });
    expect(gap.dropped?.message).toContain('packet 2 follows 0: segments lost; discarded');
    r.push(seg('first', 0xf0, 1, 0xf0));
    const restarted = r.push(seg(undefined, 0xf0, 5, 0xf7));
    expect(restarted.dropped?.message).toContain('a new SysEx began before the previous one ended');
    expect(restarted.complete).toEqual(u8(0xf0, 5, 0xf7));
    r.push(seg('first', 0xf0, 1, 0xf0));
    expect(r.abort('session ended').dropped?.message).toBe('Malformed MIDI: session ended; SysEx discarded');
    expect(r.abort('again')).toEqual({});
  });

  it('drops a message over the size cap, ignores its remaining segments, then works again', () => {
    const r = new SysexReassembler({ maxBytes: 8 });
    r.push(seg('first', 0xf0, 1, 2, 3, 0xf0));
    expect(r.push(seg('middle', 0xf7, 4, 5, 6, 7, 8, 0xf0)).dropped?.message).toContain(
      'SysEx longer than the limit of 8 bytes; discarded',
    );
    expect(r.push(seg('middle', 0xf7, 8, 0xf0))).toEqual({});
    expect(r.push(seg('last', 0xf7, 9, 0xf7))).toEqual({});
    expect(r.push(seg(undefined, 0xf0, 1, 2, 3, 4, 5, 6, 0xf7)).complete).toHaveLength(8);
    expect(r.push(seg(undefined, 0xf0, 1, 2, 3, 4, 5, 6, 7, 0xf7)).dropped).toBeInstanceOf(MidiDecodeError);
  });

  it('never holds more than its cap whatever segments arrive (seeded fuzz)', () => {
    let seed = 42;
    const next = (): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed >>> 16;
    };
    const kinds = [undefined, 'first', 'middle', 'last', 'cancel'] as const;
    const r = new SysexReassembler({ maxBytes: 300 });
    for (let i = 0; i < 5000; i++) {
      const kind = kinds[next() % kinds.length];
      const data = Array.from({ length: next() % 120 }, () => next() & 0x7f);
      const head = kind === undefined || kind === 'first' ? 0xf0 : 0xf7;
      const tail = kind === 'first' || kind === 'middle' ? 0xf0 : kind === 'cancel' ? 0xf4 : 0xf7;
      const out = r.push(seg(kind, head, ...data, tail), next() % 4 === 0 ? next() : undefined);
      if (out.complete) {
        expect(out.complete.length).toBeLessThanOrEqual(300);
        expect([out.complete[0], out.complete.at(-1)]).toEqual([0xf0, 0xf7]);
      }
      if (out.dropped) expect(out.dropped).toBeInstanceOf(MidiDecodeError);
    }
  });
});
