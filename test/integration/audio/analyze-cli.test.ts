/**
 * `performia analyze` (issue #9, "Input"), the built CLI run as a user runs it, on WAV files made by
 * sox (the outside tool: Debian package `sox`, installed by .ci/run) and on bad files: what it prints,
 * its exit codes, and its memory on a 10 GB file. Skipped where sox is missing.
 */
import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setInterval as every } from 'node:timers/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, runCli, tempDir } from '../../helpers/process.js';
import { clickTrackEffects } from '../../helpers/sox.js';

const soxAvailable = spawnSync('sox', ['--version']).status === 0;
const run = promisify(execFile);

let tmp: ReturnType<typeof tempDir>;
beforeAll(() => {
  tmp = tempDir();
});
afterAll(() => {
  tmp.cleanup();
});

/** `sox -R -D -n [format…] FILE effects…` (repeatable, no dither): a synthesized WAV in the temp dir. */
async function sox(name: string, format: string[], effects: string[]): Promise<string> {
  const path = join(tmp.dir, name);
  await run('sox', ['-R', '-D', '-n', '-r', '48000', '-c', '1', '-b', '16', ...format, path, ...effects]);
  return path;
}

const analyze = (...args: string[]) => runCli(['analyze', ...args]);

interface Json {
  kind: string;
  at: number;
  detectedAt: number;
  [key: string]: unknown;
}
/** stdout of `--json`: every line must be a JSON object. */
const jsonLines = (stdout: string): Json[] =>
  stdout
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as Json);

