/**
 * analyzer.bus_latency_ms (issue #9, "the latency from a sound entering the analyzer to its message on
 * the bus"): the whole listening part, as the daemon runs it. A WAV file of sounds at known times
 * (the latency set of analyzer.ts: clicks, plucks, sawtooth notes, noise hits, one every 500 ms) is
 * listened to in real time by the listening process (adapters/audio/listen: file input in 256-sample
 * blocks, each delivered when its last sample is due, as a device delivers it), analyzed there, sent
 * over IPC and published on a real bus. Measured: each onset message's publish time minus its sound's
 * true start on the bus clock (the file's start on the bus clock is fitted as the median of
 * `at − start` over the sounds, so an onset's own `at` error does not count). The mean, like
 * analyzer.latency_ms. Baseline in the same run: analyzer.latency_ms's measure, the analyzer alone in
 * this process (no process hop, no bus, 128-sample blocks).
 *
 * Not measured: what an audio device and its driver buffer before a block reaches the process.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Value from 'typebox/value';
import { ListenAdapter, type ListenSettings } from '../adapters/audio/listen/index.js';
import { writeWav } from '../adapters/audio/wav.js';
import { ListenSchema } from '../config/listen-schema.js';
import { type AnyMessage, MessageBus, silentLogger, systemClock } from '../daemon/bus/index.js';
import { latencies, latencySounds } from './analyzer.js';
import type { Figure, RunResult } from './types.js';
import { percentile } from './util.js';

const RATE = 48_000;
const SOUNDS = 30;

/** Publish − true start of each sound that got an onset message, ms. */
async function busLatencies(): Promise<{ ms: number[]; missed: number; pitchMs: number[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'pfm-bench-listen-'));
  const file = join(dir, 'sounds.wav');
  const { x, starts } = latencySounds(SOUNDS);
  await writeWav(file, [x], RATE, 'float32');
  const bus = new MessageBus({ clock: systemClock });
  await bus.start();
  const seen: AnyMessage[] = [];
  bus.subscribe('onset_detected', (m) => void seen.push(m));
  bus.subscribe('pitch_detected', (m) => void seen.push(m));
  const settings = Value.Default(ListenSchema, { file }) as ListenSettings;
  const part = new ListenAdapter(settings, bus, silentLogger);
  try {
    await part.start();
    if (part.health().state !== 'ok')
      throw new Error(`the listening part did not start: ${part.health().reason}`);
    const end = Date.now() + (x.length / RATE) * 1000 + 5_000;
    while (part.health().details?.ended !== true && Date.now() < end)
      await new Promise((r) => setTimeout(r, 100));
  } finally {
    await part.stop();
    await bus.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return matched(seen, starts);
}

/** Each sound's onset message (its `at` within 10 ms of the fitted start), and its latency. */
function matched(seen: AnyMessage[], starts: number[]) {
  const onsets = seen.filter((m) => m.type === 'onset_detected');
  const at = (m: AnyMessage) => (m.payload as { at: number }).at;
  // The file's start on the bus clock: each onset's `at` minus the nearest sound's start.
  const nearest = (t: number) =>
    starts.reduce((best, s) => (Math.abs(s - t) < Math.abs(best - t) ? s : best));
  const first = at(onsets[0] as AnyMessage);
  const coarse = first - ((starts[0] as number) / RATE) * 1000;
  const offsets = onsets.map((m) => at(m) - (nearest(((at(m) - coarse) / 1000) * RATE) / RATE) * 1000);
  const offset = percentile(Float64Array.from(offsets), 50);
  const ms: number[] = [];
  const pitchMs: number[] = [];
  for (const s of starts) {
    const start = offset + (s / RATE) * 1000;
    const onset = onsets.find((m) => Math.abs(at(m) - start) <= 10);
    if (onset !== undefined) ms.push(onset.timestamp - start);
    const pitch = seen.find((m) => m.type === 'pitch_detected' && Math.abs(at(m) - start) <= 10);
    if (pitch !== undefined) pitchMs.push(pitch.timestamp - start);
  }
  return { ms, missed: starts.length - ms.length, pitchMs };
}

export const busLatencyMs: Figure = {
  name: 'analyzer.bus_latency_ms',
  unit: 'ms',
  baselineName: 'the analyzer alone in-process (analyzer.latency_ms)',
  goal: '< 30 ms',
  met: (value) => value < 30,
  async run(): Promise<RunResult> {
    const alone = latencies();
    const baseline = alone.ms.reduce((a, b) => a + b, 0) / alone.ms.length;
    const { ms, missed, pitchMs } = await busLatencies();
    if (ms.length === 0) throw new Error('no onset message matched a sound');
    const sorted = Float64Array.from(ms);
    return {
      value: ms.reduce((a, b) => a + b, 0) / ms.length,
      baseline,
      details: {
        p50: percentile(sorted, 50),
        p95: percentile(sorted, 95),
        max: percentile(sorted, 100),
        missed,
        pitchP50: pitchMs.length > 0 ? percentile(Float64Array.from(pitchMs), 50) : Number.NaN,
        pitched: pitchMs.length,
      },
    };
  },
};
