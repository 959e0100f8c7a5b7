import { describe, expect, it } from 'vitest';
import {
  decodeMidi,
  describeMidi,
  encodeMidi,
  MidiParser,
  noteName,
} from '../../../../adapters/midi/codec.js';
import { MIDI_KINDS, type MidiMessage } from '../../../../adapters/midi/types.js';
import { MidiEncodeError } from '../../../../daemon/kernel/errors.js';

const u8 = (...b: number[]): Uint8Array => Uint8Array.from(b);

/** Everything a parser reports, in order: messages as themselves, errors as `error: <reason>`. */
function run(chunks: Uint8Array[], parser = new MidiParser()): (MidiMessage | string)[] {
  const events: (MidiMessage | string)[] = [];
  for (const chunk of chunks) {
    parser.push(
      chunk,
      (m) => events.push(m),
      (r) => events.push(`error: ${r}`),
    );
  }
  return events;
}

/** `bytes` cut into chunks of `size` bytes. */
function chunked(bytes: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; at += size) out.push(bytes.subarray(at, at + size));
  return out;
}

/** One message of each kind (some several times, at their limits), and its exact wire bytes. */
const CASES: [MidiMessage, number[]][] = [
  [{ kind: 'noteoff', channel: 1, note: 60, velocity: 64 }, [0x80, 60, 64]],
  [{ kind: 'noteoff', channel: 16, note: 0, velocity: 127 }, [0x8f, 0, 127]],
  [{ kind: 'noteon', channel: 1, note: 60, velocity: 100 }, [0x90, 60, 100]],
  [{ kind: 'noteon', channel: 16, note: 127, velocity: 1 }, [0x9f, 127, 1]],
  [{ kind: 'polyaftertouch', channel: 3, note: 64, pressure: 5 }, [0xa2, 64, 5]],
  [{ kind: 'cc', channel: 10, controller: 7, value: 100 }, [0xb9, 7, 100]],
  [{ kind: 'cc', channel: 2, controller: 127, value: 0 }, [0xb1, 127, 0]],
  [{ kind: 'program', channel: 1, program: 0 }, [0xc0, 0]],
  [{ kind: 'program', channel: 12, program: 127 }, [0xcb, 127]],
  [{ kind: 'channelaftertouch', channel: 2, pressure: 127 }, [0xd1, 127]],
  [{ kind: 'pitchbend', channel: 1, value: 8192 }, [0xe0, 0x00, 0x40]],
  [{ kind: 'pitchbend', channel: 1, value: 0 }, [0xe0, 0x00, 0x00]],
  [{ kind: 'pitchbend', channel: 16, value: 16383 }, [0xef, 0x7f, 0x7f]],
  [{ kind: 'pitchbend', channel: 5, value: 1234 }, [0xe4, 0x52, 0x09]],
  [{ kind: 'sysex', data: u8(0xf0, 0x7e, 0x7f, 0x06, 0x01, 0xf7) }, [0xf0, 0x7e, 0x7f, 0x06, 0x01, 0xf7]],
  [{ kind: 'sysex', data: u8(0xf0, 0xf7) }, [0xf0, 0xf7]],
  [{ kind: 'mtc', piece: 3, value: 5 }, [0xf1, 0x35]],
  [{ kind: 'mtc', piece: 7, value: 15 }, [0xf1, 0x7f]],
  [{ kind: 'mtc', piece: 0, value: 0 }, [0xf1, 0x00]],
  [{ kind: 'songposition', beats: 300 }, [0xf2, 0x2c, 0x02]],
  [{ kind: 'songposition', beats: 16383 }, [0xf2, 0x7f, 0x7f]],
  [{ kind: 'songselect', song: 9 }, [0xf3, 9]],
  [{ kind: 'tunerequest' }, [0xf6]],
  [{ kind: 'clock' }, [0xf8]],
  [{ kind: 'start' }, [0xfa]],
  [{ kind: 'continue' }, [0xfb]],
  [{ kind: 'stop' }, [0xfc]],
  [{ kind: 'activesensing' }, [0xfe]],
  [{ kind: 'reset' }, [0xff]],
];

