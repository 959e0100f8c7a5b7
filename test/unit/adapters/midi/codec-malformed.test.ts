import { describe, expect, it } from 'vitest';
import { decodeMidi, encodeMidi, MidiParser } from '../../../../adapters/midi/codec.js';
import { MIDI_KINDS, type MidiKind, type MidiMessage } from '../../../../adapters/midi/types.js';
import { MidiConfigError, MidiDecodeError } from '../../../../daemon/kernel/errors.js';

const u8 = (...b: number[]): Uint8Array => Uint8Array.from(b);
const STRAY = 'follows no status byte (and no running status): ignored';

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

/** decodeMidi's error message, failing the test if anything else (or nothing) is thrown. */
function reason(bytes: Uint8Array): string {
  try {
    decodeMidi(bytes);
  } catch (err) {
    expect(err).toBeInstanceOf(MidiDecodeError);
    expect(err).toMatchObject({ code: 'PFM_ERR_MIDI_DECODE' });
    return (err as Error).message;
  }
  throw new Error('decoded without error');
}

/** A deterministic PRNG (mulberry32), so a failing stream can be reproduced. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const noteon = (note: number, velocity = 64): MidiMessage => ({ kind: 'noteon', channel: 1, note, velocity });

describe('MIDI parser: malformed input', () => {
  it('reports a run of stray data bytes once, across chunks and real-time bytes, then resyncs', () => {
    expect(run([u8(0x3c, 0x40, 0xf8), u8(0x41, 0x42, 0x90, 0x3c, 0x40)])).toEqual([
      `error: data byte 0x3c at offset 0 ${STRAY}`,
      { kind: 'clock' },
      noteon(0x3c),
    ]);
    // A status byte ends the run: the next stray byte is a new run.
    expect(run([u8(0x01, 0x02, 0xf6, 0x03)])).toEqual([
      `error: data byte 0x01 at offset 0 ${STRAY}`,
      { kind: 'tunerequest' },
      `error: data byte 0x03 at offset 3 ${STRAY}`,
    ]);
  });

  it('reports a message interrupted by a status byte, drops it, and reads the new one', () => {
    expect(run([u8(0x90, 0x3c, 0x80, 0x3c, 0x00)])).toEqual([
      'error: status byte 0x80 at offset 2 interrupts noteon ch1 (0x90) after 1 of 2 data bytes: dropped',
      { kind: 'noteoff', channel: 1, note: 0x3c, velocity: 0 },
    ]);
    expect(run([u8(0x95), u8(0xc0, 7)])).toEqual([
      'error: status byte 0xc0 at offset 0 interrupts noteon ch6 (0x95) after 0 of 2 data bytes: dropped',
      { kind: 'program', channel: 1, program: 7 },
    ]);
    // Under running status: the second note is cut after its first data byte.
    expect(run([u8(0x90, 60, 64, 62, 0xb0, 7, 100)])).toEqual([
      noteon(60),
      'error: status byte 0xb0 at offset 4 interrupts noteon ch1 (0x90) after 1 of 2 data bytes: dropped',
      { kind: 'cc', channel: 1, controller: 7, value: 100 },
    ]);
    expect(run([u8(0xf2, 5, 0xf0, 0xf7)])).toEqual([
      'error: status byte 0xf0 at offset 2 interrupts songposition (0xf2) after 1 of 2 data bytes: dropped',
      { kind: 'sysex', data: u8(0xf0, 0xf7) },
    ]);
  });

  it('ignores F7 without F0 and the undefined status bytes F4 F5 (with their data) and F9 FD', () => {
    expect(run([u8(0xf7, 0xf4, 1, 2, 0xf5, 3, 0x90, 60, 0xf9, 64, 0xfd)])).toEqual([
      'error: EOX byte 0xf7 at offset 0 ends no SysEx (no F0 before it): ignored',
      'error: undefined status byte 0xf4 at offset 1: ignored with its data bytes',
      'error: undefined status byte 0xf5 at offset 4: ignored with its data bytes',
      'error: undefined real-time byte 0xf9 at offset 8: ignored',
      noteon(60),
      'error: undefined real-time byte 0xfd at offset 10: ignored',
    ]);
    // F4 is system common: it interrupts a message under way and cancels running status.
    expect(run([u8(0x90, 60, 64, 62, 0xf4, 62, 64)])).toEqual([
      noteon(60),
      'error: status byte 0xf4 at offset 4 interrupts noteon ch1 (0x90) after 1 of 2 data bytes: dropped',
      'error: undefined status byte 0xf4 at offset 4: ignored with its data bytes',
    ]);
  });

  it('reports a SysEx ended by another status byte, drops it, then reads that status byte', () => {
    expect(run([u8(0xf0, 0x41, 0x10), u8(0x90, 60, 64)])).toEqual([
      'error: SysEx not terminated by F7: status byte 0x90 at offset 0 ended it after 3 bytes; dropped',
      noteon(60),
    ]);
    expect(run([u8(0xf0, 1, 2, 0xf0, 3, 0xf7)])).toEqual([
      'error: SysEx not terminated by F7: status byte 0xf0 at offset 3 ended it after 3 bytes; dropped',
      { kind: 'sysex', data: u8(0xf0, 3, 0xf7) },
    ]);
    expect(run([u8(0xf0, 1, 0xf1, 0x23)])).toEqual([
      'error: SysEx not terminated by F7: status byte 0xf1 at offset 2 ended it after 2 bytes; dropped',
      { kind: 'mtc', piece: 2, value: 3 },
    ]);
  });

  it('reports a SysEx over maxSysexBytes once, drops it up to its F7, and keeps its buffer bounded', () => {
    const parser = new MidiParser({ maxSysexBytes: 8 });
    // F0 + 6 data + F7 = 8 bytes fits; F0 + 7 data + F7 = 9 does not.
    expect(run([u8(0xf0, 1, 2, 3, 4, 5, 6, 0xf7)], parser)).toEqual([
      { kind: 'sysex', data: u8(0xf0, 1, 2, 3, 4, 5, 6, 0xf7) },
    ]);
    expect(run([u8(0xf0, 1, 2, 3, 4), u8(5, 6, 7, 8, 9), u8(0xf8, 10, 0xf7, 0x90, 60, 64)], parser)).toEqual([
      'error: data byte 0x07 at offset 2 makes the SysEx longer than the limit of 8 bytes: dropped up to its F7',
      { kind: 'clock' },
      noteon(60),
    ]);
    // An oversized SysEx ended by a status byte is not reported a second time.
    expect(run([u8(0xf0, 1, 2, 3, 4, 5, 6, 7, 8, 0x90, 61, 64)], parser)).toEqual([
      'error: data byte 0x07 at offset 7 makes the SysEx longer than the limit of 8 bytes: dropped up to its F7',
      noteon(61),
    ]);
    expect(parser.bufferedBytes).toBe(8);
  });

  it('holds at most maxSysexBytes whatever the SysEx length (1 MB streamed into a 1 KiB limit)', () => {
    const parser = new MidiParser({ maxSysexBytes: 1024 });
    const events: (MidiMessage | string)[] = [];
    const onMessage = (m: MidiMessage): number => events.push(m);
    const onError = (r: string): number => events.push(r);
    parser.push(u8(0xf0), onMessage, onError);
    const body = new Uint8Array(4096).fill(0x55);
    for (let k = 0; k < 256; k++) {
      parser.push(body, onMessage, onError);
      expect(parser.bufferedBytes).toBeLessThanOrEqual(1024);
    }
    parser.push(u8(0xf7, 0xc0, 1), onMessage, onError);
    expect(events).toEqual([
      'data byte 0x55 at offset 1022 makes the SysEx longer than the limit of 1024 bytes: dropped up to its F7',
      { kind: 'program', channel: 1, program: 1 },
    ]);
  });

  it('refuses an unusable maxSysexBytes', () => {
    for (const max of [1, 0, -5, 1.5, Number.NaN]) {
      expect(() => new MidiParser({ maxSysexBytes: max })).toThrow(MidiConfigError);
    }
    expect(() => new MidiParser({ maxSysexBytes: 1 })).toThrow(
      'Invalid MIDI configuration: maxSysexBytes 1 must be an integer of at least 2 (F0 and F7)',
    );
  });

  it('finish() reports what the input left incomplete, then starts afresh', () => {
    const parser = new MidiParser();
    const errors: string[] = [];
    const collect = (r: string): number => errors.push(r);
    parser.push(u8(0x90, 60, 64, 62), () => {}, collect);
    parser.finish(collect);
    parser.push(u8(0xf0, 1, 2), () => {}, collect);
    parser.finish(collect);
    parser.push(u8(0x90, 60, 64), () => {}, collect);
    parser.finish(collect);
    expect(errors).toEqual([
      'incomplete noteon ch1 (0x90) at the end of the input: 1 of 2 data bytes',
      'SysEx not terminated by F7: the input ended after 3 bytes of it',
    ]);
    // Running status did not survive finish().
    expect(run([u8(60, 64)], parser)).toEqual([`error: data byte 0x3c at offset 0 ${STRAY}`]);
  });

  it('stays consistent when a callback throws: the rest of that chunk is lost, the next chunk is read', () => {
    const parser = new MidiParser();
    const boom = (): never => {
      throw new Error('handler failed');
    };
    expect(() => parser.push(u8(0x90, 60, 64, 62, 64), boom, boom)).toThrow('handler failed');
    expect(run([u8(63, 64)], parser)).toEqual([noteon(63)]);
  });
});

describe('decodeMidi: complete chunks only', () => {
  const cases: [string, Uint8Array, string][] = [
    ['stray data', u8(0x3c, 0x40), `data byte 0x3c at offset 0 ${STRAY}`],
    [
      'truncated note',
      u8(0x90, 0x3c),
      'incomplete noteon ch1 (0x90) at the end of the input: 1 of 2 data bytes',
    ],
    ['status alone', u8(0xe3), 'incomplete pitchbend ch4 (0xe3) at the end of the input: 0 of 2 data bytes'],
    [
      'truncated song select',
      u8(0xf3),
      'incomplete songselect (0xf3) at the end of the input: 0 of 1 data bytes',
    ],
    [
      'unterminated SysEx',
      u8(0xf0, 1, 2, 0xf8),
      'SysEx not terminated by F7: the input ended after 3 bytes of it',
    ],
    ['F7 alone', u8(0xf7), 'EOX byte 0xf7 at offset 0 ends no SysEx (no F0 before it): ignored'],
    ['F5', u8(0xf5), 'undefined status byte 0xf5 at offset 0: ignored with its data bytes'],
    ['FD', u8(0xf8, 0xfd), 'undefined real-time byte 0xfd at offset 1: ignored'],
    [
      'first reason wins',
      u8(0x90, 60, 64, 0xf7, 0x3c),
      'EOX byte 0xf7 at offset 3 ends no SysEx (no F0 before it): ignored',
    ],
  ];
  for (const [name, bytes, why] of cases) {
    it(name, () => {
      expect(reason(bytes)).toBe(`Malformed MIDI: ${why}`);
    });
  }

  it('decodes an empty chunk to no messages', () => {
    expect(decodeMidi(new Uint8Array(0))).toEqual([]);
  });

  it('applies maxSysexBytes when given', () => {
    expect(() => decodeMidi(u8(0xf0, 1, 2, 0xf7), { maxSysexBytes: 3 })).toThrow(
      'Malformed MIDI: data byte 0x02 at offset 2 makes the SysEx longer than the limit of 3 bytes: dropped up to its F7',
    );
  });
});

/** A random valid message of any kind, and what decoding its bytes gives back. */
function randomMessage(rnd: () => number): MidiMessage {
  const int = (n: number): number => Math.floor(rnd() * n);
  const kind: MidiKind = MIDI_KINDS[int(MIDI_KINDS.length)]!;
  const channel = int(16) + 1;
  switch (kind) {
    case 'noteon':
      return { kind, channel, note: int(128), velocity: int(127) + 1 };
    case 'noteoff':
      return { kind, channel, note: int(128), velocity: int(128) };
    case 'polyaftertouch':
      return { kind, channel, note: int(128), pressure: int(128) };
    case 'cc':
      return { kind, channel, controller: int(128), value: int(128) };
    case 'program':
      return { kind, channel, program: int(128) };
    case 'channelaftertouch':
      return { kind, channel, pressure: int(128) };
    case 'pitchbend':
      return { kind, channel, value: int(16384) };
    case 'sysex': {
      const data = new Uint8Array(int(40) + 2);
      for (let k = 1; k < data.length - 1; k++) data[k] = int(128);
      data[0] = 0xf0;
      data[data.length - 1] = 0xf7;
      return { kind, data };
    }
    case 'mtc':
      return { kind, piece: int(8), value: int(16) };
    case 'songposition':
      return { kind, beats: int(16384) };
    case 'songselect':
      return { kind, song: int(128) };
    default:
      return { kind } as MidiMessage;
  }
}

