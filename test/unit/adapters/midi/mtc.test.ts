import { describe, expect, it } from 'vitest';
import { decodeMidi } from '../../../../adapters/midi/codec.js';
import {
  addFrames,
  decodeMtcFullFrame,
  frameCount,
  MtcDecoder,
  type MtcPosition,
  type MtcRate,
  mtcPosition,
} from '../../../../adapters/midi/mtc.js';

/** Rate → rate code of the hours byte (MTC spec): 0 = 24, 1 = 25, 2 = 30 drop-frame, 3 = 30. */
const CODE: Record<MtcRate, number> = { 24: 0, 25: 1, 29.97: 2, 30: 3 };

/** The eight quarter-frame data bytes (piece << 4 | nibble) for a label, in forward order (MTC spec table). */
function quarterFrames(h: number, m: number, s: number, f: number, rate: MtcRate): number[] {
  const nibbles = [f & 15, f >> 4, s & 15, s >> 4, m & 15, m >> 4, h & 15, (h >> 4) | (CODE[rate] << 1)];
  return nibbles.map((v, piece) => (piece << 4) | v);
}

/** Feeds data bytes of quarter frames; returns what each push returned. */
function feed(decoder: MtcDecoder, bytes: number[]): (MtcPosition | undefined)[] {
  return bytes.map((b) => decoder.push(b >> 4, b & 15));
}

const fullFrame = (hr: number, mn: number, sc: number, fr: number, device = 0x7f): Uint8Array =>
  Uint8Array.of(0xf0, 0x7f, device, 0x01, 0x01, hr, mn, sc, fr, 0xf7);

/** 01:23:45:12 at each rate, and the real seconds it stands for. */
const RATE_CASES: [MtcRate, number][] = [
  [24, 5025 + 12 / 24],
  [25, 5025 + 12 / 25],
  // Drop-frame: 5025 s of labels = 150762 labels, minus 2 per minute not divisible by 10 (83 - 8 = 75).
  [29.97, ((150762 - 150) * 1001) / 30000],
  [30, 5025 + 12 / 30],
];

