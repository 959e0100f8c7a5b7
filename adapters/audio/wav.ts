/**
 * WAV files (RIFF WAVE, Microsoft/IBM Multimedia Programming Interface 1.0, and the IEEE-float format
 * tag of RFC 2361): written block by block so a long render never sits in memory twice, and read back
 * for tests and tools (`readWav`, through the streaming reader of wav-reader.ts).
 *
 * Two sample formats: `pcm16` (16-bit signed PCM, what every player and DAW reads; samples rounded, not
 * dithered, so the same render gives the same bytes) and `float32` (32-bit IEEE float, format tag 3,
 * the render's samples exactly, with the `fact` chunk non-PCM formats require). Samples are interleaved,
 * little-endian.
 */
import { type FileHandle, open } from 'node:fs/promises';
import { AudioFileError } from '../../daemon/kernel/errors.js';
import { openWavReader, type WavSampleFormat } from './wav-reader.js';

/** A WAV sample format. */
export type WavFormat = 'pcm16' | 'float32';

/** What a WAV file holds. */
export interface WavInfo {
  sampleRate: number;
  /** What the file stores (`decodeWav` reads `pcm16` and `float32` only; `readWav` every format). */
  format: WavSampleFormat;
  /** One array per channel, samples in [-1, 1]. */
  channels: Float32Array[];
}

const FORMAT_PCM = 1;
const FORMAT_FLOAT = 3;
const FORMAT_EXTENSIBLE = 0xfffe;
/** Bytes before the samples: RIFF header 12, fmt chunk 8 + 18, fact chunk 8 + 4, data chunk header 8. */
const HEADER_BYTES = 12 + 26 + 12 + 8;
const MAX_DATA_BYTES = 0xffffffff - HEADER_BYTES;

const bytesPerSample = (format: WavFormat): number => (format === 'pcm16' ? 2 : 4);

/** The header for `frames` frames (every size filled in). */
function header(sampleRate: number, channelCount: number, format: WavFormat, frames: number): Uint8Array {
  const bps = bytesPerSample(format);
  const dataBytes = frames * channelCount * bps;
  const b = new DataView(new ArrayBuffer(HEADER_BYTES));
  const text = (offset: number, s: string) => {
    for (let i = 0; i < 4; i++) b.setUint8(offset + i, s.charCodeAt(i));
  };
  text(0, 'RIFF');
  b.setUint32(4, HEADER_BYTES - 8 + dataBytes, true);
  text(8, 'WAVE');
  text(12, 'fmt ');
  b.setUint32(16, 18, true);
  b.setUint16(20, format === 'pcm16' ? FORMAT_PCM : FORMAT_FLOAT, true);
  b.setUint16(22, channelCount, true);
  b.setUint32(24, sampleRate, true);
  b.setUint32(28, sampleRate * channelCount * bps, true);
  b.setUint16(32, channelCount * bps, true);
  b.setUint16(34, bps * 8, true);
  b.setUint16(36, 0, true); // cbSize: no extension
  // A fact chunk (sample frames per channel): required for non-PCM, allowed for PCM; kept for both so
  // the header has one size.
  text(38, 'fact');
  b.setUint32(42, 4, true);
  b.setUint32(46, frames, true);
  text(50, 'data');
  b.setUint32(54, dataBytes, true);
  return new Uint8Array(b.buffer);
}

/** Interleaves `channels[*][from, to)` into the file's sample format. */
function interleave(
  channels: readonly Float32Array[],
  format: WavFormat,
  from: number,
  to: number,
): Uint8Array {
  const n = channels.length;
  const frames = to - from;
  const out = new DataView(new ArrayBuffer(frames * n * bytesPerSample(format)));
  let o = 0;
  for (let i = from; i < to; i++) {
    for (let c = 0; c < n; c++) {
      const x = channels[c]![i]!;
      if (format === 'float32') {
        out.setFloat32(o, x, true);
        o += 4;
      } else {
        const clamped = Math.max(-1, Math.min(1, Number.isNaN(x) ? 0 : x));
        out.setInt16(o, Math.round(clamped < 0 ? clamped * 32768 : clamped * 32767), true);
        o += 2;
      }
    }
  }
  return new Uint8Array(out.buffer);
}