describe('MIDI codec: every kind both ways', () => {
  it('covers every kind of the model', () => {
    expect(new Set(CASES.map(([m]) => m.kind))).toEqual(new Set(MIDI_KINDS));
  });

  for (const [m, wire] of CASES) {
    it(`${describeMidi(m)} ⇄ [${wire.map((b) => b.toString(16)).join(' ')}]`, () => {
      expect([...encodeMidi(m)]).toEqual(wire);
      expect(decodeMidi(Uint8Array.from(wire))).toEqual([m]);
      expect(decodeMidi(encodeMidi(m))).toEqual([m]);
    });
  }

  it('decodes all the cases back to back, whole and one byte at a time', () => {
    const all = Uint8Array.from(CASES.flatMap(([, wire]) => wire));
    const expected = CASES.map(([m]) => m);
    expect(decodeMidi(all)).toEqual(expected);
    expect(run(chunked(all, 1))).toEqual(expected);
  });

  it('a note on with velocity 0 is sent as given and decoded as a note off with velocity 0', () => {
    const bytes = encodeMidi({ kind: 'noteon', channel: 4, note: 62, velocity: 0 });
    expect([...bytes]).toEqual([0x93, 62, 0]);
    expect(decodeMidi(bytes)).toEqual([{ kind: 'noteoff', channel: 4, note: 62, velocity: 0 }]);
  });

  it('encodes SysEx as a copy, from a Buffer too', () => {
    const data = u8(0xf0, 0x43, 0x10, 0xf7);
    const out = encodeMidi({ kind: 'sysex', data });
    data[1] = 0x00;
    expect([...out]).toEqual([0xf0, 0x43, 0x10, 0xf7]);
    const buf = Buffer.from([0xf0, 1, 2, 0xf7]);
    const fromBuf = encodeMidi({ kind: 'sysex', data: buf });
    buf[1] = 9;
    expect([...fromBuf]).toEqual([0xf0, 1, 2, 0xf7]);
    expect(fromBuf.constructor).toBe(Uint8Array);
  });
});