describe('MtcDecoder: quarter frames', () => {
  for (const [rate, totalSeconds] of RATE_CASES) {
    const expected = { hours: 1, minutes: 23, seconds: 45, frames: 12, rate, totalSeconds };

    it(`assembles 01:23:45:12 at ${rate} fps running forward (pieces 0..7)`, () => {
      const decoder = new MtcDecoder();
      const out = feed(decoder, quarterFrames(1, 23, 45, 12, rate));
      expect(out.slice(0, 7)).toEqual(new Array(7).fill(undefined));
      expect(out[7]).toEqual(expected);
      expect(decoder.direction).toBe('forward');
    });

    it(`assembles 01:23:45:12 at ${rate} fps running backward (pieces 7..0)`, () => {
      const decoder = new MtcDecoder();
      const out = feed(decoder, quarterFrames(1, 23, 45, 12, rate).reverse());
      expect(out.slice(0, 7)).toEqual(new Array(7).fill(undefined));
      expect(out[7]).toEqual(expected);
      expect(decoder.direction).toBe('backward');
    });
  }

  it('reads quarter frames straight from wire bytes', () => {
    const wire = quarterFrames(10, 0, 0, 0, 29.97).flatMap((d) => [0xf1, d]);
    const decoder = new MtcDecoder();
    const positions = decodeMidi(Uint8Array.from(wire)).map((m) =>
      m.kind === 'mtc' ? decoder.push(m.piece, m.value) : undefined,
    );
    expect(positions.slice(0, 7)).toEqual(new Array(7).fill(undefined));
    expect(positions[7]).toMatchObject({ hours: 10, minutes: 0, seconds: 0, frames: 0, rate: 29.97 });
    // 10 drop-frame hours are 1078920 frames of 1001/30000 s: 36 ms short of 36000 s.
    expect(positions[7]!.totalSeconds).toBeCloseTo(35999.964, 9);
  });

  it('gives a position every eight pieces of a running stream, two frames apart', () => {
    const decoder = new MtcDecoder();
    const out = feed(decoder, [...quarterFrames(0, 0, 59, 22, 24), ...quarterFrames(0, 1, 0, 0, 24)]);
    expect(out.filter((p) => p !== undefined).map((p) => [p.minutes, p.seconds, p.frames])).toEqual([
      [0, 59, 22],
      [1, 0, 0],
    ]);
    // The documented compensation: the time when piece 7 arrived is the encoded label + 2 frames.
    expect(addFrames(out[7]!, 2)).toEqual(out[15]);
  });

  it('waits for a whole sequence when it starts mid-way, and starts again after a gap', () => {
    const decoder = new MtcDecoder();
    const qf = quarterFrames(2, 3, 4, 5, 25);
    expect(feed(decoder, qf.slice(3))).toEqual(new Array(5).fill(undefined));
    expect(feed(decoder, [...qf.slice(0, 3), ...qf.slice(4)])).toEqual(new Array(7).fill(undefined)); // piece 3 lost
    const again = feed(decoder, qf);
    expect(again[7]).toMatchObject({ hours: 2, minutes: 3, seconds: 4, frames: 5, rate: 25 });
  });

  it('never mixes nibbles of two sequences when the direction flips', () => {
    const decoder = new MtcDecoder();
    const fwd = quarterFrames(0, 0, 10, 0, 30);
    // 0..5 forward, then 4..0 backward: neither run is complete.
    expect(feed(decoder, [...fwd.slice(0, 6), ...fwd.slice(0, 5).reverse()])).toEqual(
      new Array(11).fill(undefined),
    );
    expect(decoder.direction).toBeUndefined();
  });

  it('yields nothing for labels that do not exist, and breaks the sequence on out-of-range input', () => {
    const decoder = new MtcDecoder();
    expect(feed(decoder, quarterFrames(0, 60, 0, 0, 30))[7]).toBeUndefined(); // minute 60
    expect(feed(decoder, quarterFrames(0, 0, 0, 24, 24))[7]).toBeUndefined(); // frame 24 at 24 fps
    expect(feed(decoder, quarterFrames(24, 0, 0, 0, 25))[7]).toBeUndefined(); // hour 24
    expect(feed(decoder, quarterFrames(0, 1, 0, 1, 29.97))[7]).toBeUndefined(); // dropped label
    expect(feed(decoder, quarterFrames(0, 10, 0, 1, 29.97))[7]).toMatchObject({ minutes: 10, frames: 1 });
    const qf = quarterFrames(0, 0, 1, 2, 25);
    feed(decoder, qf.slice(0, 4));
    expect(decoder.push(4, 16)).toBeUndefined();
    expect(feed(decoder, qf.slice(4))).toEqual(new Array(4).fill(undefined));
  });
});

describe('MtcDecoder: full frame', () => {
  for (const [rate, totalSeconds] of RATE_CASES) {
    it(`reads a full frame at ${rate} fps`, () => {
      const sysex = fullFrame((CODE[rate] << 5) | 1, 23, 45, 12);
      expect(decodeMidi(sysex)).toEqual([{ kind: 'sysex', data: sysex }]);
      expect(new MtcDecoder().fullFrame(sysex)).toEqual({
        hours: 1,
        minutes: 23,
        seconds: 45,
        frames: 12,
        rate,
        totalSeconds,
      });
    });
  }

  it('reads any device id, and refuses other SysEx and impossible labels', () => {
    expect(decodeMtcFullFrame(fullFrame(0x17, 59, 59, 23, 0x05))).toMatchObject({ hours: 23, rate: 24 });
    expect(decodeMtcFullFrame(Uint8Array.of(0xf0, 0x7e, 0x7f, 0x01, 0x01, 0, 0, 0, 0, 0xf7))).toBeUndefined();
    expect(decodeMtcFullFrame(Uint8Array.of(0xf0, 0x7f, 0x7f, 0x01, 0x02, 0, 0, 0, 0, 0xf7))).toBeUndefined();
    expect(decodeMtcFullFrame(Uint8Array.of(0xf0, 0x7f, 0x7f, 0x01, 0x01, 0, 0, 0, 0xf7))).toBeUndefined();
    expect(decodeMtcFullFrame(fullFrame(0x18, 0, 0, 0))).toBeUndefined(); // hour 24
    expect(decodeMtcFullFrame(fullFrame(0x20, 0, 0, 25))).toBeUndefined(); // frame 25 at 25 fps
    expect(decodeMtcFullFrame(fullFrame(0, 0, 60, 0))).toBeUndefined();
  });

  it('drops a quarter-frame sequence under way (a locate), but not for other SysEx', () => {
    const decoder = new MtcDecoder();
    const qf = quarterFrames(0, 0, 5, 0, 25);
    feed(decoder, qf.slice(0, 4));
    expect(decoder.fullFrame(Uint8Array.of(0xf0, 0x43, 0xf7))).toBeUndefined();
    expect(feed(decoder, qf.slice(4))[3]).toMatchObject({ seconds: 5 });
    feed(decoder, qf.slice(0, 4));
    expect(decoder.fullFrame(fullFrame(0x20, 0, 9, 0))).toMatchObject({ seconds: 9 });
    expect(feed(decoder, qf.slice(4))).toEqual(new Array(4).fill(undefined));
  });
});

