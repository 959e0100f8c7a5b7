/**
 * The streaming WAV reader (adapters/audio/wav-reader.ts) on bytes written here: every sample format
 * round-trips within its step, chunks are walked, blocks have the asked size, and each bad file is
 * refused with its own reason (PFM_ERR_AUDIO_FILE).
 */
import { spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readWav } from '../../../../adapters/audio/wav.js';
import {
  mixToMono,
  openWavReader,
  type WavReader,
  type WavSampleFormat,
} from '../../../../adapters/audio/wav-reader.js';
import { hasCode } from '../../../../daemon/kernel/errors.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'performia-wav-reader-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const FORMATS: Record<WavSampleFormat, { tag: number; bits: number; step: number }> = {
  pcm8: { tag: 1, bits: 8, step: 1 / 128 },
  pcm16: { tag: 1, bits: 16, step: 1 / 32768 },
  pcm24: { tag: 1, bits: 24, step: 1 / 8388608 },
  pcm32: { tag: 1, bits: 32, step: 1 / 2147483648 },
  float32: { tag: 3, bits: 32, step: 0 },
  float64: { tag: 3, bits: 64, step: 0 },
};

/** The integer code of `v` in a PCM format of `bits`: rounded to the nearest step and clipped. */
function code(bits: number, v: number): number {
  const full = 2 ** (bits - 1);
  return Math.max(-full, Math.min(full - 1, Math.round(v * full)));
}

/** What reading `v` back from `format` must give, exactly: its code scaled, as a float32. */
function decoded(format: WavSampleFormat, v: number): number {
  const { tag, bits } = FORMATS[format];
  return Math.fround(tag === 3 ? v : code(bits, v) / 2 ** (bits - 1)) + 0; // + 0: no -0
}

/** Interleaved little-endian samples of `format`. */
function encode(format: WavSampleFormat, channels: readonly Float64Array[]): Uint8Array {
  const { bits } = FORMATS[format];
  const bytes = bits / 8;
  const frames = channels[0]!.length;
  const out = Buffer.alloc(frames * channels.length * bytes);
  let o = 0;
  for (let i = 0; i < frames; i++) {
    for (const ch of channels) {
      const v = ch[i]!;
      if (format === 'pcm8') out.writeUInt8(code(8, v) + 128, o);
      else if (format === 'float32') out.writeFloatLE(v, o);
      else if (format === 'float64') out.writeDoubleLE(v, o);
      else out.writeIntLE(code(bits, v), o, bytes);
      o += bytes;
    }
  }
  return out;
}

/** A RIFF chunk: id, size, body, and the pad byte after an odd size. */
function chunk(id: string, body: Uint8Array, size = body.length): Buffer {
  const head = Buffer.alloc(8);
  head.write(id, 0, 'latin1');
  head.writeUInt32LE(size, 4);
  return Buffer.concat([head, body, Buffer.alloc(body.length % 2)]);
}

interface FmtSpec {
  tag: number;
  channels: number;
  rate: number;
  bits: number;
  blockAlign?: number;
  /** Written as WAVE_FORMAT_EXTENSIBLE with this sub-format tag (and GUID tail, hex). */
  subTag?: number;
  guidTail?: string;
  /** Bytes after the 16 (or 40) that mean something: a fmt chunk with extra bytes. */
  extra?: number;
}

/** A fmt chunk's body. */
function fmt(s: FmtSpec): Buffer {
  const extensible = s.subTag !== undefined;
  const b = Buffer.alloc((extensible ? 40 : 16) + (s.extra ?? 0));
  const align = s.blockAlign ?? (s.channels * s.bits) / 8;
  b.writeUInt16LE(extensible ? 0xfffe : s.tag, 0);
  b.writeUInt16LE(s.channels, 2);
  b.writeUInt32LE(s.rate, 4);
  b.writeUInt32LE(s.rate * align, 8);
  b.writeUInt16LE(align, 12);
  b.writeUInt16LE(s.bits, 14);
  if (extensible) {
    b.writeUInt16LE(22, 16); // cbSize
    b.writeUInt16LE(s.bits, 18); // valid bits
    b.writeUInt32LE(0, 20); // channel mask
    b.writeUInt16LE(s.subTag!, 24);
    Buffer.from(s.guidTail ?? '000000001000800000aa00389b71', 'hex').copy(b, 26);
  }
  return b;
}