describe('MIDI codec: encode range checks', () => {
  const sysex = (...b: number[]): MidiMessage => ({ kind: 'sysex', data: Uint8Array.from(b) });
  const bad = (m: unknown): MidiMessage => m as MidiMessage;
  const cases: [MidiMessage, string][] = [
    [{ kind: 'noteon', channel: 0, note: 60, velocity: 1 }, 'noteon channel 0 is outside 1..16'],
    [{ kind: 'noteon', channel: 17, note: 60, velocity: 1 }, 'noteon channel 17 is outside 1..16'],
    [
      { kind: 'noteon', channel: 1.5, note: 60, velocity: 1 },
      'noteon channel 1.5 is not an integer in 1..16',
    ],
    [{ kind: 'noteon', channel: 1, note: 128, velocity: 1 }, 'noteon note 128 is outside 0..127'],
    [{ kind: 'noteon', channel: 1, note: -1, velocity: 1 }, 'noteon note -1 is outside 0..127'],
    [{ kind: 'noteon', channel: 1, note: 60, velocity: 128 }, 'noteon velocity 128 is outside 0..127'],
    [
      { kind: 'noteon', channel: 1, note: 60, velocity: Number.NaN },
      'noteon velocity NaN is not an integer in 0..127',
    ],
    [
      { kind: 'noteon', channel: 1, note: 60, velocity: Infinity },
      'noteon velocity Infinity is not an integer in 0..127',
    ],
    [{ kind: 'noteoff', channel: 1, note: 60, velocity: 200 }, 'noteoff velocity 200 is outside 0..127'],
    [{ kind: 'noteoff', channel: -3, note: 60, velocity: 0 }, 'noteoff channel -3 is outside 1..16'],
    [
      { kind: 'polyaftertouch', channel: 1, note: 1, pressure: 128 },
      'polyaftertouch pressure 128 is outside 0..127',
    ],
    [
      { kind: 'polyaftertouch', channel: 1, note: 130, pressure: 1 },
      'polyaftertouch note 130 is outside 0..127',
    ],
    [{ kind: 'cc', channel: 1, controller: 128, value: 0 }, 'cc controller 128 is outside 0..127'],
    [{ kind: 'cc', channel: 1, controller: 7, value: 128 }, 'cc value 128 is outside 0..127'],
    [bad({ kind: 'cc', channel: 1, controller: 7, value: '5' }), 'cc value "5" is not an integer in 0..127'],
    [bad({ kind: 'cc', controller: 7, value: 5 }), 'cc channel undefined is not an integer in 1..16'],
    [{ kind: 'program', channel: 1, program: 128 }, 'program program 128 is outside 0..127'],
    [
      { kind: 'channelaftertouch', channel: 1, pressure: -1 },
      'channelaftertouch pressure -1 is outside 0..127',
    ],
    [{ kind: 'pitchbend', channel: 1, value: 16384 }, 'pitchbend value 16384 is outside 0..16383'],
    [{ kind: 'pitchbend', channel: 1, value: -1 }, 'pitchbend value -1 is outside 0..16383'],
    [
      { kind: 'pitchbend', channel: 1, value: 8192.5 },
      'pitchbend value 8192.5 is not an integer in 0..16383',
    ],
    [{ kind: 'pitchbend', channel: 99, value: 0 }, 'pitchbend channel 99 is outside 1..16'],
    [{ kind: 'songposition', beats: 16384 }, 'songposition beats 16384 is outside 0..16383'],
    [{ kind: 'songselect', song: 128 }, 'songselect song 128 is outside 0..127'],
    [{ kind: 'mtc', piece: 8, value: 0 }, 'mtc piece 8 is outside 0..7'],
    [{ kind: 'mtc', piece: 0, value: 16 }, 'mtc value 16 is outside 0..15'],
    [sysex(0x43, 1, 0xf7), 'sysex data must start with F0, not 0x43'],
    [sysex(0xf0, 1, 2), 'sysex data must end with F7, not 0x02'],
    [sysex(0xf0, 1, 0x80, 0xf7), 'sysex data byte 0x80 at index 2 is outside 0..0x7f'],
    [sysex(0xf0, 0xf8, 0xf7), 'sysex data byte 0xf8 at index 1 is outside 0..0x7f'],
    [sysex(0xf0), 'sysex data of 1 bytes is too short: it needs at least F0 and F7'],
    [sysex(), 'sysex data of 0 bytes is too short: it needs at least F0 and F7'],
    [bad({ kind: 'sysex', data: [0xf0, 0xf7] }), 'sysex data must be a Uint8Array, not an array'],
    [bad({ kind: 'sysex' }), 'sysex data must be a Uint8Array, not undefined'],
    [bad({ kind: 'foo' }), 'unknown MIDI kind "foo"'],
    [bad({ kind: 'toString' }), 'unknown MIDI kind "toString"'],
    [bad({}), 'unknown MIDI kind undefined'],
    [bad(null), 'message null is not an object'],
    [bad(7), 'message 7 is not an object'],
  ];
  for (const [m, reason] of cases) {
    it(reason, () => {
      let thrown: unknown;
      try {
        encodeMidi(m);
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(MidiEncodeError);
      expect(thrown).toMatchObject({ code: 'PFM_ERR_MIDI_ENCODE', message: `Cannot encode MIDI: ${reason}` });
    });
  }
});

describe('MIDI parser: running status', () => {
  /** 200 notes on channel 3 under one status byte; every 5th has velocity 0, so it is a note off. */
  const notes: number[] = [];
  const expected: MidiMessage[] = [];
  for (let k = 0; k < 200; k++) {
    const note = k % 128;
    const velocity = k % 5 === 0 ? 0 : (k % 127) + 1;
    notes.push(note, velocity);
    expected.push({ kind: velocity === 0 ? 'noteoff' : 'noteon', channel: 3, note, velocity });
  }
  const stream = u8(0x92, ...notes);

  it('decodes a long run of notes in one chunk', () => {
    expect(run([stream])).toEqual(expected);
  });

  it('decodes the same run cut in two at every position, and in chunks of 1, 2, 3 and 7 bytes', () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      expect(run([stream.subarray(0, cut), stream.subarray(cut)])).toEqual(expected);
    }
    for (const size of [1, 2, 3, 7]) expect(run(chunked(stream, size))).toEqual(expected);
  });

  it('runs one-data-byte and 14-bit messages too', () => {
    expect(decodeMidi(u8(0xc5, 1, 2, 3, 0xd0, 9, 10, 0xe1, 0, 0x40, 0x7f, 0x7f))).toEqual([
      { kind: 'program', channel: 6, program: 1 },
      { kind: 'program', channel: 6, program: 2 },
      { kind: 'program', channel: 6, program: 3 },
      { kind: 'channelaftertouch', channel: 1, pressure: 9 },
      { kind: 'channelaftertouch', channel: 1, pressure: 10 },
      { kind: 'pitchbend', channel: 2, value: 8192 },
      { kind: 'pitchbend', channel: 2, value: 16383 },
    ]);
  });

  it('is cancelled by system common messages (F1 F2 F3 F6) and by SysEx', () => {
    const noteon = { kind: 'noteon', channel: 1, note: 60, velocity: 64 };
    expect(run([u8(0x90, 60, 64, 0xf3, 5, 60, 64)])).toEqual([
      noteon,
      { kind: 'songselect', song: 5 },
      'error: data byte 0x3c at offset 5 follows no status byte (and no running status): ignored',
    ]);
    expect(run([u8(0x90, 60, 64, 0xf6, 60, 64)])).toEqual([
      noteon,
      { kind: 'tunerequest' },
      'error: data byte 0x3c at offset 4 follows no status byte (and no running status): ignored',
    ]);
    expect(run([u8(0x90, 60, 64, 0xf0, 1, 0xf7, 60, 64)])).toEqual([
      noteon,
      { kind: 'sysex', data: u8(0xf0, 1, 0xf7) },
      'error: data byte 0x3c at offset 6 follows no status byte (and no running status): ignored',
    ]);
    // System common messages take no running status themselves.
    expect(run([u8(0xf1, 0x35, 0x36), u8(0xf2, 1, 2, 3)])).toEqual([
      { kind: 'mtc', piece: 3, value: 5 },
      'error: data byte 0x36 at offset 2 follows no status byte (and no running status): ignored',
      { kind: 'songposition', beats: 257 },
      'error: data byte 0x03 at offset 3 follows no status byte (and no running status): ignored',
    ]);
  });

  it('is kept across real-time bytes, between messages and between data bytes', () => {
    expect(run([u8(0x90, 60, 64, 0xf8, 62, 0xfa, 65, 0xfe), u8(0xfc, 0, 0xf8, 0)])).toEqual([
      { kind: 'noteon', channel: 1, note: 60, velocity: 64 },
      { kind: 'clock' },
      { kind: 'start' },
      { kind: 'noteon', channel: 1, note: 62, velocity: 65 },
      { kind: 'activesensing' },
      { kind: 'stop' },
      { kind: 'clock' },
      { kind: 'noteoff', channel: 1, note: 0, velocity: 0 },
    ]);
  });

  it('is switched by a new channel status and forgotten by reset()', () => {
    const parser = new MidiParser();
    expect(run([u8(0x90, 60, 64, 0xb0, 7, 100, 10, 20)], parser)).toEqual([
      { kind: 'noteon', channel: 1, note: 60, velocity: 64 },
      { kind: 'cc', channel: 1, controller: 7, value: 100 },
      { kind: 'cc', channel: 1, controller: 10, value: 20 },
    ]);
    parser.reset();
    expect(run([u8(60, 64)], parser)).toEqual([
      'error: data byte 0x3c at offset 0 follows no status byte (and no running status): ignored',
    ]);
  });
});