describe('MTC positions: frame arithmetic', () => {
  const at = (h: number, m: number, s: number, f: number, rate: MtcRate): MtcPosition =>
    mtcPosition(h, m, s, f, rate)!;
  const label = (p: MtcPosition): string =>
    [p.hours, p.minutes, p.seconds, p.frames].map((n) => String(n).padStart(2, '0')).join(':');

  it('counts drop-frame hours as SMPTE does (107892 frames, 3599.9964 s)', () => {
    expect(frameCount(at(1, 0, 0, 0, 29.97))).toBe(107892);
    expect(at(1, 0, 0, 0, 29.97).totalSeconds).toBeCloseTo(3599.9964, 9);
    expect(frameCount(at(1, 0, 0, 0, 30))).toBe(108000);
    expect(at(0, 0, 1, 0, 25).totalSeconds).toBe(1);
  });

  it('adds and subtracts frames across seconds, minutes, dropped labels and midnight', () => {
    expect(label(addFrames(at(0, 0, 59, 23, 24), 1))).toBe('00:01:00:00');
    expect(label(addFrames(at(23, 59, 59, 23, 24), 1))).toBe('00:00:00:00');
    expect(label(addFrames(at(0, 0, 0, 0, 25), -1))).toBe('23:59:59:24');
    expect(label(addFrames(at(0, 0, 59, 29, 29.97), 1))).toBe('00:01:00:02');
    expect(label(addFrames(at(0, 1, 0, 2, 29.97), -1))).toBe('00:00:59:29');
    expect(label(addFrames(at(0, 9, 59, 29, 29.97), 1))).toBe('00:10:00:00');
    expect(label(addFrames(at(0, 0, 0, 0, 29.97), -1))).toBe('23:59:59:29');
    expect(label(addFrames(at(12, 34, 56, 7, 29.97), 107892))).toBe('13:34:56:07');
  });

  it('walks a whole drop-frame day one frame at a time without reaching a dropped label', () => {
    let p = at(0, 0, 0, 0, 29.97);
    let count = 0;
    let wrong = 0;
    do {
      const next = addFrames(p, 1);
      if (frameCount(next) !== (frameCount(p) + 1) % 2589408) wrong++;
      p = next;
      count++;
    } while (count <= 2589408 && !(p.hours === 0 && p.minutes === 0 && p.seconds === 0 && p.frames === 0));
    expect(wrong).toBe(0);
    expect(count).toBe(2589408); // 24 h × 6 × 17982: back at midnight after exactly one day
  });

  it('refuses labels that do not exist', () => {
    expect(mtcPosition(0, 0, 0, 30, 30)).toBeUndefined();
    expect(mtcPosition(0, 0, 0, 29, 30)).toMatchObject({ frames: 29 });
    expect(mtcPosition(0, 2, 0, 0, 29.97)).toBeUndefined();
    expect(mtcPosition(0, 2, 1, 0, 29.97)).toMatchObject({ seconds: 1 });
    expect(mtcPosition(-1, 0, 0, 0, 25)).toBeUndefined();
    expect(mtcPosition(0, 0, 0, 0, 50 as MtcRate)).toBeUndefined();
  });
});
