import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import {
  clockEstimate,
  decodeSessionPacket,
  encodeSessionPacket,
  isSessionPacket,
  type SessionPacket,
} from '../../../../adapters/midi/rtp/session-packets.js';
import { MidiDecodeError, MidiEncodeError } from '../../../../daemon/kernel/errors.js';

// npm rtpmidi 1.0.0 (a devDependency and one of our peers) as the independent reference codec.
const require = createRequire(import.meta.url);
(require('rtpmidi/src/logger.js') as { silent: boolean }).silent = true;
interface NpmControl {
  mixin(o: object): NpmControl;
  generateBuffer(): NpmControl;
  parseBuffer(b: Buffer): NpmControl;
  buffer: Buffer;
  command: string;
  token: number;
  ssrc: number;
  name: string;
  sequenceNumber: number;
  count: number;
  timestamp1: Buffer;
}
const ControlMessage = require('rtpmidi/src/ControlMessage.js') as new () => NpmControl;
const npmEncode = (o: object): Uint8Array =>
  new Uint8Array(new ControlMessage().mixin(o).generateBuffer().buffer);
const npmDecode = (b: Uint8Array): NpmControl => new ControlMessage().parseBuffer(Buffer.from(b));

const bytes = (...parts: (number | string | ArrayLike<number>)[]): Uint8Array =>
  Uint8Array.from(
    parts.flatMap((p) =>
      typeof p === 'string'
        ? [...p].map((c) => c.charCodeAt(0))
        : typeof p === 'number'
          ? [p]
          : Array.from(p),
    ),
  );
const u32 = (n: number): number[] => [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];

/** The decode error's message, failing the test if anything else (or nothing) is thrown. */
function reason(b: Uint8Array): string {
  try {
    decodeSessionPacket(b);
  } catch (err) {
    expect(err).toBeInstanceOf(MidiDecodeError);
    expect(err).toMatchObject({ code: 'PFM_ERR_MIDI_DECODE' });
    return (err as Error).message;
  }
  throw new Error('decoded without error');
}

// Apple's "MIDI Network Driver Protocol", figure 1-1: an invitation with the name "Session 1".
const IN_PACKET = bytes(0xff, 0xff, 'IN', u32(2), u32(0x1234abcd), u32(0xcafe0001), 'Session 1', 0);