describe('MIDI parser: SysEx reassembly and real-time interleaving', () => {
  /** A SysEx of `n` bytes in all (F0 and F7 included), data bytes cycling 0..127. */
  const sysexOf = (n: number): Uint8Array => {
    const b = new Uint8Array(n);
    for (let k = 1; k < n - 1; k++) b[k] = k % 128;
    b[0] = 0xf0;
    b[n - 1] = 0xf7;
    return b;
  };
  const small = sysexOf(12);

  it('reassembles one SysEx cut in two at every position (right after F0, right before F7 included)', () => {
    for (let cut = 0; cut <= small.length; cut++) {
      expect(run([small.subarray(0, cut), small.subarray(cut)])).toEqual([{ kind: 'sysex', data: small }]);
    }
    expect(run([small.subarray(0, 1), small.subarray(1, 11), small.subarray(11)])).toEqual([
      { kind: 'sysex', data: small },
    ]);
  });

  it('reassembles a 5000-byte SysEx from 1-byte chunks and from 1000 chunks of 5', () => {
    const big = sysexOf(5000);
    expect(run(chunked(big, 1))).toEqual([{ kind: 'sysex', data: big }]);
    expect(run(chunked(big, 5))).toEqual([{ kind: 'sysex', data: big }]);
  });

  it('emits real-time bytes inside a SysEx at once, before the SysEx, and leaves them out of it', () => {
    expect(run([u8(0xf0, 0x41, 0xf8, 0x10), u8(0xfe, 0x42, 0xf8), u8(0xf7, 0xfa)])).toEqual([
      { kind: 'clock' },
      { kind: 'activesensing' },
      { kind: 'clock' },
      { kind: 'sysex', data: u8(0xf0, 0x41, 0x10, 0x42, 0xf7) },
      { kind: 'start' },
    ]);
  });

  it('emits real-time bytes inside a note at once, before the note', () => {
    expect(run([u8(0x90, 0xf8, 60, 0xfa), u8(0xfb, 100, 0xfc)])).toEqual([
      { kind: 'clock' },
      { kind: 'start' },
      { kind: 'continue' },
      { kind: 'noteon', channel: 1, note: 60, velocity: 100 },
      { kind: 'stop' },
    ]);
    expect(run([u8(0xf2, 0xff, 5, 0xf8, 1)])).toEqual([
      { kind: 'reset' },
      { kind: 'clock' },
      { kind: 'songposition', beats: 133 },
    ]);
  });

  it('hands out each SysEx as its own copy', () => {
    const seen: Uint8Array[] = [];
    const parser = new MidiParser();
    parser.push(
      u8(0xf0, 1, 2, 0xf7, 0xf0, 3, 0xf7),
      (m) => m.kind === 'sysex' && seen.push(m.data),
      () => {},
    );
    expect(seen.map((d) => [...d])).toEqual([
      [0xf0, 1, 2, 0xf7],
      [0xf0, 3, 0xf7],
    ]);
    expect(seen[0]!.buffer).not.toBe(seen[1]!.buffer);
  });

  it('accepts a SysEx of exactly maxSysexBytes, 65536 by default', () => {
    const parser = new MidiParser();
    expect(parser.maxSysexBytes).toBe(65536);
    const max = sysexOf(65536);
    expect(run(chunked(max, 4096), parser)).toEqual([{ kind: 'sysex', data: max }]);
    expect(parser.bufferedBytes).toBe(65536);
    const tiny = new MidiParser({ maxSysexBytes: 2 });
    expect(run([u8(0xf0, 0xf7)], tiny)).toEqual([{ kind: 'sysex', data: u8(0xf0, 0xf7) }]);
  });
});