/** RIFF WAVE bytes: the chunks in the order given. */
function riff(...chunks: Buffer[]): Buffer {
  const body = Buffer.concat([Buffer.from('WAVE', 'latin1'), ...chunks]);
  return Buffer.concat([chunk('RIFF', body).subarray(0, 8), body]);
}

/** A plain WAV file of `format` holding `channels`. */
function wav(format: WavSampleFormat, channels: readonly Float64Array[], rate = 48000): Buffer {
  const { tag, bits } = FORMATS[format];
  return riff(
    chunk('fmt ', fmt({ tag, channels: channels.length, rate, bits })),
    chunk('data', encode(format, channels)),
  );
}

let files = 0;
async function file(bytes: Uint8Array | string): Promise<string> {
  const path = join(dir, `f${files++}.wav`);
  await writeFile(path, bytes);
  return path;
}

/** Every block of a reader, joined per channel, and the block lengths. */
async function readAll(reader: WavReader): Promise<{ channels: Float32Array[]; lengths: number[] }> {
  const blocks: Float32Array[][] = [];
  for (let b = await reader.read(); b !== null; b = await reader.read()) blocks.push(b);
  const lengths = blocks.map((b) => b[0]!.length);
  const total = lengths.reduce((a, b) => a + b, 0);
  const channels = Array.from({ length: reader.info.channelCount }, (_, c) => {
    const out = new Float32Array(total);
    let at = 0;
    for (const b of blocks) {
      out.set(b[c]!, at);
      at += b[c]!.length;
    }
    return out;
  });
  return { channels, lengths };
}

/** A test signal: channel `c` a sine of its own frequency, plus -1, 0 and just under 1 at the start. */
function signal(channels: number, frames: number): Float64Array[] {
  return Array.from({ length: channels }, (_, c) => {
    const x = new Float64Array(frames);
    for (let i = 0; i < frames; i++) x[i] = 0.9 * Math.sin((2 * Math.PI * (c + 1) * 100 * i) / 48000);
    x[0] = -1;
    x[1] = 0;
    x[2] = 0.99999;
    return x;
  });
}

/** The error `promise` rejects with, checked to be PFM_ERR_AUDIO_FILE about `path`. */
async function refusal(promise: Promise<unknown>, path: string): Promise<string> {
  const err = await promise.then(
    () => new Error('resolved'),
    (e: unknown) => e as Error,
  );
  expect(hasCode(err, 'PFM_ERR_AUDIO_FILE'), err.message).toBe(true);
  expect(err.message.startsWith(`WAV file ${path}: `)).toBe(true);
  return err.message.slice(`WAV file ${path}: `.length);
}
const refused = async (bytes: Uint8Array | string): Promise<string> => {
  const path = await file(bytes);
  return refusal(openWavReader(path), path);
};

