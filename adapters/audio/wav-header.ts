/**
 * The header of a WAV file, read from a stream (wav-reader.ts reads the samples after it): the RIFF
 * chunks walked in file order, the fmt chunk checked, the data chunk found, and every refusal worded
 * for a person (PFM_ERR_AUDIO_FILE with the specific reason). Also the buffered byte source both use.
 *
 * Format: RIFF WAVE (Microsoft/IBM Multimedia Programming Interface and Data Specifications 1.0, 1991,
 * "WAVE Form"; IEEE float tag 3 from RFC 2361; WAVE_FORMAT_EXTENSIBLE from Microsoft's "Multiple
 * Channel Audio Data and WAVE Files", 2007). Chunks are walked in file order; unknown ones (LIST, bext,
 * JUNK, cue …) are skipped with their pad byte (chunks are word-aligned: an odd size is followed by
 * one zero byte).
 */
import type { FileHandle } from 'node:fs/promises';
import { AudioFileError } from '../../daemon/kernel/errors.js';

/** A sample format this reader decodes. `pcm8` is unsigned (offset 128), the others signed. */
export type WavSampleFormat = 'pcm8' | 'pcm16' | 'pcm24' | 'pcm32' | 'float32' | 'float64';

/** What a WAV file's header says. */
export interface WavStreamInfo {
  sampleRate: number;
  channelCount: number;
  format: WavSampleFormat;
  bitsPerSample: number;
  /** Frames (one sample per channel) the data chunk declares; undefined when unknown: read to EOF. */
  frames: number | undefined;
  /** `frames / sampleRate`, or undefined. */
  seconds: number | undefined;
  /** Bytes per frame. */
  blockAlign: number;
  /** Byte offset of the first sample in the file. */
  dataOffset: number;
}

/** A WAV file opened for reading, block by block. */

const TAG_PCM = 1;
const TAG_FLOAT = 3;
const TAG_EXTENSIBLE = 0xfffe;
/** Bytes 2..15 of every KSDATAFORMAT_SUBTYPE GUID whose first two bytes are a format tag. */
const SUBTYPE_TAIL = '000000001000800000aa00389b71';
/** Names of the tags met most (RFC 2361), for the refusal. */
const TAG_NAMES: Record<number, string> = {
  2: 'ADPCM',
  6: 'A-law',
  7: 'µ-law',
  17: 'IMA ADPCM',
  85: 'MPEG Layer 3',
};
const SUPPORTED = 'PCM 8/16/24/32-bit and float 32/64-bit are';
/**
 * Data sizes that mean "unknown, read to the end": 0 (a writer that died before patching its header,
 * as WavWriter leaves one), 0xFFFFFFFF (streaming writers), and 0x7FFFF000, what sox 14.4.2 writes
 * when its output cannot be seeked (measured: `sox -n -t wav - synth …`).
 */
const UNKNOWN_SIZES = new Set([0, 0xffffffff, 0x7ffff000]);
/** The I/O buffer's least size: one read syscall per 64 KiB whatever the block size. */
const IO_BYTES = 65536;

/** PFM_ERR_AUDIO_FILE for `path`; the reason is the specific part of the message. */
export const bad = (path: string, reason: string, cause?: unknown) =>
  // Not `undefined` as the options: createError would format it into the message.
  cause === undefined ? new AudioFileError(path, reason) : new AudioFileError(path, reason, { cause });

/** An error of the file system, worded for a person. */
export function ioError(path: string, err: unknown): ReturnType<typeof bad> {
  const code = (err as { code?: string }).code;
  const words: Record<string, string> = {
    ENOENT: 'no such file',
    EISDIR: 'is a directory, not a WAV file',
    EACCES: 'permission denied: this user may not read it',
    EPERM: 'permission denied: this user may not read it',
    ENOTDIR: 'a part of the path is not a directory',
    ELOOP: 'too many symbolic links in the path',
    EIO: 'input/output error while reading it (a failing disk or network file system?)',
  };
  return bad(path, words[code ?? ''] ?? (err as Error).message, err);
}

/** Buffered reads of a file (positioned) or a pipe (sequential); skips by seeking when it can. */
export class ByteSource {
  private buf: Buffer;
  private start = 0;
  private end = 0;
  /** File offset of `buf[end]`. */
  private filePos = 0;
  private eof = false;