describe('MIDI codec: describeMidi and noteName', () => {
  it('names notes in scientific pitch notation, middle C (60) being C4', () => {
    expect([0, 1, 59, 60, 61, 69, 127].map(noteName)).toEqual(['C-1', 'C#-1', 'B3', 'C4', 'C#4', 'A4', 'G9']);
  });

  it('describes messages in a few words', () => {
    const texts = [
      describeMidi({ kind: 'noteon', channel: 1, note: 60, velocity: 100 }),
      describeMidi({ kind: 'polyaftertouch', channel: 2, note: 61, pressure: 3 }),
      describeMidi({ kind: 'cc', channel: 2, controller: 7, value: 100 }),
      describeMidi({ kind: 'program', channel: 3, program: 5 }),
      describeMidi({ kind: 'channelaftertouch', channel: 3, pressure: 5 }),
      describeMidi({ kind: 'pitchbend', channel: 1, value: 0 }),
      describeMidi({ kind: 'pitchbend', channel: 1, value: 8200 }),
      describeMidi({ kind: 'sysex', data: u8(0xf0, 0x7e, 0x7f, 0x06, 0x01, 0xf7) }),
      describeMidi({ kind: 'sysex', data: new Uint8Array(20).fill(0x0a) }),
      describeMidi({ kind: 'mtc', piece: 2, value: 9 }),
      describeMidi({ kind: 'songposition', beats: 16 }),
      describeMidi({ kind: 'songselect', song: 2 }),
      describeMidi({ kind: 'clock' }),
    ];
    expect(texts).toEqual([
      'noteon ch1 C4(60) vel 100',
      'polyaftertouch ch2 C#4(61) pressure 3',
      'cc ch2 #7 = 100',
      'program ch3 5',
      'channelaftertouch ch3 pressure 5',
      'pitchbend ch1 0 (-8192)',
      'pitchbend ch1 8200 (+8)',
      'sysex 6 bytes F0 7E 7F 06 01 F7',
      'sysex 20 bytes 0A 0A 0A 0A 0A 0A 0A 0A 0A 0A 0A 0A 0A 0A 0A 0A … (+4)',
      'mtc piece 2 value 9',
      'songposition 16 beats',
      'songselect 2',
      'clock',
    ]);
  });
});
