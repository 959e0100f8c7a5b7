/**
 * sox, the independent outside peer for WAV files (Debian package `sox`, a test dependency of CI):
 * it reads what the renderer writes, and the reader reads what sox writes.
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderToWav } from '../../../adapters/audio/render.js';
import { readWav } from '../../../adapters/audio/wav.js';
import { fundamental, peak } from '../../unit/adapters/audio/analysis.js';
import { denseBand } from '../../unit/adapters/audio/fixtures.js';

const soxAvailable = spawnSync('which', ['sox']).status === 0;
const run = promisify(execFile);
const band = {
  masterGain: 0.5,
  instruments: { '2': 'bass', '3': 'pad' },
  otherChannels: 'lead',
  seed: 1,
} as const;

/** `sox --i` fields, e.g. { Channels: '2', 'Sample Rate': '48000' }. */
async function soxInfo(file: string): Promise<Record<string, string>> {
  const { stdout } = await run('sox', ['--i', file]);
  const fields: Record<string, string> = {};
  for (const line of stdout.split('\n')) {
    const m = /^([^:]+?)\s*:\s*(.*)$/.exec(line);
    if (m) fields[m[1]!] = m[2]!;
  }
  return fields;
}

/** `sox FILE -n stat` figures (sox prints them on stderr), e.g. { 'Maximum amplitude': 0.63 }. */
async function soxStat(file: string): Promise<Record<string, number>> {
  const { stderr } = await run('sox', [file, '-n', 'stat']);
  const stats: Record<string, number> = {};
  for (const line of stderr.split('\n')) {
    const m = /^(.+?):\s+(-?[\d.]+)\s*$/.exec(line);
    if (m) stats[m[1]!.trim()] = Number(m[2]);
  }
  return stats;
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'performia-sox-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe.skipIf(!soxAvailable)('WAV files and sox', () => {
  it.each(['pcm16', 'float32'] as const)(
    'sox reads a rendered %s WAV: format, length and level agree',
    async (format) => {
      const file = join(dir, `band-${format}.wav`);
      const r = await renderToWav({ duration: 4, band, messages: denseBand(4) }, file, format);
      const info = await soxInfo(file);
      expect(info.Channels).toBe('2');
      expect(info['Sample Rate']).toBe('48000');
      expect(info.Precision).toBe(format === 'pcm16' ? '16-bit' : '25-bit');
      expect(info['Sample Encoding']).toBe(
        format === 'pcm16' ? '16-bit Signed Integer PCM' : '32-bit Floating Point PCM',
      );
      expect(info.Duration).toMatch(/^00:00:04\.00 = 192000 samples/);
      const stat = await soxStat(file);
      expect(stat['Length (seconds)']).toBe(4);
      // `stat` measures the channels mixed to mono (their mean); its maximum and minimum are signed.
      const [l, r2] = r.channels as [Float32Array, Float32Array];
      const mono = l.map((x, i) => (x + r2[i]!) / 2);
      const soxPeak = Math.max(stat['Maximum amplitude']!, -stat['Minimum amplitude']!);
      expect(soxPeak).toBeCloseTo(peak([mono]), 3);
      expect(soxPeak).toBeLessThan(1);
      expect(stat['RMS     amplitude']).toBeGreaterThan(0.01);
    },
  );

  it.each([16, 32])('reads a %i-bit WAV written by sox', async (bits) => {
    const file = join(dir, `sine-${bits}.wav`);
    const encoding = bits === 32 ? ['-e', 'floating-point'] : [];
    await run('sox', [
      '-n',
      '-r',
      '48000',
      '-c',
      '2',
      '-b',
      String(bits),
      ...encoding,
      file,
      'synth',
      '1',
      'sine',
      '440',
      'vol',
      '0.5',
    ]);
    const wav = await readWav(file);
    expect(wav.sampleRate).toBe(48000);
    expect(wav.channels).toHaveLength(2);
    expect(wav.channels[0]!.length).toBe(48000);
    expect(fundamental(wav.channels[0]!, 48000, 4000, 32768, 100, 2000)).toBeCloseTo(440, 0);
    expect(peak(wav.channels)).toBeCloseTo(0.5, 2);
  });
});