describe('openWavReader: formats', () => {
  it.each(Object.keys(FORMATS) as WavSampleFormat[])('%s round-trips within its step', async (format) => {
    const sent = signal(2, 1000);
    const path = await file(wav(format, sent));
    const reader = await openWavReader(path);
    const { sampleRate, channelCount, bitsPerSample, frames, seconds, blockAlign } = reader.info;
    expect({ sampleRate, channelCount, format: reader.info.format, bitsPerSample, frames, seconds }).toEqual({
      sampleRate: 48000,
      channelCount: 2,
      format,
      bitsPerSample: FORMATS[format].bits,
      frames: 1000,
      seconds: 1000 / 48000,
    });
    expect(blockAlign).toBe((2 * FORMATS[format].bits) / 8);
    const { channels } = await readAll(reader);
    await reader.close();
    // Within the format's step (float32's own rounding of a 32-bit code on top), and exactly the
    // code the writer chose: the top code clips, so just under full scale is a step away.
    const step = Math.max(FORMATS[format].step, 2 ** -24);
    for (let c = 0; c < 2; c++) {
      expect(channels[c]).toHaveLength(1000);
      for (let i = 0; i < 1000; i++) {
        const want = sent[c]![i]!;
        const got = channels[c]![i]!;
        expect(got, `${c}:${i}`).toBe(decoded(format, want));
        expect(Math.abs(got - want), `${c}:${i}`).toBeLessThanOrEqual(step);
      }
      expect(channels[c]![0]).toBe(-1);
      expect(channels[c]![1]).toBe(0);
    }
  });

  it('reads WAVE_FORMAT_EXTENSIBLE by its sub-format: 24-bit PCM and 32-bit float', async () => {
    const sent = signal(3, 300);
    for (const [format, subTag] of [
      ['pcm24', 1],
      ['float32', 3],
    ] as const) {
      const { bits } = FORMATS[format];
      const path = await file(
        riff(
          chunk('fmt ', fmt({ tag: 0, subTag, channels: 3, rate: 96000, bits })),
          chunk('data', encode(format, sent)),
        ),
      );
      const reader = await openWavReader(path);
      expect(reader.info.format).toBe(format);
      expect(reader.info.sampleRate).toBe(96000);
      const { channels } = await readAll(reader);
      for (let c = 0; c < 3; c++) expect(channels[c]![100]).toBeCloseTo(sent[c]![100]!, 6);
      await reader.close();
    }
  });

  it('keeps 32 channels apart, at 8 kHz and at 192 kHz', async () => {
    const sent = Array.from({ length: 32 }, (_, c) =>
      Float64Array.from({ length: 50 }, (_, i) => (c - 16) / 32 + i / 4096),
    );
    for (const rate of [8000, 192000]) {
      const reader = await openWavReader(await file(wav('pcm16', sent, rate)));
      expect(reader.info.sampleRate).toBe(rate);
      const { channels } = await readAll(reader);
      expect(channels).toHaveLength(32);
      for (let c = 0; c < 32; c++)
        for (let i = 0; i < 50; i++)
          expect(Math.abs(channels[c]![i]! - sent[c]![i]!)).toBeLessThan(1 / 32768);
      await reader.close();
    }
  });

  it('readWav (wav.ts) reads the formats through the reader', async () => {
    const sent = signal(1, 200);
    const back = await readWav(await file(wav('pcm24', sent, 44100)));
    expect(back.format).toBe('pcm24');
    expect(back.sampleRate).toBe(44100);
    expect(back.channels[0]![50]).toBeCloseTo(sent[0]![50]!, 6);
    expect(back.channels[0]).toHaveLength(200);
  });
});

describe('openWavReader: chunks', () => {
  const mono = signal(1, 64);
  const fmt16 = chunk('fmt ', fmt({ tag: 1, channels: 1, rate: 48000, bits: 16 }));
  const data = chunk('data', encode('pcm16', mono));

  it('skips unknown chunks (a large one by seeking), odd sizes with their pad byte, and extra fmt bytes', async () => {
    const bytes = riff(
      chunk('LIST', Buffer.from('INFOISFT\x05\x00\x00\x00sox!\x00', 'latin1')),
      chunk('bext', Buffer.from('odd!!')), // 5 bytes + pad
      chunk('fmt ', fmt({ tag: 1, channels: 1, rate: 48000, bits: 16, extra: 9 })), // 25 bytes + pad
      chunk('JUNK', Buffer.alloc(300_001, 'A')), // more than the read buffer: skipped by a seek
      data,
      chunk('LIST', Buffer.from('after the data: not samples')),
    );
    const reader = await openWavReader(await file(bytes));
    expect(reader.info.frames).toBe(64);
    const { channels } = await readAll(reader);
    expect(channels[0]).toHaveLength(64);
    expect(channels[0]![10]).toBeCloseTo(mono[0]![10]!, 4);
    await reader.close();
  });

  it.each([0, 0xffffffff, 0x7ffff000])(
    'a data size of %i means unknown: frames undefined, read to the end (a partial last frame dropped)',
    async (size) => {
      // Stereo 16-bit: 4 bytes a frame, so 2 more bytes are half a frame (and no pad byte).
      const stereo = chunk('fmt ', fmt({ tag: 1, channels: 2, rate: 48000, bits: 16 }));
      const samples = Buffer.concat([
        Buffer.from(encode('pcm16', [mono[0]!, mono[0]!])),
        Buffer.from([1, 2]),
      ]);
      const reader = await openWavReader(await file(riff(stereo, chunk('data', samples, size))));
      expect(reader.info.frames).toBeUndefined();
      expect(reader.info.seconds).toBeUndefined();
      const { channels } = await readAll(reader);
      expect(channels[0]).toHaveLength(64);
      expect(await reader.read()).toBeNull();
      await reader.close();
    },
  );

  it('skips a chunk that declares 4 GiB without reading or allocating it', async () => {
    const huge = Buffer.concat([chunk('JUNK', Buffer.alloc(16), 0xfffffff0).subarray(0, 24)]);
    expect(await refused(riff(fmt16, huge, data))).toMatch(
      /^no data chunk \(the file ends at byte \d+; chunks: "fmt ", "JUNK"\)$/,
    );
  });

  it('reads a pipe: chunks skipped by reading through them', async () => {
    const fifo = join(dir, 'pipe.wav');
    if (spawnSync('mkfifo', [fifo]).status !== 0) throw new Error('mkfifo failed');
    const bytes = riff(
      chunk('LIST', Buffer.alloc(70_001, 'B')),
      fmt16,
      chunk('data', encode('pcm16', mono), 0xffffffff),
    );
    const writing = writeFile(fifo, bytes);
    const reader = await openWavReader(fifo, { blockFrames: 10 });
    const { channels, lengths } = await readAll(reader);
    await writing;
    expect(lengths).toEqual([10, 10, 10, 10, 10, 10, 4]);
    expect(channels[0]![63]).toBeCloseTo(mono[0]![63]!, 4);
    await reader.close();
  });
});

