import { describe, expect, it } from 'vitest';
import { SlipDecoder, slipEncode } from '../../../../adapters/osc/slip.js';

const END = 0xc0;
const ESC = 0xdb;
const ESC_END = 0xdc;
const ESC_ESC = 0xdd;

/** mulberry32: a small seeded PRNG, so a failure reproduces. */
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

/** A random packet, rich in END and ESC bytes. */
function randomPacket(rand: () => number, maxLen: number): Uint8Array {
  const p = new Uint8Array(Math.floor(rand() * (maxLen + 1)));
  for (let i = 0; i < p.length; i++) {
    const r = rand();
    p[i] = r < 0.1 ? END : r < 0.2 ? ESC : r < 0.25 ? ESC_END : r < 0.3 ? ESC_ESC : Math.floor(rand() * 256);
  }
  return p;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** A decoder that records what it reports. */
function recorder(maxBytes: number): { decoder: SlipDecoder; frames: Uint8Array[]; dropped: string[] } {
  const frames: Uint8Array[] = [];
  const dropped: string[] = [];
  const decoder = new SlipDecoder(maxBytes, {
    frame: (f) => frames.push(f),
    dropped: (r) => dropped.push(r),
  });
  return { decoder, frames, dropped };
}

const bytes = (...b: number[]): Uint8Array => new Uint8Array(b);
const hex = (frames: readonly Uint8Array[]): string[] => frames.map((f) => Buffer.from(f).toString('hex'));

describe('slipEncode', () => {
  it('frames a packet between two ENDs and escapes END and ESC (RFC 1055)', () => {
    expect(slipEncode(bytes(1, END, 2, ESC, 3))).toEqual(
      bytes(END, 1, ESC, ESC_END, 2, ESC, ESC_ESC, 3, END),
    );
  });

  it('leaves ESC_END and ESC_ESC bytes alone when no ESC precedes them', () => {
    expect(slipEncode(bytes(ESC_END, ESC_ESC, 0))).toEqual(bytes(END, ESC_END, ESC_ESC, 0, END));
  });

  it('frames an empty packet as END END', () => {
    expect(slipEncode(new Uint8Array(0))).toEqual(bytes(END, END));
  });

  it('escapes a packet made only of END and ESC bytes', () => {
    expect(slipEncode(bytes(END, END, ESC, ESC))).toEqual(
      bytes(END, ESC, ESC_END, ESC, ESC_END, ESC, ESC_ESC, ESC, ESC_ESC, END),
    );
  });

  it('never puts END inside a frame, and never leaves an ESC without ESC_END or ESC_ESC after it', () => {
    const rand = prng(7);
    for (let n = 0; n < 200; n++) {
      const p = randomPacket(rand, 100);
      const e = slipEncode(p);
      expect(e[0]).toBe(END);
      expect(e.at(-1)).toBe(END);
      const body = e.subarray(1, -1);
      expect(body.includes(END)).toBe(false);
      for (let i = 0; i < body.length; i++) {
        if (body[i] === ESC) {
          expect([ESC_END, ESC_ESC]).toContain(body[i + 1]);
          i++;
        }
      }
      const specials = p.filter((b) => b === END || b === ESC).length;
      expect(e.length).toBe(p.length + specials + 2);
    }
  });

  it('reads only the view it is given (a Buffer slice of a larger pool)', () => {
    const pool = Buffer.from([END, 9, 9, 1, 2, 3, 9, 9]);
    expect(slipEncode(pool.subarray(3, 6))).toEqual(bytes(END, 1, 2, 3, END));
  });
});

describe('SlipDecoder', () => {
  it('decodes one frame, unescaping END and ESC', () => {
    const r = recorder(1024);
    r.decoder.push(bytes(END, 1, ESC, ESC_END, 2, ESC, ESC_ESC, 3, END));
    expect(r.frames).toEqual([bytes(1, END, 2, ESC, 3)]);
    expect(r.dropped).toEqual([]);
  });

  it('round-trips packets made of END and ESC bytes', () => {
    const r = recorder(1024);
    const packets = [
      bytes(END),
      bytes(ESC),
      bytes(END, ESC, END),
      bytes(ESC, ESC_END),
      bytes(ESC, ESC_ESC, END, ESC_END),
    ];
    for (const p of packets) r.decoder.push(slipEncode(p));
    expect(r.frames).toEqual(packets);
  });

  it('decodes frames fed one byte at a time', () => {
    const r = recorder(1024);
    const packets = [bytes(1, 2, 3), bytes(END, ESC), bytes(0x2f, 0x61, 0, 0, 0x2c, 0, 0, 0)];
    for (const b of concat(packets.map(slipEncode))) r.decoder.push(bytes(b));
    expect(r.frames).toEqual(packets);
  });

  it('joins an escape split across two chunks', () => {
    const r = recorder(1024);
    r.decoder.push(bytes(END, 1, ESC));
    r.decoder.push(bytes(ESC_END, 2, ESC));
    r.decoder.push(bytes(ESC_ESC));
    r.decoder.push(bytes(END));
    expect(r.frames).toEqual([bytes(1, END, 2, ESC)]);
  });

  it('accepts frames with only a closing END (single-END senders), and bytes before the first END', () => {
    const r = recorder(1024);
    r.decoder.push(bytes(1, 2, END, 3, END, END, 4, ESC, ESC_END, END));
    expect(r.frames).toEqual([bytes(1, 2), bytes(3), bytes(4, END)]);
  });

  it('ignores empty frames between ENDs', () => {
    const r = recorder(1024);
    r.decoder.push(bytes(END, END, END, 1, END, END, END, END, 2, END, END));
    r.decoder.push(slipEncode(new Uint8Array(0)));
    expect(r.frames).toEqual([bytes(1), bytes(2)]);
    expect(r.dropped).toEqual([]);
  });

  it('holds a frame until its END arrives', () => {
    const r = recorder(1024);
    r.decoder.push(bytes(END, 1, 2, 3));
    expect(r.frames).toEqual([]);
    r.decoder.push(new Uint8Array(0));
    expect(r.frames).toEqual([]);
    r.decoder.push(bytes(4, END));
    expect(r.frames).toEqual([bytes(1, 2, 3, 4)]);
  });

  it('gives each frame its own bytes: later input does not change a frame already delivered', () => {
    const r = recorder(1024);
    r.decoder.push(bytes(END, 1, 2, 3, END));
    r.decoder.push(bytes(END, 9, 9, 9, END));
    expect(r.frames).toEqual([bytes(1, 2, 3), bytes(9, 9, 9)]);
    expect(r.frames[0]?.buffer).not.toBe(r.frames[1]?.buffer);
  });

  it('reads only the view it is given (Buffer slices from a socket pool)', () => {
    const r = recorder(1024);
    const pool = Buffer.from([0xaa, END, 5, 6, END, 0xbb]);
    r.decoder.push(pool.subarray(1, 5));
    expect(r.frames).toEqual([bytes(5, 6)]);
  });

  it('decodes a frame far larger than its initial buffer when the limit allows', () => {
    const r = recorder(100_000);
    const p = randomPacket(prng(3), 60_000);
    const big = new Uint8Array(70_000).map((_, i) => p[i % p.length] ?? i);
    r.decoder.push(slipEncode(big));
    expect(r.frames).toHaveLength(1);
    expect(r.frames[0]).toEqual(big);
  });

  it('round-trips 1,000 random packets cut into random chunks (seeded)', () => {
    for (const seed of [1, 2, 3]) {
      const rand = prng(seed);
      const packets = Array.from({ length: 1000 }, () => randomPacket(rand, 300));
      const stream = concat(packets.map(slipEncode));
      const r = recorder(1024);
      for (let o = 0; o < stream.length; ) {
        const n = rand() < 0.05 ? 0 : 1 + Math.floor(rand() * 97);
        r.decoder.push(stream.subarray(o, o + n));
        o += n;
      }
      const expected = packets.filter((p) => p.length > 0); // an empty packet is an empty frame: ignored
      expect(r.frames.length, `seed ${seed}`).toBe(expected.length);
      expect(hex(r.frames), `seed ${seed}`).toEqual(hex(expected));
      expect(r.dropped).toEqual([]);
    }
  });

  it('round-trips 1,000 random packets with frames joined by one END (the single-END form)', () => {
    const rand = prng(42);
    const packets = Array.from({ length: 1000 }, () => randomPacket(rand, 64)).filter((p) => p.length > 0);
    // END p1 END p2 END … : strip the opening END each encoded frame carries.
    const stream = concat([bytes(END), ...packets.map((p) => slipEncode(p).subarray(1))]);
    const r = recorder(1024);
    for (let o = 0; o < stream.length; ) {
      const n = 1 + Math.floor(rand() * 13);
      r.decoder.push(stream.subarray(o, o + n));
      o += n;
    }
    expect(hex(r.frames)).toEqual(hex(packets));
  });

  describe('limits', () => {
    it('delivers a frame of exactly maxBytes and drops one byte more', () => {
      const r = recorder(8);
      r.decoder.push(slipEncode(new Uint8Array(8).fill(7)));
      r.decoder.push(slipEncode(new Uint8Array(9).fill(8)));
      expect(r.frames).toEqual([new Uint8Array(8).fill(7)]);
      expect(r.dropped).toHaveLength(1);
      expect(r.dropped[0]).toContain('longer than 8 bytes');
    });

    it('counts decoded bytes against the limit: escaped pairs count once', () => {
      const r = recorder(4);
      r.decoder.push(slipEncode(bytes(END, ESC, END, ESC))); // 8 bytes on the wire, 4 decoded
      expect(r.frames).toEqual([bytes(END, ESC, END, ESC)]);
      expect(r.dropped).toEqual([]);
    });

    it('drops an oversize frame whole, reports it once at its END, and recovers at the next frame', () => {
      const r = recorder(16);
      r.decoder.push(slipEncode(bytes(1, 2)));
      r.decoder.push(bytes(END));
      for (let i = 0; i < 100; i++) r.decoder.push(new Uint8Array(50).fill(0x55)); // 5,000 bytes, no END
      expect(r.dropped).toEqual([]); // nothing reported until the frame ends
      r.decoder.push(bytes(0x55, ESC, ESC_END, END, 3, 4, END));
      expect(r.frames).toEqual([bytes(1, 2), bytes(3, 4)]);
      expect(r.dropped).toEqual(['frame longer than 16 bytes']);
    });

    it('with a random stream mixing oversize frames, drops exactly those and keeps the others in order', () => {
      const rand = prng(99);
      const packets = Array.from({ length: 1000 }, () => randomPacket(rand, 300));
      const stream = concat(packets.map(slipEncode));
      const r = recorder(150);
      for (let o = 0; o < stream.length; ) {
        const n = 1 + Math.floor(rand() * 200);
        r.decoder.push(stream.subarray(o, o + n));
        o += n;
      }
      const kept = packets.filter((p) => p.length > 0 && p.length <= 150);
      const over = packets.filter((p) => p.length > 150);
      expect(over.length).toBeGreaterThan(100); // the test exercises the limit
      expect(hex(r.frames)).toEqual(hex(kept));
      expect(r.dropped).toHaveLength(over.length);
      for (const d of r.dropped) expect(d).toBe('frame longer than 150 bytes');
    });

    it('with maxBytes 0 drops every non-empty frame', () => {
      const r = recorder(0);
      r.decoder.push(slipEncode(bytes(1)));
      r.decoder.push(bytes(END, END));
      r.decoder.push(slipEncode(bytes(1, 2, 3)));
      expect(r.frames).toEqual([]);
      expect(r.dropped).toHaveLength(2);
    });
  });

  describe('bad escapes', () => {
    it('drops a frame with ESC followed by anything but ESC_END or ESC_ESC, naming the byte', () => {
      const r = recorder(1024);
      r.decoder.push(bytes(END, 1, ESC, 0x41, 2, 3, END, 4, END));
      expect(r.frames).toEqual([bytes(4)]);
      expect(r.dropped).toEqual(['bad SLIP escape 0x41']);
    });

    it('drops the frame with ESC ESC (a doubled escape), and recovers', () => {
      const r = recorder(1024);
      r.decoder.push(bytes(END, 1, ESC, ESC, ESC_ESC, END));
      r.decoder.push(slipEncode(bytes(ESC)));
      expect(r.frames).toEqual([bytes(ESC)]);
      expect(r.dropped).toEqual(['bad SLIP escape 0xdb']);
    });

    it('reports a bad escape split across chunks', () => {
      const r = recorder(1024);
      r.decoder.push(bytes(END, 7, ESC));
      r.decoder.push(bytes(0x00, 7, END));
      r.decoder.push(slipEncode(bytes(8)));
      expect(r.frames).toEqual([bytes(8)]);
      expect(r.dropped).toEqual(['bad SLIP escape 0x0']);
    });

    it('reports one reason per frame: the first problem found', () => {
      const r = recorder(4);
      r.decoder.push(bytes(END, 1, ESC, 0x10, 1, 1, 1, 1, 1, 1, ESC, 0x20, END));
      r.decoder.push(bytes(END, 1, 1, 1, 1, 1, ESC, 0x30, END));
      expect(r.frames).toEqual([]);
      expect(r.dropped).toEqual(['bad SLIP escape 0x10', 'frame longer than 4 bytes']);
    });

    // RFC 1055: after ESC only ESC_END or ESC_ESC may follow; END there means the frame lost a byte.
    it('drops a frame that ends in a dangling ESC (ESC END)', () => {
      const r = recorder(1024);
      r.decoder.push(bytes(END, 1, 2, ESC, END));
      r.decoder.push(slipEncode(bytes(3)));
      expect(r.frames).toEqual([bytes(3)]);
      expect(r.dropped).toHaveLength(1);
      expect(r.dropped[0]).toMatch(/escape/);
    });
  });

  // A frame handler that throws must not leave that frame's bytes behind, to be delivered again (or
  // prepended to the next frame) at the next END.
  it('is ready for the next frame after a frame handler throws', () => {
    const frames: Uint8Array[] = [];
    let fail = true;
    const decoder = new SlipDecoder(1024, {
      frame: (f) => {
        if (fail) {
          fail = false;
          throw new Error('handler failed');
        }
        frames.push(f);
      },
      dropped: () => {},
    });
    expect(() => decoder.push(slipEncode(bytes(1, 2)))).toThrow('handler failed');
    decoder.push(slipEncode(bytes(3)));
    expect(frames).toEqual([bytes(3)]);
  });
});
