/** WAV files made by sox (an outside tool: the analyzer is not tested only on our own signals). */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * `count` plucked notes of `note` (a sox note name, `A4`), one every `periodS` seconds, each sounding
 * `soundS` of it, at 48 kHz, 16-bit mono, written in `dir`; resolves with the file's path.
 */
export async function soxPlucks(
  dir: string,
  options: { note: string; periodS: number; soundS: number; count: number },
): Promise<string> {
  const { note, periodS, soundS, count } = options;
  const one = join(dir, `${note}-${periodS}-one.wav`);
  const out = join(dir, `${note}-${periodS}x${count}.wav`);
  const rest = (periodS - soundS).toFixed(3);
  const sound = soundS.toFixed(3);
  await run('sox', [
    '-n',
    '-r',
    '48000',
    '-b',
    '16',
    one,
    'synth',
    sound,
    'pluck',
    note,
    'fade',
    '0',
    sound,
    '0.05',
    'pad',
    '0',
    rest,
  ]);
  await run('sox', [one, out, 'repeat', String(count - 1)]);
  return out;
}

/**
 * sox effects for a click track: one 3 ms 2 kHz click (-3 dB) then silence to fill the beat at `bpm`,
 * `beats` times. Append them to `sox -n … <file>`.
 */
export function clickTrackEffects(bpm: number, beats: number): string[] {
  const beat = 60 / bpm;
  return [
    'synth',
    '0.003',
    'sine',
    '2000',
    'gain',
    '-3',
    'pad',
    '0',
    (beat - 0.003).toFixed(6),
    'repeat',
    String(beats - 1),
  ];
}