describe('WavReader: blocks', () => {
  it.each([1, 7, 4096])(
    'blocks of %i frames: every block full but the last, nothing lost',
    async (blockFrames) => {
      const sent = signal(2, 10_000);
      const reader = await openWavReader(await file(wav('pcm16', sent)), { blockFrames });
      const { channels, lengths } = await readAll(reader);
      expect(lengths.slice(0, -1).every((n) => n === blockFrames)).toBe(true);
      expect(lengths.at(-1)).toBe(10_000 % blockFrames || blockFrames);
      expect(reader.framesRead).toBe(10_000);
      for (let c = 0; c < 2; c++)
        for (let i = 0; i < 10_000; i += 97)
          expect(Math.abs(channels[c]![i]! - sent[c]![i]!)).toBeLessThanOrEqual(1 / 32768);
      await reader.close();
    },
  );

  it('a file shorter than a block gives one short block, then null, then null again', async () => {
    const reader = await openWavReader(await file(wav('float32', signal(1, 5))));
    expect((await reader.read())![0]).toHaveLength(5);
    expect(await reader.read()).toBeNull();
    expect(await reader.read()).toBeNull();
    await reader.close();
  });

  it('concurrent reads get consecutive blocks; reads after close reject; close is idempotent', async () => {
    const path = await file(wav('pcm16', signal(1, 30)));
    const reader = await openWavReader(path, { blockFrames: 10 });
    const [a, b] = await Promise.all([reader.read(), reader.read()]);
    expect(a![0]![0]).toBe(-1); // the first frame is -1
    expect(b![0]).toHaveLength(10);
    expect(b![0]![0]).not.toBe(-1);
    await Promise.all([reader.close(), reader.close()]);
    expect(await refusal(reader.read(), path)).toBe('read after close');
  });

  it('for await reads every block and closes the reader, also on break', async () => {
    const path = await file(wav('pcm16', signal(1, 25)));
    const reader = await openWavReader(path, { blockFrames: 10 });
    const seen: number[] = [];
    for await (const block of reader) seen.push(block[0]!.length);
    expect(seen).toEqual([10, 10, 5]);
    expect(await refusal(reader.read(), path)).toBe('read after close');
    const early = await openWavReader(path, { blockFrames: 10 });
    for await (const _ of early) break;
    expect(await refusal(early.read(), path)).toBe('read after close');
  });

  it('refuses a block size outside 1..65536', async () => {
    const path = await file(wav('pcm16', signal(1, 5)));
    for (const blockFrames of [0, 1.5, 65537])
      await expect(openWavReader(path, { blockFrames })).rejects.toThrow(RangeError);
  });
});