const LINE = {
  pitch: /^ +(\d+\.\d{3}) {2}pitch {2}([A-G]#?\d) ([+-]\d+) cents {2}(\d+\.\d) Hz {2}confidence (\d\.\d\d)$/,
  onset: /^ +(\d+\.\d{3}) {2}onset {2}strength (\d\.\d\d)$/,
  tempo: /^ +(\d+\.\d{3}) {2}tempo {2}(\d+\.\d) BPM {2}confidence (\d\.\d\d)$/,
};
/** The text output split: header, events (each line matched by its kind's pattern), summary. */
function textOf(stdout: string): {
  header: string;
  events: RegExpExecArray[];
  kinds: string[];
  summary: string;
} {
  const lines = stdout.trimEnd().split('\n');
  const events: RegExpExecArray[] = [];
  const kinds: string[] = [];
  for (const line of lines.slice(1, -1)) {
    const kind = (Object.keys(LINE) as (keyof typeof LINE)[]).find((k) => LINE[k].test(line));
    expect(kind, `an event line: "${line}"`).toBeDefined();
    events.push(LINE[kind!].exec(line)!);
    kinds.push(kind!);
  }
  return { header: lines[0]!, events, kinds, summary: lines.at(-1)! };
}

describe.skipIf(!soxAvailable)('performia analyze', () => {
  it('a plucked A4 at 0.25 s: header, one onset, the pitch within ±10 cents, summary', async () => {
    const file = await sox('pluck-a4.wav', [], ['synth', '1', 'pluck', 'A4', 'pad', '0.25', '0.25']);
    const r = await analyze(file);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const { header, events, kinds, summary } = textOf(r.stdout);
    expect(header).toBe(`${file}: 48000 Hz, 1 channel, 16-bit PCM, 1.500 s`);
    expect(kinds).toEqual(['onset', 'pitch']);
    const [onset, pitch] = events as [RegExpExecArray, RegExpExecArray];
    expect(Math.abs(Number(onset[1]) - 0.25)).toBeLessThanOrEqual(0.01);
    expect(pitch[2]).toBe('A4');
    expect(Math.abs(Number(pitch[3]))).toBeLessThanOrEqual(10);
    expect(Math.abs(Number(pitch[4]) - 440)).toBeLessThan(440 * (2 ** (10 / 1200) - 1));
    expect(summary).toBe('summary: 1.500 s analyzed: 1 pitch, 1 onset, 0 tempo estimates; no tempo');
  });

  it('--json: JSON lines only, the events as the Analyzer gives them, then the summary', async () => {
    const file = await sox('sine-440.wav', [], ['synth', '1', 'sine', '440', 'gain', '-6', 'pad', '0.5']);
    const r = await analyze(file, '--json');
    expect(r.code).toBe(0);
    const lines = jsonLines(r.stdout);
    const summary = lines.at(-1)!;
    const events = lines.slice(0, -1);
    expect(events.map((e) => e.kind)).toEqual(['onset', 'pitch']);
    for (const e of events) {
      expect(Math.abs(e.at - 0.5)).toBeLessThanOrEqual(0.01);
      expect(e.detectedAt).toBeGreaterThanOrEqual(e.at);
    }
    const pitch = events[1]!;
    expect(pitch).toMatchObject({ note: 'A4', midi: 69 });
    expect(Math.abs(pitch.cents as number)).toBeLessThanOrEqual(10);
    expect(Object.keys(pitch).sort()).toEqual([
      'at',
      'cents',
      'confidence',
      'detectedAt',
      'hz',
      'kind',
      'midi',
      'note',
    ]);
    expect(summary).toEqual({
      kind: 'summary',
      file,
      sampleRate: 48000,
      channels: 1,
      format: 'pcm16',
      bitsPerSample: 16,
      analyzed: 'mix',
      declaredFrames: 72000,
      frames: 72000,
      seconds: 1.5,
      complete: true,
      counts: { pitch: 1, onset: 1, tempo: 0 },
      tempo: null,
    });
  });

  it('notes at known times: each onset within ±10 ms, each note named within ±10 cents, in time order', async () => {
    const notes = [
      { at: 0.3, note: 'G3' },
      { at: 0.71, note: 'C4' },
      { at: 1.05, note: 'E4' },
      { at: 1.52, note: 'C3' },
      { at: 1.9, note: 'A4' },
    ];
    const end = 2.6;
    // One file per note, each lasting until 30 ms before the next (a 20 ms fade-out), joined by sox.
    const parts = [await sox('lead.wav', [], ['trim', '0', String(notes[0]!.at)])];
    for (const [i, { at, note }] of notes.entries()) {
      const len = (notes[i + 1]?.at ?? end) - at;
      const sound = (len - 0.03).toFixed(3);
      const effects = [
        'synth',
        sound,
        'pluck',
        note,
        'gain',
        '-8',
        'fade',
        '0',
        sound,
        '0.02',
        'pad',
        '0',
        '0.03',
      ];
      parts.push(await sox(`note-${i}.wav`, [], effects));
    }
    const file = join(tmp.dir, 'melody.wav');
    await run('sox', [...parts, file]);
    const r = await analyze(file);
    expect(r.code).toBe(0);
    const { events, kinds } = textOf(r.stdout);
    const times = events.map((e) => Number(e[1]));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    const onsets = events.filter((_, i) => kinds[i] === 'onset');
    const pitches = events.filter((_, i) => kinds[i] === 'pitch');
    expect(onsets).toHaveLength(notes.length);
    expect(pitches).toHaveLength(notes.length);
    notes.forEach(({ at, note }, i) => {
      expect(Math.abs(Number(onsets[i]![1]) - at), `onset ${i}`).toBeLessThanOrEqual(0.01);
      expect(pitches[i]![2], `note ${i}`).toBe(note);
      expect(Math.abs(Number(pitches[i]![3])), `cents ${i}`).toBeLessThanOrEqual(10);
    });
  });

  it.each([90, 120])('a %i BPM click track: onsets on the beats, tempo within ±1 BPM', async (bpm) => {
    const beat = 60 / bpm;
    const file = await sox(`clicks-${bpm}.wav`, [], [...clickTrackEffects(bpm, 16), 'pad', '0.25', '0.5']);
    const text = await analyze(file);
    expect(text.code).toBe(0);
    const { events, kinds, summary } = textOf(text.stdout);
    const onsets = events.filter((_, i) => kinds[i] === 'onset').map((e) => Number(e[1]));
    expect(onsets).toHaveLength(16);
    onsets.forEach((at, i) => {
      expect(Math.abs(at - (0.25 + i * beat))).toBeLessThanOrEqual(0.01);
    });
    const tempos = events.filter((_, i) => kinds[i] === 'tempo').map((e) => Number(e[2]));
    expect(tempos.length).toBeGreaterThanOrEqual(1);
    for (const t of tempos) expect(Math.abs(t - bpm)).toBeLessThanOrEqual(1);
    expect(summary).toMatch(
      new RegExp(`; last tempo ${tempos.at(-1)!.toFixed(1)} BPM \\(confidence \\d\\.\\d\\d\\)$`),
    );
    const json = jsonLines((await analyze(file, '--json')).stdout);
    const last = json.at(-1)!;
    expect(Math.abs((last.tempo as { bpm: number }).bpm - bpm)).toBeLessThanOrEqual(1);
    expect(last.counts).toEqual({ pitch: 0, onset: 16, tempo: tempos.length });
  });

  it('a beat with a sixteenth after it at 120 BPM: lines in time order, though tempo is decided late', async () => {
    // The tempo event's time is a beat before it is decided, after the sixteenth's onset was: the
    // lines still come in time order.
    const click = (name: string, hz: string, gain: string, rest: string) =>
      sox(name, [], ['synth', '0.003', 'sine', hz, 'gain', gain, 'pad', '0', rest]);
    const beat = await click('beat.wav', '2000', '-3', '0.122');
    const sixteenth = await click('sixteenth.wav', '3000', '-10', '0.372');
    const bar = join(tmp.dir, 'dotted-bar.wav');
    const file = join(tmp.dir, 'dotted.wav');
    await run('sox', [beat, sixteenth, bar]);
    await run('sox', [bar, file, 'repeat', '15', 'pad', '0.25', '0.5']);
    const r = await analyze(file);
    expect(r.code).toBe(0);
    const { events, kinds } = textOf(r.stdout);
    const times = events.map((e) => Number(e[1]));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    const onsets = times.filter((_, i) => kinds[i] === 'onset');
    expect(onsets).toHaveLength(32);
    onsets.forEach((at, i) => {
      expect(Math.abs(at - (0.25 + Math.floor(i / 2) * 0.5 + (i % 2) * 0.125))).toBeLessThanOrEqual(0.01);
    });
    const tempos = events.filter((_, i) => kinds[i] === 'tempo');
    expect(tempos.length).toBeGreaterThanOrEqual(1);
    for (const t of tempos) expect(Math.abs(Number(t[2]) - 120)).toBeLessThanOrEqual(1);
  });

  it('a stereo file: mixed by default, --channel N (1-based) picks one, a channel it lacks is a usage error', async () => {
    // Left 440 Hz (A4), right 659.26 Hz (E5).
    const file = await sox(
      'stereo.wav',
      ['-c', '2'],
      ['synth', '1', 'sine', '440', 'sine', '659.26', 'gain', '-6', 'pad', '0.25'],
    );
    const json = async (...args: string[]) => {
      const r = await analyze(file, '--json', ...args);
      expect(r.code).toBe(0);
      const lines = jsonLines(r.stdout);
      return { notes: lines.filter((l) => l.kind === 'pitch').map((l) => l.note), summary: lines.at(-1)! };
    };
    const left = await json('--channel', '1');
    expect(left.notes).toEqual(['A4']);
    expect(left.summary.analyzed).toBe(1);
    expect((await json()).summary).toMatchObject({ analyzed: 'mix', channels: 2 });
    const right = textOf((await analyze(file, '--channel', '2')).stdout);
    expect(right.header).toBe(`${file}: 48000 Hz, 2 channels, channel 2 analyzed, 16-bit PCM, 1.250 s`);
    expect(right.events.filter((_, i) => right.kinds[i] === 'pitch').map((p) => p[2])).toEqual(['E5']);
    const missing = await analyze(file, '--channel', '3');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe(`performia analyze: --channel 3, but ${file} has 2 channels\n`);
    expect(missing.stdout).toBe('');
  });

  it.each([
    ['8-bit PCM', ['-b', '8'], '1 channel, 8-bit PCM (unsigned)'],
    ['24-bit PCM', ['-b', '24'], '1 channel, 24-bit PCM'],
    ['32-bit PCM', ['-b', '32'], '1 channel, 32-bit PCM'],
    ['32-bit float', ['-e', 'floating-point', '-b', '32'], '1 channel, 32-bit float'],
    ['64-bit float', ['-e', 'floating-point', '-b', '64'], '1 channel, 64-bit float'],
    ['192 kHz', ['-r', '192000'], '192000 Hz, 1 channel, 16-bit PCM'],
    ['8 kHz', ['-r', '8000'], '8000 Hz, 1 channel, 16-bit PCM'],
    ['6 channels', ['-c', '6'], '6 channels, mixed to mono, 16-bit PCM'],
  ])('%s (valid: must work): A4 within ±10 cents', async (label, format, words) => {
    const file = await sox(`${label.replace(/\W/g, '')}.wav`, format, [
      'synth',
      '1',
      'sine',
      '440',
      'gain',
      '-6',
      'pad',
      '0.25',
    ]);
    const r = await analyze(file);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const { header, events, kinds, summary } = textOf(r.stdout);
    expect(header.startsWith(`${file}: `)).toBe(true);
    expect(header).toContain(`${words}, 1.250 s`);
    const pitches = events.filter((_, i) => kinds[i] === 'pitch');
    expect(pitches.map((p) => p[2])).toEqual(['A4']);
    expect(Math.abs(Number(pitches[0]![3]))).toBeLessThanOrEqual(10);
    expect(summary).toMatch(/^summary: 1\.250 s analyzed: 1 pitch, /);
  });

  it('piped into head: stops when head is gone, exit 0, no EPIPE on stderr', async () => {
    // Two minutes of clicks: lines keep coming long after head has its two.
    const file = await sox(
      'two-minutes.wav',
      [],
      ['synth', '0.003', 'sine', '2000', 'pad', '0', '0.497', 'repeat', '239'],
    );
    const sh = `'${process.execPath}' '${CLI}' analyze '${file}' | head -n 2; echo "exit \${PIPESTATUS[0]}" >&2`;
    const { stdout, stderr } = await run('bash', ['-c', sh]);
    expect(stdout.split('\n')[0]).toBe(`${file}: 48000 Hz, 1 channel, 16-bit PCM, 120.000 s`);
    expect(stderr).toBe('exit 0\n');
  });

  it('reads a pipe: sox writing a WAV to stdout (length unknown) into analyze /dev/stdin', async () => {
    const sh = `sox -R -D -n -r 48000 -b 16 -t wav - synth 1 sine 440 pad 0.25 | '${process.execPath}' '${CLI}' analyze /dev/stdin --json`;
    const { stdout } = await run('sh', ['-c', sh]);
    const lines = jsonLines(stdout);
    expect(lines.filter((l) => l.kind === 'pitch').map((l) => l.note)).toEqual(['A4']);
    expect(lines.at(-1)).toMatchObject({ declaredFrames: null, frames: 60000, complete: true });
  });
});

describe.skipIf(!soxAvailable)('performia analyze on bad files', () => {
  const fileError = (file: string, reason: string) =>
    `performia analyze: PFM_ERR_AUDIO_FILE: WAV file ${file}: ${reason}\n`;
  /** A valid 1.5 s sox WAV (16-bit mono, a 44-byte header), made once, that the tests below damage. */
  let whole: Promise<Buffer> | undefined;
  const wholeWav = (): Promise<Buffer> => {
    whole ??= sox('whole.wav', [], ['synth', '1', 'sine', '440', 'pad', '0.25', '0.25']).then((f) =>
      readFile(f),
    );
    return whole;
  };

  it('a text file: not a WAV file, exit 1, nothing on stdout', async () => {
    const file = tmp.file('notes.txt', 'Not audio, just words.\n');
    const r = await analyze(file);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(fileError(file, 'not a WAV file: it starts with "Not ", not "RIFF"'));
  });

  it('a sox WAV cut in half: what is there is analyzed, then the truncation is reported, exit 1', async () => {
    const whole = await wholeWav();
    const file = join(tmp.dir, 'half.wav');
    await writeFile(file, whole.subarray(0, whole.length / 2));
    const frames = Math.floor((whole.length / 2 - 44) / 2);
    const r = await analyze(file);
    expect(r.code).toBe(1);
    const reason = `truncated: the data chunk declares 72000 frames (1.500 s), the file ends after ${frames} (${(frames / 48000).toFixed(3)} s)`;
    expect(r.stderr).toBe(fileError(file, reason));
    const { header, kinds, summary } = textOf(r.stdout);
    expect(header).toBe(`${file}: 48000 Hz, 1 channel, 16-bit PCM, 1.500 s`);
    expect(kinds).toEqual(['onset', 'pitch']);
    expect(summary).toMatch(/^summary: 0\.750 s analyzed \(stopped early: see the error\): 1 pitch, 1 onset/);
    const json = jsonLines((await analyze(file, '--json')).stdout).at(-1)!;
    expect(json).toMatchObject({ declaredFrames: 72000, frames, complete: false });
  });

  it('a sox WAV cut inside its header: truncated header', async () => {
    const whole = await wholeWav();
    const file = join(tmp.dir, 'head.wav');
    await writeFile(file, whole.subarray(0, 30));
    const r = await analyze(file);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      fileError(file, 'truncated header: the file ends at byte 30, inside the fmt chunk'),
    );
  });

  it('a header patched to 0 channels', async () => {
    const bytes = Buffer.from(await wholeWav());
    bytes.writeUInt16LE(0, 22); // fmt's channel count (a 16-byte fmt chunk right after the RIFF header)
    const file = join(tmp.dir, 'zero-channels.wav');
    await writeFile(file, bytes);
    const r = await analyze(file);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(fileError(file, '0 channels: a WAV file has 1 at least'));
  });

  it('a file that is not there: no such file, exit 1', async () => {
    const missing = join(tmp.dir, 'nowhere.wav');
    expect(await analyze(missing)).toMatchObject({
      code: 1,
      stdout: '',
      stderr: fileError(missing, 'no such file'),
    });
  });

  it('usage errors exit 2; --help exits 0', async () => {
    const missing = join(tmp.dir, 'nowhere.wav');
    const none = await analyze();
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(
      /^performia analyze: one FILE\.wav is needed\n\nusage: performia analyze FILE\.wav/,
    );
    expect((await analyze(missing, '--channel', '0')).code).toBe(2);
    expect((await analyze(missing, '--loud')).code).toBe(2);
    const help = await analyze('--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^usage: performia analyze FILE\.wav \[--json\] \[--channel N\]/);
  });

  it('a 10 GB file of zeros (sparse, no RIFF): not a WAV file, at once', async () => {
    const file = join(tmp.dir, 'zeros-10g.wav');
    await writeFile(file, '');
    await truncate(file, 10 * 2 ** 30);
    try {
      const started = Date.now();
      const r = await analyze(file);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(fileError(file, 'not a WAV file: it starts with 00 00 00 00, not "RIFF"'));
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      await rm(file, { force: true });
    }
  });

  it('a 10 GB WAV (sparse, streaming header): it streams, and its memory stays under 250 MB', {
    timeout: 60_000,
  }, async () => {
    // 32 channels of 64-bit float at 192 kHz, data size 0xFFFFFFFF (unknown: read to the end), then
    // 10 GiB of zeros that cost no disk. Most bytes per second of analysis: more than the memory bound
    // streams through in a few seconds.
    const file = join(tmp.dir, 'big-10g.wav');
    const head = Buffer.alloc(44);
    head.write('RIFF', 0, 'latin1');
    head.writeUInt32LE(0xffffffff, 4);
    head.write('WAVEfmt ', 8, 'latin1');
    head.writeUInt32LE(16, 16);
    head.writeUInt16LE(3, 20); // IEEE float
    head.writeUInt16LE(32, 22);
    head.writeUInt32LE(192000, 24);
    head.writeUInt32LE(192000 * 256, 28);
    head.writeUInt16LE(256, 32);
    head.writeUInt16LE(64, 34);
    head.write('data', 36, 'latin1');
    head.writeUInt32LE(0xffffffff, 40);
    await writeFile(file, head);
    await truncate(file, 10 * 2 ** 30);
    const child: ChildProcess = spawn(process.execPath, [CLI, 'analyze', file], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (c) => {
      stdout += String(c);
    });
    child.stderr?.on('data', (c) => {
      stderr += String(c);
    });
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    const goal = 300 * 2 ** 20; // bytes read: more than the memory bound
    let maxRss = 0;
    let read = 0;
    try {
      // Sampling /proc while the child runs: memory and bytes read raise no event to await.
      const started = Date.now();
      for await (const _ of every(100)) {
        const status = await readFile(`/proc/${child.pid}/status`, 'utf8').catch(() => '');
        const io = await readFile(`/proc/${child.pid}/io`, 'utf8').catch(() => '');
        if (status === '' || io === '' || child.exitCode !== null) break;
        maxRss = Math.max(maxRss, Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1]) * 1024);
        read = Number(/rchar: (\d+)/.exec(io)?.[1]);
        if ((read >= goal && Date.now() - started >= 2_000) || Date.now() - started > 45_000) break;
      }
    } finally {
      child.kill('SIGKILL');
      await exited.then(() => rm(file, { force: true }));
    }
    const { signal } = await exited;
    expect(signal, `still running when killed; stderr: ${stderr}`).toBe('SIGKILL');
    expect(stdout.split('\n')[0]).toBe(
      `${file}: 192000 Hz, 32 channels, mixed to mono, 64-bit float, length unknown (streaming header): read to the end`,
    );
    expect(read).toBeGreaterThanOrEqual(goal);
    expect(maxRss).toBeGreaterThan(0);
    expect(maxRss).toBeLessThan(250 * 1e6);
  });
});
