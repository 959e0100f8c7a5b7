import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeWav, encodeWav, readWav, WavWriter, writeWav } from '../../../../adapters/audio/wav.js';
import { hasCode } from '../../../../daemon/kernel/errors.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'performia-wav-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Two channels of a 1 kHz sine and its opposite, plus full-scale and out-of-range samples. */
function signal(frames: number): Float32Array[] {
  const l = new Float32Array(frames);
  const r = new Float32Array(frames);
  for (let i = 0; i < frames; i++) {
    l[i] = 0.5 * Math.sin((2 * Math.PI * 1000 * i) / 48000);
    r[i] = -l[i]!;
  }
  l[0] = 1;
  r[0] = -1;
  l[1] = 1.5; // clipped in pcm16, kept in float32
  return [l, r];
}

describe('WAV files', () => {
  it('round-trips float32 exactly', async () => {
    const channels = signal(4800);
    const path = join(dir, 'f.wav');
    await writeWav(path, channels, 48000, 'float32');
    const back = await readWav(path);
    expect(back.sampleRate).toBe(48000);
    expect(back.format).toBe('float32');
    expect(back.channels).toHaveLength(2);
    expect(Buffer.from(back.channels[0]!.buffer).equals(Buffer.from(channels[0]!.buffer))).toBe(true);
    expect(Buffer.from(back.channels[1]!.buffer).equals(Buffer.from(channels[1]!.buffer))).toBe(true);
  });

  it('round-trips pcm16 within one step, clipping what is out of range', async () => {
    const channels = signal(4800);
    const path = join(dir, 'p.wav');
    await writeWav(path, channels, 44100);
    const back = await readWav(path);
    expect(back.format).toBe('pcm16');
    expect(back.sampleRate).toBe(44100);
    for (let c = 0; c < 2; c++) {
      for (let i = 2; i < 4800; i++)
        expect(Math.abs(back.channels[c]![i]! - channels[c]![i]!)).toBeLessThan(1 / 32767);
    }
    expect(back.channels[0]![1]).toBeCloseTo(32767 / 32768, 6);
    expect(back.channels[1]![0]).toBe(-1);
    expect((await readFile(path)).length).toBe(58 + 4800 * 2 * 2);
  });

  it('written block by block is byte for byte the file written at once', async () => {
    const channels = signal(100_000);
    const path = join(dir, 'blocks.wav');
    const w = await WavWriter.create(path, { sampleRate: 48000, channels: 2, format: 'float32' });
    for (let from = 0; from < 100_000; from += 30_000)
      await w.write(channels.map((c) => c.subarray(from, from + 30_000)));
    await w.close();
    await w.close(); // idempotent
    expect((await readFile(path)).equals(Buffer.from(encodeWav(channels, 48000, 'float32')))).toBe(true);
    await expect(w.write(channels)).rejects.toThrow(/written after close/);
  });

  it('refuses files it cannot read, with PFM_ERR_AUDIO_FILE', async () => {
    expect(decodeWav(new Uint8Array(8))).toMatch(/not a RIFF WAVE/);
    const eight = encodeWav([new Float32Array(4)], 8000, 'pcm16');
    new DataView(eight.buffer).setUint16(34, 8, true); // 8-bit PCM
    expect(decodeWav(eight)).toMatch(/unsupported sample format/);
    const path = join(dir, 'bad.wav');
    await writeFile(path, 'hello');
    const err = await readWav(path).catch((e: unknown) => e);
    expect(hasCode(err, 'PFM_ERR_AUDIO_FILE')).toBe(true);
    expect(
      hasCode(await readWav(join(dir, 'missing.wav')).catch((e: unknown) => e), 'PFM_ERR_AUDIO_FILE'),
    ).toBe(true);
    const w = await WavWriter.create(join(dir, 'x.wav'), { sampleRate: 48000, channels: 2 });
    await expect(w.write([new Float32Array(3)])).rejects.toThrow(/expected 2 channels/);
    await w.close();
    const noDir = await WavWriter.create(join(dir, 'no', 'such', 'dir.wav'), {
      sampleRate: 48000,
      channels: 1,
    }).catch((e: unknown) => e);
    expect(hasCode(noDir, 'PFM_ERR_AUDIO_FILE')).toBe(true);
  });
});