/** Random bytes, then random chunk sizes of 1..max over them. */
function randomChunks(bytes: Uint8Array, rnd: () => number, max: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; ) {
    const size = 1 + Math.floor(rnd() * max);
    out.push(bytes.subarray(at, at + size));
    at += size;
  }
  return out;
}

describe('MIDI parser: seeded fuzz', () => {
  it('never throws on 100,000 random bytes in random chunks, and everything it emits is valid MIDI', () => {
    const rnd = prng(0x4d1d1);
    const bytes = new Uint8Array(100_000);
    for (let k = 0; k < bytes.length; k++) bytes[k] = Math.floor(rnd() * 256);
    const parser = new MidiParser({ maxSysexBytes: 512 });
    const kinds = new Map<string, number>();
    let errors = 0;
    for (const chunk of randomChunks(bytes, rnd, 300)) {
      parser.push(
        chunk,
        (m) => {
          kinds.set(m.kind, (kinds.get(m.kind) ?? 0) + 1);
          // A decoded message re-encodes (every field in range) and decodes to itself.
          expect(decodeMidi(encodeMidi(m))).toEqual([m]);
        },
        (r) => {
          errors++;
          expect(r).toMatch(/at offset \d+/);
          expect(r).toMatch(/0x[0-9a-f]{2}/);
        },
      );
      expect(parser.bufferedBytes).toBeLessThanOrEqual(512);
    }
    // Random bytes are mostly data bytes after a status: channel messages and errors both abound.
    expect(errors).toBeGreaterThan(1000);
    expect(kinds.get('noteon')).toBeGreaterThan(100);
    expect(kinds.get('clock')).toBeGreaterThan(100);
  });

  it('finds every valid message embedded between random garbage, at the byte where it ends', () => {
    const rnd = prng(0xbadc0de);
    const parts: number[] = [];
    const embedded: { end: number; message: MidiMessage }[] = [];
    for (let k = 0; k < 3000; k++) {
      const garbage = Math.floor(rnd() * 24);
      for (let j = 0; j < garbage; j++) parts.push(Math.floor(rnd() * 256));
      const message = randomMessage(rnd);
      parts.push(...encodeMidi(message));
      embedded.push({ end: parts.length - 1, message });
    }
    const stream = Uint8Array.from(parts);
    // One byte at a time: each emission is pinned to the byte that completed it.
    const byByte = new Map<number, MidiMessage>();
    const parser = new MidiParser({ maxSysexBytes: 256 });
    const byteErrors: string[] = [];
    for (let i = 0; i < stream.length; i++) {
      parser.push(
        stream.subarray(i, i + 1),
        (m) => byByte.set(i, m),
        (r) => byteErrors.push(r),
      );
    }
    for (const { end, message } of embedded) expect(byByte.get(end)).toEqual(message);
    // Random chunks give the same messages and the same reasons, offsets aside.
    const strip = (r: string): string => r.replace(/offset \d+/, 'offset N');
    const events = run(randomChunks(stream, rnd, 200), new MidiParser({ maxSysexBytes: 256 }));
    expect(events.filter((e) => typeof e !== 'string')).toEqual([...byByte.values()]);
    expect(events.filter((e) => typeof e === 'string').map(strip)).toEqual(
      byteErrors.map((r) => strip(`error: ${r}`)),
    );
  });
});