/** Options of a {@link WavWriter}. */
export interface WavWriterOptions {
  sampleRate: number;
  channels: number;
  /** Default `pcm16`. */
  format?: WavFormat;
}

/**
 * Writes a WAV file block by block: the header first with the sizes at zero, the sizes patched in on
 * `close()`. A file left by a crash before `close()` has a zero-length data chunk, which the streaming
 * reader (wav-reader.ts) takes as "length unknown" and reads to the end: what was written survives.
 */
export class WavWriter {
  private frames = 0;
  /** Where the next samples go: every write names its position (the header is written at 0). */
  private offset = HEADER_BYTES;
  private closed: Promise<void> | undefined;

  private constructor(
    readonly path: string,
    private readonly file: FileHandle,
    private readonly options: Required<WavWriterOptions>,
  ) {}

  /** Creates (or truncates) `path` and writes the header. */
  static async create(path: string, options: WavWriterOptions): Promise<WavWriter> {
    const opts = { format: 'pcm16' as const, ...options };
    if (
      !Number.isInteger(opts.sampleRate) ||
      opts.sampleRate <= 0 ||
      !Number.isInteger(opts.channels) ||
      opts.channels < 1
    )
      throw new AudioFileError(path, 'sample rate and channel count must be positive integers');
    let file: FileHandle;
    try {
      file = await open(path, 'w');
      await file.write(header(opts.sampleRate, opts.channels, opts.format, 0), 0, HEADER_BYTES, 0);
    } catch (err) {
      throw new AudioFileError(path, (err as Error).message, { cause: err });
    }
    return new WavWriter(path, file, opts);
  }

  /** Appends frames: one array per channel, all of the same length. */
  async write(channels: readonly Float32Array[]): Promise<void> {
    if (this.closed !== undefined) throw new AudioFileError(this.path, 'written after close');
    const { channels: n, format } = this.options;
    const length = channels[0]?.length ?? 0;
    if (channels.length !== n || channels.some((c) => c.length !== length))
      throw new AudioFileError(this.path, `expected ${n} channels of equal length`);
    if ((this.frames + length) * n * bytesPerSample(format) > MAX_DATA_BYTES)
      throw new AudioFileError(this.path, 'a WAV file holds at most 4 GiB of samples');
    // In blocks of 64 k frames: the interleaved copy stays small whatever the length.
    for (let from = 0; from < length; from += 65536) {
      const bytes = interleave(channels, format, from, Math.min(length, from + 65536));
      try {
        await this.file.write(bytes, 0, bytes.length, this.offset);
        this.offset += bytes.length;
      } catch (err) {
        throw new AudioFileError(this.path, (err as Error).message, { cause: err });
      }
    }
    this.frames += length;
  }

  /** Patches the sizes into the header and closes the file. Idempotent. */
  close(): Promise<void> {
    this.closed ??= (async () => {
      const { sampleRate, channels, format } = this.options;
      try {
        await this.file.write(header(sampleRate, channels, format, this.frames), 0, HEADER_BYTES, 0);
      } catch (err) {
        throw new AudioFileError(this.path, (err as Error).message, { cause: err });
      } finally {
        await this.file.close();
      }
    })();
    return this.closed;
  }
}

/** A whole WAV file in memory. */
export function encodeWav(
  channels: readonly Float32Array[],
  sampleRate: number,
  format: WavFormat = 'pcm16',
): Uint8Array {
  const frames = channels[0]?.length ?? 0;
  const head = header(sampleRate, channels.length, format, frames);
  const body = interleave(channels, format, 0, frames);
  const out = new Uint8Array(head.length + body.length);
  out.set(head);
  out.set(body, head.length);
  return out;
}