describe('AppleMIDI session packets: exact bytes', () => {
  it('encodes and decodes IN with its name', () => {
    const p: SessionPacket = { command: 'IN', token: 0x1234abcd, ssrc: 0xcafe0001, name: 'Session 1' };
    expect(encodeSessionPacket(p)).toEqual(IN_PACKET);
    expect(decodeSessionPacket(IN_PACKET)).toEqual(p);
  });

  it('matches npm rtpmidi byte for byte for IN, OK and NO', () => {
    for (const [command, npm] of [
      ['IN', 'invitation'],
      ['OK', 'invitation_accepted'],
      ['NO', 'invitation_rejected'],
    ] as const) {
      const theirs = npmEncode({ command: npm, token: 7, ssrc: 0x80000001, name: 'Perfórmia' });
      const p = { command, token: 7, ssrc: 0x80000001, name: 'Perfórmia' } as SessionPacket;
      expect(encodeSessionPacket(p)).toEqual(theirs);
      expect(decodeSessionPacket(theirs)).toEqual(p);
    }
  });

  it('sends BY without a name (16 bytes, as Arduino-AppleMIDI) and reads npm rtpmidi BY with an empty one', () => {
    const by = encodeSessionPacket({ command: 'BY', token: 1, ssrc: 2, name: 'ignored' });
    expect(by).toEqual(bytes(0xff, 0xff, 'BY', u32(2), u32(1), u32(2)));
    expect(decodeSessionPacket(by)).toEqual({ command: 'BY', token: 1, ssrc: 2 });
    const npmBy = npmEncode({ command: 'end', token: 1, ssrc: 2, name: '' });
    expect(npmBy).toHaveLength(17);
    expect(decodeSessionPacket(npmBy)).toEqual({ command: 'BY', token: 1, ssrc: 2, name: '' });
    expect(npmDecode(by)).toMatchObject({ command: 'end', token: 1, ssrc: 2 });
  });

  it('reads a nameless NO (mt32-pi) and a name padded with NULs', () => {
    expect(decodeSessionPacket(bytes(0xff, 0xff, 'NO', u32(2), u32(9), u32(8)))).toEqual({
      command: 'NO',
      token: 9,
      ssrc: 8,
    });
    expect(decodeSessionPacket(bytes(IN_PACKET, 0, 0))).toMatchObject({ name: 'Session 1' });
  });

  it('encodes CK with count, 3 zero bytes and three 64-bit timestamps', () => {
    const p: SessionPacket = {
      command: 'CK',
      ssrc: 0x01020304,
      count: 1,
      timestamps: [0x0102030405060708n, 0xffffffffffffffffn, 0n],
    };
    const out = encodeSessionPacket(p);
    expect(out).toEqual(
      bytes(
        0xff,
        0xff,
        'CK',
        u32(0x01020304),
        [1, 0, 0, 0],
        [1, 2, 3, 4, 5, 6, 7, 8],
        Array(8).fill(255),
        Array(8).fill(0),
      ),
    );
    expect(decodeSessionPacket(out)).toEqual(p);
    const theirs = npmDecode(out);
    expect([theirs.command, theirs.count, theirs.ssrc]).toEqual(['synchronization', 1, 0x01020304]);
    expect(theirs.timestamp1).toEqual(Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]));
  });

  it('ignores the unused CK bytes', () => {
    const ck = encodeSessionPacket({ command: 'CK', ssrc: 1, count: 2, timestamps: [1n, 2n, 3n] });
    ck.set([0xaa, 0xbb, 0xcc], 9);
    expect(decodeSessionPacket(ck)).toMatchObject({ count: 2, timestamps: [1n, 2n, 3n] });
  });

  it('puts the RS sequence number in the upper half of its 32-bit field, as Apple and npm rtpmidi do', () => {
    const rs = encodeSessionPacket({ command: 'RS', ssrc: 0xdeadbeef, sequence: 0x9879 });
    expect(rs).toEqual(bytes(0xff, 0xff, 'RS', u32(0xdeadbeef), [0x98, 0x79, 0, 0]));
    expect(npmEncode({ command: 'receiver_feedback', ssrc: 0xdeadbeef, sequenceNumber: 0x9879 })).toEqual(rs);
    expect(npmDecode(rs).sequenceNumber).toBe(0x9879);
    // rtpmidid writes the sequence number in the lower half; that half is ignored.
    expect(decodeSessionPacket(bytes(0xff, 0xff, 'RS', u32(5), [0x98, 0x79, 0x12, 0x34]))).toEqual({
      command: 'RS',
      ssrc: 5,
      sequence: 0x9879,
    });
  });

  it('encodes and decodes RL (bitrate receive limit)', () => {
    const rl = encodeSessionPacket({ command: 'RL', ssrc: 3, limit: 31250 });
    expect(rl).toEqual(bytes(0xff, 0xff, 'RL', u32(3), u32(31250)));
    expect(decodeSessionPacket(rl)).toEqual({ command: 'RL', ssrc: 3, limit: 31250 });
  });

  it('tells session packets from RTP by the 0xFFFF signature', () => {
    expect(isSessionPacket(IN_PACKET)).toBe(true);
    expect(isSessionPacket(bytes(0xff, 0xff))).toBe(true);
    expect(isSessionPacket(bytes(0x80, 0x61, 0, 0))).toBe(false);
    expect(isSessionPacket(bytes(0xff))).toBe(false);
    expect(isSessionPacket(bytes(0xff, 0xfe, 'IN'))).toBe(false);
  });
});

