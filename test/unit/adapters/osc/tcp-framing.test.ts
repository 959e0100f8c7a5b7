import { describe, expect, it } from 'vitest';
import { encodeBundle, encodeMessage } from '../../../../adapters/osc/codec.js';
import { SlipDecoder, slipEncode } from '../../../../adapters/osc/slip.js';
import {
  type DropKind,
  LengthDecoder,
  lengthEncode,
  type StreamFraming,
  TcpDeframer,
  type TcpFraming,
} from '../../../../adapters/osc/tcp-framing.js';

/** What a deframer reported, in order. */
interface Seen {
  packets: Uint8Array[];
  dropped: [string, DropKind][];
  fatal: [string, DropKind][];
  detected: StreamFraming[];
}

function recorder(mode: TcpFraming, maxBytes = 1024): { d: TcpDeframer; seen: Seen } {
  const seen: Seen = { packets: [], dropped: [], fatal: [], detected: [] };
  const d = new TcpDeframer(mode, maxBytes, {
    packet: (p) => seen.packets.push(p),
    dropped: (r, k) => seen.dropped.push([r, k]),
    fatal: (r, k) => seen.fatal.push([r, k]),
    detected: (f) => seen.detected.push(f),
  });
  return { d, seen };
}

const concat = (parts: readonly Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts));
const msg = (i: number) => encodeMessage('/m', [{ type: 'i', value: i }]);
/** Feeds `bytes` in pieces of `size` (1 = byte by byte). */
function feed(d: TcpDeframer, bytes: Uint8Array, size: number): void {
  for (let i = 0; i < bytes.length; i += size) d.push(bytes.subarray(i, i + size));
}

describe('lengthEncode (OSC 1.0 stream framing)', () => {
  it('puts the size as an int32 big-endian before the packet', () => {
    const p = msg(1);
    const framed = lengthEncode(p);
    expect(Buffer.from(framed.subarray(0, 4)).readUInt32BE(0)).toBe(p.length);
    expect(framed.subarray(4)).toEqual(p);
    // What liblo's oscsend sent here for `/addr ,i 1` (captured from osc.tcp://).
    expect(Buffer.from(lengthEncode(encodeMessage('/addr', [{ type: 'i', value: 1 }]))).toString('hex')).toBe(
      '000000102f616464720000002c69000000000001',
    );
  });
});

describe('TcpDeframer, auto', () => {
  const packets = [msg(1), encodeBundle({ seconds: 0, fraction: 1 }, [msg(2)]), msg(3)];

  for (const size of [1, 3, 7, 1000]) {
    it(`detects a length-prefixed stream and splits it, fed ${size} byte(s) at a time`, () => {
      const { d, seen } = recorder('auto');
      feed(d, concat(packets.map(lengthEncode)), size);
      expect(seen.detected).toEqual(['length']);
      expect(seen.packets).toEqual(packets);
      expect(seen.dropped).toEqual([]);
      expect(seen.fatal).toEqual([]);
    });

    it(`detects a SLIP stream, fed ${size} byte(s) at a time`, () => {
      const { d, seen } = recorder('auto');
      feed(d, concat(packets.map(slipEncode)), size);
      expect(seen.detected).toEqual(['slip']);
      expect(seen.packets).toEqual(packets);
    });
  }

  it("reads SLIP that writes END only after each packet (RFC 1055's first form): '/' and '#' start it", () => {
    for (const first of [msg(7), encodeBundle({ seconds: 0, fraction: 1 }, [msg(8)])]) {
      const { d, seen } = recorder('auto');
      const single = slipEncode(first).subarray(1);
      d.push(concat([single, slipEncode(msg(9))]));
      expect(seen.detected).toEqual(['slip']);
      expect(seen.packets).toEqual([first, msg(9)]);
    }
  });

  it('closes on a first byte that fits neither framing, saying which byte', () => {
    const { d, seen } = recorder('auto');
    d.push(new TextEncoder().encode('GET / HTTP/1.1\r\n'));
    d.push(slipEncode(msg(1)));
    expect(seen.fatal).toHaveLength(1);
    expect(seen.fatal[0]?.[0]).toMatch(/^first byte 0x47 fits neither framing/);
    expect(seen.fatal[0]?.[1]).toBe('framing');
    expect(seen.packets).toEqual([]);
    expect(seen.detected).toEqual([]);
  });

  it('closes on a first length that is no plausible OSC packet size (not a multiple of 4, or under 4)', () => {
    for (const size of [0, 3, 6]) {
      const { d, seen } = recorder('auto');
      d.push(new Uint8Array([0, 0, 0, size]));
      expect(seen.fatal).toEqual([
        [
          `first bytes 00 00 00 ${size.toString(16).padStart(2, '0')} fit neither framing: as a length prefix, ${size} is not a plausible OSC packet size (a multiple of 4, at least 4)`,
          'framing',
        ],
      ]);
    }
  });

  it('closes on a length prefix over the limit (first or later), as over-size', () => {
    const first = recorder('auto', 64);
    first.d.push(new Uint8Array([0, 0, 0, 68]));
    expect(first.seen.fatal).toEqual([
      ['length prefix of 68 bytes is over osc.maxDatagramBytes (64)', 'oversize'],
    ]);
    const later = recorder('auto', 64);
    later.d.push(concat([lengthEncode(msg(1)), new Uint8Array([0, 1, 0, 0]), msg(2)]));
    expect(later.seen.packets).toEqual([msg(1)]);
    expect(later.seen.fatal).toEqual([
      ['length prefix of 65536 bytes is over osc.maxDatagramBytes (64)', 'oversize'],
    ]);
    // After a fatal report nothing more is read.
    later.d.push(lengthEncode(msg(3)));
    later.d.end();
    expect(later.seen.packets).toEqual([msg(1)]);
    expect(later.seen.dropped).toEqual([]);
  });

  it('reports a packet cut off by the end of the stream, once', () => {
    const { d, seen } = recorder('auto');
    const framed = lengthEncode(msg(1));
    d.push(framed.subarray(0, 10));
    d.end();
    d.end();
    expect(seen.dropped).toEqual([
      ['the connection closed in the middle of a packet (6 of 12 bytes)', 'framing'],
    ]);
    const head = recorder('auto');
    head.d.push(new Uint8Array([0, 0]));
    head.d.end();
    expect(head.seen.dropped).toEqual([
      ['the connection closed after 2 bytes, too few to tell its framing', 'framing'],
    ]);
    const slip = recorder('auto');
    slip.d.push(slipEncode(msg(1)).subarray(0, 5));
    slip.d.end();
    expect(slip.seen.dropped).toEqual([
      ['the connection closed in the middle of a SLIP frame (4 bytes without END)', 'framing'],
    ]);
  });

  it('reports nothing at the end of a stream that ended between packets', () => {
    for (const encode of [lengthEncode, slipEncode]) {
      const { d, seen } = recorder('auto');
      d.push(encode(msg(1)));
      d.end();
      expect(seen.packets).toHaveLength(1);
      expect(seen.dropped).toEqual([]);
    }
  });

  it('gives each packet its own memory (a Buffer chunk may be reused by the socket)', () => {
    const { d, seen } = recorder('auto');
    const chunk = Buffer.from(concat([lengthEncode(msg(1)), lengthEncode(msg(2))]));
    d.push(chunk);
    chunk.fill(0);
    expect(seen.packets).toEqual([msg(1), msg(2)]);
  });
});