describe('mixToMono', () => {
  const block = [Float32Array.of(1, 0.5), Float32Array.of(0, -0.5), Float32Array.of(0.5, 0.5)];
  it('averages the channels, or picks one (0-based)', () => {
    expect(Array.from(mixToMono(block))).toEqual([0.5, Math.fround(0.5 / 3)]);
    expect(mixToMono(block, 1)).toBe(block[1]);
    expect(mixToMono([block[0]!])).toBe(block[0]);
    expect(() => mixToMono(block, 3)).toThrow(RangeError);
  });
});

describe('openWavReader: bad files, each with its reason', () => {
  const fmt16 = (s: Partial<FmtSpec> = {}) =>
    chunk('fmt ', fmt({ tag: 1, channels: 1, rate: 48000, bits: 16, ...s }));
  const data = chunk('data', Buffer.alloc(8));

  it('not a WAV file: text, zeros, empty, another RIFF form', async () => {
    expect(await refused('hello, world\n')).toBe('not a WAV file: it starts with "hell", not "RIFF"');
    expect(await refused(Buffer.alloc(4096))).toBe('not a WAV file: it starts with 00 00 00 00, not "RIFF"');
    expect(await refused('')).toBe('the file is empty (0 bytes): not a WAV file');
    const avi = Buffer.concat([chunk('RIFF', Buffer.from('AVI ')).subarray(0, 8), Buffer.from('AVI LIST')]);
    expect(await refused(avi)).toBe('not a WAV file: a RIFF "AVI " file, not "WAVE"');
  });

  it('RF64 and RIFX are named as such', async () => {
    expect(await refused(Buffer.from('RF64\xff\xff\xff\xffWAVEds64', 'latin1'))).toMatch(
      /^an RF64 file \(EBU Tech 3306, 64-bit sizes\) is not supported/,
    );
    expect(await refused(Buffer.from('RIFX\x00\x00\x00\x24WAVEfmt ', 'latin1'))).toMatch(
      /^a RIFX file \(big-endian RIFF\) is not supported/,
    );
  });

  it('a header cut short: in the RIFF header, in the fmt chunk, in a chunk header', async () => {
    const whole = riff(fmt16(), data);
    expect(await refused(whole.subarray(0, 8))).toBe(
      'truncated header: the file ends after 8 bytes, inside the RIFF header',
    );
    expect(await refused(whole.subarray(0, 30))).toBe(
      'truncated header: the file ends at byte 30, inside the fmt chunk',
    );
    expect(await refused(whole.subarray(0, 40))).toBe(
      'truncated header: the file ends at byte 40, inside a chunk header',
    );
  });

  it('no fmt chunk, no data chunk', async () => {
    expect(await refused(riff(data))).toBe('no fmt chunk before the data chunk');
    expect(await refused(riff(chunk('LIST', Buffer.alloc(4))))).toBe(
      'no fmt chunk (the file ends at byte 24; chunks: "LIST")',
    );
    expect(await refused(riff(fmt16()))).toBe('no data chunk (the file ends at byte 36; chunks: "fmt ")');
  });

  it('channels, rate, bits and block align that do not fit', async () => {
    const r = (s: Partial<FmtSpec>) => refused(riff(fmt16(s), data));
    expect(await r({ channels: 0, blockAlign: 2 })).toBe('0 channels: a WAV file has 1 at least');
    expect(await r({ channels: 33 })).toBe('33 channels; 1 to 32 are supported');
    expect(await r({ rate: 7999 })).toBe(
      'sample rate 7999 Hz is out of range; 8,000 to 192,000 Hz are supported',
    );
    expect(await r({ rate: 192001 })).toMatch(/^sample rate 192001 Hz is out of range/);
    expect(await r({ bits: 12, blockAlign: 2 })).toBe(
      'PCM with 12 bits per sample is not supported; 8, 16, 24 or 32 are',
    );
    expect(await r({ tag: 3, bits: 16 })).toBe(
      'IEEE float with 16 bits per sample is not supported; 32 or 64 are',
    );
    expect(await r({ channels: 2, blockAlign: 3 })).toBe(
      'block align 3 does not match 2 channel(s) of 16 bits (4 bytes a frame)',
    );
  });

  it('unsupported format tags are named', async () => {
    const r = (s: Partial<FmtSpec>) => refused(riff(fmt16(s), data));
    expect(await r({ tag: 2, bits: 4, blockAlign: 256 })).toBe(
      'format tag 2 (ADPCM) is not supported; PCM 8/16/24/32-bit and float 32/64-bit are',
    );
    expect(await r({ tag: 0x1234 })).toBe(
      'format tag 4660 is not supported; PCM 8/16/24/32-bit and float 32/64-bit are',
    );
    expect(await r({ subTag: 7, bits: 8 })).toBe(
      'WAVE_FORMAT_EXTENSIBLE sub-format 7 (µ-law) is not supported; PCM 8/16/24/32-bit and float 32/64-bit are',
    );
    expect(await r({ subTag: 1, guidTail: '00002107d3118644c8c1ca000000' })).toMatch(
      /^WAVE_FORMAT_EXTENSIBLE sub-format GUID 010000002107d3118644c8c1ca000000 is not supported/,
    );
  });

  it('fmt chunks too short for what they say', async () => {
    expect(await refused(riff(chunk('fmt ', Buffer.alloc(14)), data))).toBe(
      'the fmt chunk is 14 bytes, too short (16 at least)',
    );
    const ext = fmt({ tag: 0, subTag: 1, channels: 1, rate: 48000, bits: 16 }).subarray(0, 18);
    expect(await refused(riff(chunk('fmt ', ext), data))).toBe(
      'a WAVE_FORMAT_EXTENSIBLE fmt chunk is 40 bytes at least, this one is 18',
    );
  });

  it('a data chunk cut short: every whole frame is delivered, then the error says read and declared', async () => {
    const sent = signal(2, 100);
    const whole = wav('pcm16', sent);
    const path = await file(whole.subarray(0, whole.length - 40 * 4 - 2)); // 59.5 frames of 100 left
    const reader = await openWavReader(path, { blockFrames: 32 });
    expect(reader.info.frames).toBe(100);
    expect((await reader.read())![0]).toHaveLength(32);
    expect((await reader.read())![0]).toHaveLength(27);
    expect(await refusal(reader.read(), path)).toBe(
      'truncated: the data chunk declares 100 frames (0.002 s), the file ends after 59 (0.001 s)',
    );
    expect(reader.framesRead).toBe(59);
    await reader.close();
    // A size far past the end is read as far as there are samples, not allocated.
    const claim = riff(fmt16(), chunk('data', Buffer.alloc(20), 0xfffffff0).subarray(0, 28));
    const big = await file(claim);
    const r2 = await openWavReader(big);
    expect(r2.info.frames).toBe(0x7ffffff8);
    expect((await r2.read())![0]).toHaveLength(10);
    expect(await refusal(r2.read(), big)).toMatch(
      /^truncated: the data chunk declares 2147483640 frames .* ends after 10 /,
    );
    await r2.close();
  });

  it('file system errors in words: no such file, a directory, no permission', async () => {
    const missing = join(dir, 'missing.wav');
    expect(await refusal(openWavReader(missing), missing)).toBe('no such file');
    const sub = join(dir, 'a-dir.wav');
    await mkdir(sub);
    expect(await refusal(openWavReader(sub), sub)).toBe('is a directory, not a WAV file');
    expect(await refusal(openWavReader(join(missing, 'x.wav')), join(missing, 'x.wav'))).toBe('no such file');
    const notDir = await file(wav('pcm16', signal(1, 4)));
    expect(await refusal(openWavReader(join(notDir, 'x.wav')), join(notDir, 'x.wav'))).toBe(
      'a part of the path is not a directory',
    );
  });

  // root reads every file whatever its mode: the check needs an ordinary user.
  it.skipIf(process.getuid?.() === 0)('a file this user may not read', async () => {
    const path = await file(wav('pcm16', signal(1, 4)));
    await chmod(path, 0);
    expect(await refusal(openWavReader(path), path)).toBe('permission denied: this user may not read it');
  });

  it('a refused file is closed again: no file descriptor left open', async () => {
    const path = await file('not a wav');
    const before = (await readdir('/proc/self/fd')).length;
    for (let i = 0; i < 20; i++) await openWavReader(path).catch(() => undefined);
    expect((await readdir('/proc/self/fd')).length).toBe(before);
  });
});