/** Writes `channels` to `path` as one WAV file. */
export async function writeWav(
  path: string,
  channels: readonly Float32Array[],
  sampleRate: number,
  format: WavFormat = 'pcm16',
): Promise<void> {
  const w = await WavWriter.create(path, { sampleRate, channels: channels.length, format });
  try {
    await w.write(channels);
  } finally {
    await w.close();
  }
}

/**
 * Reads a whole WAV file into memory, through the streaming reader (wav-reader.ts): every format it
 * reads (PCM 8/16/24/32-bit, float 32/64-bit, plain or WAVE_FORMAT_EXTENSIBLE, any chunk order before
 * the data), with its errors. For tests and tools with short files; a long one is read block by block
 * with {@link openWavReader}.
 */
export async function readWav(path: string): Promise<WavInfo> {
  const reader = await openWavReader(path, { blockFrames: 65536 });
  try {
    const { sampleRate, format, channelCount } = reader.info;
    const blocks: Float32Array[][] = [];
    for (let b = await reader.read(); b !== null; b = await reader.read()) blocks.push(b);
    const channels = Array.from({ length: channelCount }, () => new Float32Array(reader.framesRead));
    let at = 0;
    for (const block of blocks) {
      for (let c = 0; c < channelCount; c++) channels[c]!.set(block[c]!, at);
      at += block[0]!.length;
    }
    return { sampleRate, format, channels };
  } finally {
    await reader.close();
  }
}

/** Decodes WAV bytes; returns the reason when they are not a WAV file this module reads. */
export function decodeWav(bytes: Uint8Array): WavInfo | string {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const text = (o: number) => String.fromCharCode(...bytes.subarray(o, o + 4));
  if (bytes.length < 12 || text(0) !== 'RIFF' || text(8) !== 'WAVE') return 'not a RIFF WAVE file';
  let fmt: { tag: number; channels: number; rate: number; bits: number } | undefined;
  for (let o = 12; o + 8 <= bytes.length; ) {
    const id = text(o);
    const size = v.getUint32(o + 4, true);
    const body = o + 8;
    if (id === 'fmt ' && size >= 16) {
      const tag = v.getUint16(body, true);
      fmt = {
        // WAVE_FORMAT_EXTENSIBLE (what sox and others write beyond 16 bits or 2 channels): the real tag
        // is the first two bytes of its sub-format GUID.
        tag: tag === FORMAT_EXTENSIBLE && size >= 40 ? v.getUint16(body + 24, true) : tag,
        channels: v.getUint16(body + 2, true),
        rate: v.getUint32(body + 4, true),
        bits: v.getUint16(body + 14, true),
      };
    } else if (id === 'data') {
      if (fmt === undefined) return 'data chunk before the fmt chunk';
      return samples(v, body, Math.min(size, bytes.length - body), fmt);
    }
    o = body + size + (size % 2); // chunks are padded to an even size
  }
  return 'no data chunk';
}

function samples(
  v: DataView,
  offset: number,
  size: number,
  fmt: { tag: number; channels: number; rate: number; bits: number },
): WavInfo | string {
  const format: WavFormat | undefined =
    fmt.tag === FORMAT_PCM && fmt.bits === 16
      ? 'pcm16'
      : fmt.tag === FORMAT_FLOAT && fmt.bits === 32
        ? 'float32'
        : undefined;
  if (format === undefined) return `unsupported sample format (tag ${fmt.tag}, ${fmt.bits} bits)`;
  if (fmt.channels < 1) return 'no channels';
  const bps = bytesPerSample(format);
  const frames = Math.floor(size / (bps * fmt.channels));
  const channels = Array.from({ length: fmt.channels }, () => new Float32Array(frames));
  let o = offset;
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < fmt.channels; c++) {
      channels[c]![i] = format === 'float32' ? v.getFloat32(o, true) : v.getInt16(o, true) / 32768;
      o += bps;
    }
  }
  return { sampleRate: fmt.rate, format, channels };
}
