/**
 * A streaming WAV reader (issue #9, "Input": "stream the file, do not load it whole"). It reads a
 * FileHandle in chunks, so its memory is the same for a 1 s clip and a 10 GB recording, and it never
 * allocates from a size the file declares.
 *
 * The header is read by wav-header.ts; this file reads the samples after it, block by block.
 */
import { type FileHandle, open } from 'node:fs/promises';
import {
  ByteSource,
  bad,
  ioError,
  readHeader,
  type WavSampleFormat,
  type WavStreamInfo,
} from './wav-header.js';

export type { WavSampleFormat, WavStreamInfo } from './wav-header.js';

/** The largest block, in frames. */
const MAX_BLOCK_FRAMES = 65536;

export interface WavReader {
  readonly info: WavStreamInfo;
  /** Frames delivered so far. */
  readonly framesRead: number;
  /**
   * The next block, one Float32Array per channel, samples in [-1, 1] (float files as stored); null at
   * the end. When the data chunk ends before its declared size, every complete frame is delivered
   * first, then this rejects with PFM_ERR_AUDIO_FILE saying how many frames were read and declared.
   */
  read(): Promise<Float32Array[] | null>;
  /** The blocks, in order; the reader is closed when the loop ends (at the end, by break, by error). */
  [Symbol.asyncIterator](): AsyncIterator<Float32Array[]>;
  /** Closes the file. Idempotent; a read after it rejects. */
  close(): Promise<void>;
}

/** Options of {@link openWavReader}. */
export interface WavReaderOptions {
  /** Frames per block, 1 to 65,536 (default 4,096). */
  blockFrames?: number;
}

/** One sample at byte `o`, scaled to [-1, 1). */
type SampleReader = (b: Buffer, o: number) => number;
const SAMPLE: Record<WavSampleFormat, SampleReader> = {
  pcm8: (b, o) => (b[o]! - 128) / 128,
  pcm16: (b, o) => b.readInt16LE(o) / 32768,
  pcm24: (b, o) => b.readIntLE(o, 3) / 8388608,
  pcm32: (b, o) => b.readInt32LE(o) / 2147483648,
  float32: (b, o) => b.readFloatLE(o),
  float64: (b, o) => b.readDoubleLE(o),
};

/** The reader over an opened file whose header was read. */
class StreamingWavReader implements WavReader {
  framesRead = 0;
  /** Data bytes left to read; undefined: to EOF. */
  private remaining: number | undefined;
  private done = false;
  private queue: Promise<unknown> = Promise.resolve();
  private closing: Promise<void> | undefined;
  private readonly sample: SampleReader;

  constructor(
    readonly info: WavStreamInfo,
    private readonly path: string,
    private readonly fh: FileHandle,
    private readonly src: ByteSource,
    private readonly blockFrames: number,
  ) {
    this.remaining = info.frames === undefined ? undefined : info.frames * info.blockAlign;
    this.sample = SAMPLE[info.format];
  }

  read(): Promise<Float32Array[] | null> {
    // One read at a time: the byte source has one position.
    const next = this.queue.then(() => this.next());
    this.queue = next.catch(() => {}); // the caller of read() gets the rejection
    return next;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Float32Array[]> {
    try {
      for (let block = await this.read(); block !== null; block = await this.read()) yield block;
    } finally {
      await this.close();
    }
  }

  close(): Promise<void> {
    this.closing ??= this.fh.close();
    return this.closing;
  }

  private async next(): Promise<Float32Array[] | null> {
    if (this.closing !== undefined) throw bad(this.path, 'read after close');
    if (this.done) return null;
    const { blockAlign, channelCount } = this.info;
    const want = Math.min(this.blockFrames * blockAlign, this.remaining ?? Number.POSITIVE_INFINITY);
    const frames = Math.floor((await this.src.fill(want)) / blockAlign);
    if (frames === 0) {
      this.done = true;
      this.checkComplete();
      return null;
    }
    const bytes = this.src.take(frames * blockAlign);
    if (this.remaining !== undefined) this.remaining -= bytes.length;
    const channels = Array.from({ length: channelCount }, () => new Float32Array(frames));
    const step = blockAlign / channelCount;
    const sample = this.sample;
    for (let c = 0; c < channelCount; c++) {
      const out = channels[c]!;
      for (let i = 0, o = c * step; i < frames; i++, o += blockAlign) out[i] = sample(bytes, o);
    }
    this.framesRead += frames;
    return channels;
  }

  /** At the end: a data chunk shorter than declared is an error, after its frames were delivered. */
  private checkComplete(): void {
    const { frames, sampleRate } = this.info;
    if (frames === undefined || this.framesRead >= frames) return;
    const s = (n: number) => (n / sampleRate).toFixed(3);
    throw bad(
      this.path,
      `truncated: the data chunk declares ${frames} frames (${s(frames)} s), the file ends after ${this.framesRead} (${s(this.framesRead)} s)`,
    );
  }
}

/**
 * Opens a WAV file (or a pipe carrying one) and reads its header; the samples are read by the
 * returned reader, block by block. Rejects with PFM_ERR_AUDIO_FILE, the reason saying what is wrong.
 */
export async function openWavReader(path: string, options: WavReaderOptions = {}): Promise<WavReader> {
  const blockFrames = options.blockFrames ?? 4096;
  if (!(Number.isInteger(blockFrames) && blockFrames >= 1 && blockFrames <= MAX_BLOCK_FRAMES))
    throw new RangeError(`blockFrames must be an integer from 1 to ${MAX_BLOCK_FRAMES}, got ${blockFrames}`);
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    throw ioError(path, err);
  }
  try {
    const stat = await fh.stat();
    // open() succeeds on a directory on Linux; say so before a read fails with EISDIR.
    if (stat.isDirectory()) throw bad(path, 'is a directory, not a WAV file');
    const src = new ByteSource(path, fh, stat.isFile());
    const info = await readHeader(src, path);
    return new StreamingWavReader(info, path, fh, src, blockFrames);
  } catch (err) {
    await fh.close();
    throw err;
  }
}

/**
 * One channel of a block: `channel` (0-based) as it is, or the average of all channels when undefined
 * (for a mono file, its one channel, not a copy).
 */
export function mixToMono(block: readonly Float32Array[], channel?: number): Float32Array {
  if (channel !== undefined) {
    const one = block[channel];
    if (one === undefined) throw new RangeError(`channel ${channel} of a ${block.length}-channel block`);
    return one;
  }
  const first = block[0];
  if (first === undefined) throw new RangeError('a block with no channels');
  if (block.length === 1) return first;
  const out = new Float32Array(first.length);
  for (const ch of block) for (let i = 0; i < out.length; i++) out[i] = out[i]! + ch[i]!;
  const k = 1 / block.length;
  for (let i = 0; i < out.length; i++) out[i] = out[i]! * k;
  return out;
}