describe('AppleMIDI session packets: malformed input', () => {
  const head = (cmd: string, version = 2): Uint8Array => bytes(0xff, 0xff, cmd, u32(version), u32(1), u32(2));
  const cases: [string, Uint8Array, string][] = [
    ['empty', bytes(), 'session packet of 0 bytes is shorter than its 4-byte signature and command'],
    ['3 bytes', bytes(0xff, 0xff, 0x49), 'session packet of 3 bytes is shorter than its 4-byte signature'],
    ['no signature', bytes(0xff, 0xfe, 'IN', u32(2)), 'no 0xFFFF signature at offset 0 (found 0xfffe)'],
    ['unknown command', bytes(0xff, 0xff, 'ZZ', u32(2)), 'unknown session command "ZZ" at offset 2'],
    ['unprintable command', bytes(0xff, 0xff, 0x01, 0x80), 'unknown session command "0x0180" at offset 2'],
    [
      'short IN',
      bytes(0xff, 0xff, 'IN', u32(2), u32(1)),
      'IN packet of 12 bytes ends before its 16-byte header',
    ],
    ['version 3', head('OK', 3), 'protocol version 3 at offset 4 in OK; only version 2 exists'],
    ['version 0', head('BY', 0), 'protocol version 0 at offset 4 in BY'],
    [
      'name without NUL',
      bytes(head('IN'), 'abc'),
      'name at offset 16 has no NUL terminator before the end of the 19-byte packet',
    ],
    ['junk after the NUL', bytes(head('IN'), 'ab', 0, 'x'), '1 unexpected bytes at offset 19 after the name'],
    ['invalid UTF-8 name', bytes(head('IN'), 0xc3, 0x28, 0), 'name at offset 16 is not valid UTF-8'],
    [
      'short CK',
      bytes(0xff, 0xff, 'CK', u32(1), Array(20).fill(0)),
      'CK packet of 28 bytes; it has exactly 36',
    ],
    [
      'long CK',
      bytes(0xff, 0xff, 'CK', u32(1), Array(33).fill(0)),
      'CK packet of 41 bytes; it has exactly 36',
    ],
    [
      'CK count 3',
      bytes(0xff, 0xff, 'CK', u32(1), 3, Array(27).fill(0)),
      'CK count 3 at offset 8; only 0, 1 and 2 exist',
    ],
    ['short RS', bytes(0xff, 0xff, 'RS', u32(1), 0x12, 0x34), 'RS packet of 10 bytes; it has exactly 12'],
    ['long RL', bytes(0xff, 0xff, 'RL', u32(1), u32(2), 0), 'RL packet of 13 bytes; it has exactly 12'],
  ];
  for (const [name, input, expected] of cases) {
    it(`reports ${name}`, () => {
      expect(reason(input)).toContain(expected);
    });
  }

  it('refuses to encode what the wire cannot carry', () => {
    const bad: [unknown, RegExp][] = [
      [{ command: 'IN', token: 1, ssrc: -1 }, /SSRC must be an integer in 0..4294967295, not -1/],
      [{ command: 'IN', token: 2 ** 32, ssrc: 1 }, /IN initiator token must be an integer/],
      [{ command: 'OK', token: 1, ssrc: 1, name: 'a\0b' }, /OK name must be a string without NUL/],
      [{ command: 'CK', ssrc: 1, count: 3, timestamps: [0n, 0n, 0n] }, /CK count must be an integer in 0..2/],
      [{ command: 'CK', ssrc: 1, count: 0, timestamps: [-1n, 0n, 0n] }, /CK timestamp 1 must be a bigint/],
      [
        { command: 'CK', ssrc: 1, count: 0, timestamps: [0n, 1n << 64n, 0n] },
        /CK timestamp 2 must be a bigint/,
      ],
      [{ command: 'RS', ssrc: 1, sequence: 0x10000 }, /RS sequence number must be an integer in 0..65535/],
      [{ command: 'XX', ssrc: 1 }, /unknown session command "XX"/],
    ];
    for (const [p, re] of bad) {
      expect(() => encodeSessionPacket(p as SessionPacket)).toThrow(re);
      expect(() => encodeSessionPacket(p as SessionPacket)).toThrow(MidiEncodeError);
    }
  });

  it('survives seeded random bytes: a packet or a MidiDecodeError, nothing else', () => {
    let seed = 0x5eed;
    const next = (): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed >>> 16;
    };
    const commands = ['IN', 'OK', 'NO', 'BY', 'CK', 'RS', 'RL', 'ZZ'];
    let decoded = 0;
    for (let i = 0; i < 5000; i++) {
      const n = next() % 48;
      const b = Uint8Array.from({ length: n }, () => next() & 0xff);
      if (n >= 4 && i % 2 === 0) b.set([0xff, 0xff, ...bytes(commands[next() % commands.length]!)], 0);
      if (n >= 8 && i % 4 === 0) b.set(u32(2), 4);
      try {
        decodeSessionPacket(b);
        decoded++;
      } catch (err) {
        expect(err).toBeInstanceOf(MidiDecodeError);
      }
    }
    expect(decoded).toBeGreaterThan(0);
  });
});

describe('clock sync maths', () => {
  it('estimates round trip, latency and offset from one CK exchange', () => {
    // Initiator sends CK0 at 1000 (its clock); responder answers at 50000 (its clock); CK1 back at 1010.
    expect(clockEstimate(1000n, 50000n, 1010n)).toEqual({ roundTrip: 10n, latency: 5n, offset: -48995n });
    // The responder's 50000 is the initiator's 1005: add the offset.
    expect(50000n + clockEstimate(1000n, 50000n, 1010n)!.offset).toBe(1005n);
  });

  it('works with full 64-bit clocks and refuses an exchange that runs backwards', () => {
    const big = 0xfffffffffffff000n;
    expect(clockEstimate(big, 7n, big + 40n)).toEqual({
      roundTrip: 40n,
      latency: 20n,
      offset: big + 20n - 7n,
    });
    expect(clockEstimate(100n, 5n, 99n)).toBeUndefined();
  });
});