describe('TcpDeframer, configured framing', () => {
  it('length: reads prefixes from the first byte, whatever it is; a 0 prefix drops nothing but itself', () => {
    const { d, seen } = recorder('length');
    d.push(concat([new Uint8Array(4), lengthEncode(msg(1))]));
    expect(seen.detected).toEqual(['length']);
    expect(seen.dropped).toEqual([['length prefix 0: an OSC packet is never empty', 'framing']]);
    expect(seen.packets).toEqual([msg(1)]);
  });

  it('slip: a SLIP stream is read even when it starts like a length prefix', () => {
    const { d, seen } = recorder('slip');
    const odd = new Uint8Array([0, 0, 0, 8, 1, 2, 3, 4]);
    d.push(slipEncode(odd));
    expect(seen.detected).toEqual(['slip']);
    expect(seen.packets).toEqual([odd]);
  });

  it('slip: an over-size frame and a bad escape are dropped, and the stream goes on', () => {
    const { d, seen } = recorder('slip', 8);
    d.push(
      concat([
        slipEncode(new Uint8Array(9)),
        new Uint8Array([0xc0, 1, 0xdb, 0x01, 0xc0]),
        slipEncode(msg(1).subarray(0, 8)),
      ]),
    );
    expect(seen.dropped).toEqual([
      ['frame longer than 8 bytes', 'oversize'],
      ['bad SLIP escape 0x1', 'framing'],
    ]);
    expect(seen.packets).toEqual([msg(1).subarray(0, 8)]);
    expect(seen.fatal).toEqual([]);
  });
});

describe('LengthDecoder', () => {
  it('is ready for the next packet after a packet handler throws', () => {
    const packets: Uint8Array[] = [];
    let fail = true;
    const d = new LengthDecoder(1024, {
      packet: (p) => {
        if (fail) {
          fail = false;
          throw new Error('handler failed');
        }
        packets.push(p);
      },
      dropped: () => {},
      fatal: () => {},
    });
    expect(() => d.push(lengthEncode(msg(1)))).toThrow('handler failed');
    d.push(lengthEncode(msg(2)));
    expect(packets).toEqual([msg(2)]);
  });
});

describe('SlipDecoder.end', () => {
  it('reports an over-size frame cut off by the close as over-size', () => {
    const dropped: [string, DropKind][] = [];
    const d = new SlipDecoder(4, { frame: () => {}, dropped: (r, k) => dropped.push([r, k]) });
    d.push(new Uint8Array([0xc0, 1, 2, 3, 4, 5, 6]));
    d.end();
    expect(dropped).toEqual([
      ['frame longer than 4 bytes, and the connection closed before its END', 'oversize'],
    ]);
  });
});