  constructor(
    private readonly path: string,
    private readonly fh: FileHandle,
    private readonly seekable: boolean,
  ) {
    this.buf = Buffer.alloc(IO_BYTES);
  }

  /** File offset of the next unread byte. */
  get position(): number {
    return this.filePos - (this.end - this.start);
  }

  /** Buffers `n` bytes (fewer only at EOF); how many are buffered, up to `n`. */
  async fill(n: number): Promise<number> {
    if (this.end - this.start < n && !this.eof) {
      // Grown only to what a caller asks for: a block or a header field, never a declared size.
      const next = n > this.buf.length ? Buffer.alloc(n) : this.buf;
      this.buf.copy(next, 0, this.start, this.end);
      this.buf = next;
      this.end -= this.start;
      this.start = 0;
      while (this.end < n && !this.eof) {
        let bytesRead: number;
        try {
          const pos = this.seekable ? this.filePos : null;
          ({ bytesRead } = await this.fh.read(this.buf, this.end, this.buf.length - this.end, pos));
        } catch (err) {
          throw ioError(this.path, err);
        }
        if (bytesRead === 0) this.eof = true;
        this.end += bytesRead;
        this.filePos += bytesRead;
      }
    }
    return Math.min(n, this.end - this.start);
  }

  /** The next `n` buffered bytes (a view, valid until the next fill), consumed. */
  take(n: number): Buffer {
    const view = this.buf.subarray(this.start, this.start + n);
    this.start += n;
    return view;
  }

  /** Skips `n` bytes: a seek in a file, reads in a pipe. */
  async skip(n: number): Promise<void> {
    const buffered = Math.min(n, this.end - this.start);
    this.start += buffered;
    let left = n - buffered;
    if (left === 0) return;
    if (this.seekable) {
      this.filePos += left; // past EOF, the next read returns 0 bytes: the end
      return;
    }
    while (left > 0) {
      const got = await this.fill(Math.min(left, this.buf.length));
      if (got === 0) return;
      this.start += got;
      left -= got;
    }
  }
}

/** Printable ASCII as `"text"`, anything else as hex bytes. */
function shown(bytes: Uint8Array): string {
  const text = String.fromCharCode(...bytes);
  return /^[\x20-\x7e]+$/.test(text)
    ? `"${text}"`
    : Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
}

/** Reads and checks the RIFF header: 'RIFF', size, 'WAVE'. */
async function readRiff(src: ByteSource, path: string): Promise<void> {
  const got = await src.fill(12);
  const head = src.take(got);
  const id = head.toString('latin1', 0, 4);
  if (got === 0) throw bad(path, 'the file is empty (0 bytes): not a WAV file');
  if (id === 'RF64' || id === 'BW64')
    throw bad(path, `an ${id} file (EBU Tech 3306, 64-bit sizes) is not supported; RIFF WAVE is`);
  if (id === 'RIFX')
    throw bad(path, 'a RIFX file (big-endian RIFF) is not supported; little-endian RIFF WAVE is');
  if (id !== 'RIFF')
    throw bad(path, `not a WAV file: it starts with ${shown(head.subarray(0, 4))}, not "RIFF"`);
  if (got < 12) throw bad(path, `truncated header: the file ends after ${got} bytes, inside the RIFF header`);
  const form = head.subarray(8, 12);
  if (form.toString('latin1') !== 'WAVE')
    throw bad(path, `not a WAV file: a RIFF ${shown(form)} file, not "WAVE"`);
}

/** The fields of a fmt chunk this reader uses. */
interface Fmt {
  tag: number;
  /** The tag as named in messages: "format tag 2" or "WAVE_FORMAT_EXTENSIBLE sub-format 2". */
  what: string;
  channels: number;
  rate: number;
  blockAlign: number;
  bits: number;
}

/** Reads the body of a fmt chunk of `size` bytes (its header already read). */
async function readFmt(src: ByteSource, path: string, size: number): Promise<Fmt> {
  if (size < 16) throw bad(path, `the fmt chunk is ${size} bytes, too short (16 at least)`);
  const want = Math.min(size, 40);
  const got = await src.fill(want);
  if (got < want)
    throw bad(path, `truncated header: the file ends at byte ${src.position + got}, inside the fmt chunk`);
  const b = src.take(want);
  let tag = b.readUInt16LE(0);
  let what = `format tag ${tag}`;
  if (tag === TAG_EXTENSIBLE) {
    if (size < 40)
      throw bad(path, `a WAVE_FORMAT_EXTENSIBLE fmt chunk is 40 bytes at least, this one is ${size}`);
    tag = b.readUInt16LE(24);
    what = `WAVE_FORMAT_EXTENSIBLE sub-format ${tag}`;
    const tail = b.toString('hex', 26, 40);
    if (tail !== SUBTYPE_TAIL)
      throw bad(
        path,
        `WAVE_FORMAT_EXTENSIBLE sub-format GUID ${b.toString('hex', 24, 40)} is not supported; ${SUPPORTED}`,
      );
  }
  await src.skip(size - want + (size % 2));
  const [channels, rate, blockAlign, bits] = [
    b.readUInt16LE(2),
    b.readUInt32LE(4),
    b.readUInt16LE(12),
    b.readUInt16LE(14),
  ];
  return { tag, what, channels, rate, blockAlign, bits };
}

/** The sample format of a fmt chunk; throws the reason it is not read. */
function formatOf(fmt: Fmt, path: string): WavSampleFormat {
  const { tag, bits, channels, rate, what } = fmt;
  const refuse = (reason: string): never => {
    throw bad(path, reason);
  };
  if (channels === 0) refuse('0 channels: a WAV file has 1 at least');
  if (channels > 32) refuse(`${channels} channels; 1 to 32 are supported`);
  if (!(rate >= 8000 && rate <= 192_000))
    refuse(`sample rate ${rate} Hz is out of range; 8,000 to 192,000 Hz are supported`);
  let format: WavSampleFormat;
  if (tag === TAG_PCM) {
    if (![8, 16, 24, 32].includes(bits))
      refuse(`PCM with ${bits} bits per sample is not supported; 8, 16, 24 or 32 are`);
    format = `pcm${bits}` as WavSampleFormat;
  } else if (tag === TAG_FLOAT) {
    if (bits !== 32 && bits !== 64)
      refuse(`IEEE float with ${bits} bits per sample is not supported; 32 or 64 are`);
    format = `float${bits}` as WavSampleFormat;
  } else {
    const name = TAG_NAMES[tag];
    return refuse(`${what}${name === undefined ? '' : ` (${name})`} is not supported; ${SUPPORTED}`);
  }
  const frameBytes = (channels * bits) / 8;
  if (fmt.blockAlign !== frameBytes)
    refuse(
      `block align ${fmt.blockAlign} does not match ${channels} channel(s) of ${bits} bits (${frameBytes} bytes a frame)`,
    );
  return format;
}

/** Walks the chunks up to the data chunk; the stream's info. */
export async function readHeader(src: ByteSource, path: string): Promise<WavStreamInfo> {
  await readRiff(src, path);
  let fmt: Fmt | undefined;
  let format: WavSampleFormat | undefined;
  const seen: string[] = [];
  for (;;) {
    const got = await src.fill(8);
    if (got < 8) {
      const at = src.position + got;
      if (got > 0) throw bad(path, `truncated header: the file ends at byte ${at}, inside a chunk header`);
      const chunks = seen.length === 0 ? 'no chunks' : `chunks: ${seen.join(', ')}`;
      throw bad(
        path,
        `no ${fmt === undefined ? 'fmt' : 'data'} chunk (the file ends at byte ${at}; ${chunks})`,
      );
    }
    const h = src.take(8);
    const id = h.toString('latin1', 0, 4);
    const size = h.readUInt32LE(4);
    if (seen.length < 8) seen.push(shown(h.subarray(0, 4)));
    if (id === 'fmt ') {
      fmt = await readFmt(src, path, size);
      format = formatOf(fmt, path);
    } else if (id === 'data') {
      if (fmt === undefined || format === undefined) throw bad(path, 'no fmt chunk before the data chunk');
      const frames = UNKNOWN_SIZES.has(size) ? undefined : Math.floor(size / fmt.blockAlign);
      return {
        sampleRate: fmt.rate,
        channelCount: fmt.channels,
        format,
        bitsPerSample: fmt.bits,
        frames,
        seconds: frames === undefined ? undefined : frames / fmt.rate,
        blockAlign: fmt.blockAlign,
        dataOffset: src.position,
      };
    } else {
      await src.skip(size + (size % 2));
    }
  }
}
