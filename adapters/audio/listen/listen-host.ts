/**
 * The listening process (listen-child.ts starts it with `fork`): reads the input (inputs.ts), runs the
 * analyzer on it, and sends what it hears to the daemon over Node IPC (protocol.ts).
 *
 * Why a process of its own: the audio stack prints on stdout (cpal's JACK probe, ALSA), which must
 * not reach the daemon's JSON log; a native crash or a hung device takes this process, not the
 * daemon; and the analysis (~1 % of a core at 48 kHz) runs off the bus's event loop.
 *
 * Times: each block's arrival fixes the input's stream time on the bus clock (stream-clock.ts), so
 * every event's `at` (when its sound began) and `detectedAt` are bus times the daemon uses as they are.
 *
 * It exits when told to close, and when the parent goes away (the IPC channel closes).
 */
import { type AnalysisEvent, Analyzer } from '../analysis/index.js';
import { epochNow } from './clock.js';
import { type Input, InputMissing, openDevice, openFile } from './inputs.js';
import type { InputStats, ListenEvent, ListenOptions, ListenReply, ListenRequest } from './protocol.js';
import { StreamClock } from './stream-clock.js';

const STATS_EVERY_MS = 1000;

let input: Input | undefined;
let statsTimer: NodeJS.Timeout | undefined;

function reply(r: ListenReply): void {
  process.send?.(r);
}

/** The block's samples as one mono array: channel `channel` (from 1), or the mean of all (0). */
function monoOf(channels: Float32Array[], channel: number): Float32Array {
  if (channel > 0) return channels[Math.min(channel, channels.length) - 1] as Float32Array;
  if (channels.length === 1) return channels[0] as Float32Array;
  const first = channels[0] as Float32Array;
  const mono = new Float32Array(first.length);
  for (const data of channels)
    for (let i = 0; i < mono.length; i++) mono[i] = (mono[i] as number) + (data[i] ?? 0);
  const scale = 1 / channels.length;
  for (let i = 0; i < mono.length; i++) mono[i] = (mono[i] as number) * scale;
  return mono;
}

/** Analyzes each block and sends its events, with the input's figures once a second. */
class Listener {
  private readonly analyzer: Analyzer;
  private readonly clock = new StreamClock();
  private samples = 0;
  private blocks = 0;
  private peak = 0;
  private analyzeMaxMs = 0;
  private gaps = 0;
  private lastArrival = Number.NaN;

  constructor(
    private readonly sampleRate: number,
    private readonly options: ListenOptions,
  ) {
    this.analyzer = new Analyzer({ sampleRate, ...options.analysis });
  }

  block(channels: Float32Array[], arrivalMs: number): void {
    const mono = monoOf(channels, this.options.channel);
    this.samples += mono.length;
    this.blocks++;
    const blockMs = (mono.length / this.sampleRate) * 1000;
    if (arrivalMs - this.lastArrival > 2 * blockMs) this.gaps++;
    this.lastArrival = arrivalMs;
    this.clock.block(this.samples / this.sampleRate, arrivalMs);
    for (const x of mono) if (Math.abs(x) > this.peak) this.peak = Math.abs(x);
    const began = performance.now();
    const events = this.analyzer.process(mono);
    this.analyzeMaxMs = Math.max(this.analyzeMaxMs, performance.now() - began);
    if (events.length > 0)
      reply({ op: 'events', events: events.map((e) => this.onBus(e)), sentAt: epochNow() });
  }

  /** The figures since the last call (peak and analysis time restart). */
  stats(): InputStats {
    const cpu = process.cpuUsage();
    const stats: InputStats = {
      blocks: this.blocks,
      seconds: this.samples / this.sampleRate,
      peakDb: this.peak > 0 ? 20 * Math.log10(this.peak) : null,
      analyzeMaxMs: this.analyzeMaxMs,
      gaps: this.gaps,
      rssBytes: process.memoryUsage.rss(),
      cpuMs: (cpu.user + cpu.system) / 1000,
    };
    this.peak = 0;
    this.analyzeMaxMs = 0;
    return stats;
  }

  private onBus(e: AnalysisEvent): ListenEvent {
    const at = this.clock.toBus(e.at);
    const detectedAt = this.clock.toBus(e.detectedAt);
    switch (e.kind) {
      case 'pitch':
        return {
          kind: 'pitch',
          hz: e.hz,
          midi: e.midi,
          note: e.note,
          cents: e.cents,
          confidence: e.confidence,
          at,
          detectedAt,
        };
      case 'onset':
        return { kind: 'onset', strength: e.strength, at, detectedAt };
      case 'tempo':
        return { kind: 'tempo', bpm: e.bpm, confidence: e.confidence, at, detectedAt };
    }
  }
}

async function open(options: ListenOptions): Promise<void> {
  let listener: Listener | undefined;
  const onBlock = (channels: Float32Array[], arrival: number) => listener?.block(channels, arrival);
  try {
    input =
      options.file === ''
        ? await openDevice(options, onBlock)
        : await openFile(options, onBlock, (error) =>
            reply(error === undefined ? { op: 'ended' } : { op: 'error', message: error, device: true }),
          );
  } catch (err) {
    reply({ op: 'error', message: (err as Error).message, device: err instanceof InputMissing });
    return;
  }
  let running: Listener;
  try {
    running = new Listener(input.info.sampleRate, options);
  } catch (err) {
    // The settings do not fit this input (a pitch range above a quarter of an 8 kHz file's rate).
    // A failure to close is moot: the error reply makes the parent end this process.
    await input.close().catch(() => {});
    input = undefined;
    const why = `the analyzer cannot run on this input (${(err as Error).message})`;
    reply({ op: 'error', message: why, device: true });
    return;
  }
  listener = running;
  statsTimer = setInterval(() => reply({ op: 'stats', stats: running.stats() }), STATS_EVERY_MS);
  reply({ op: 'opened', info: input.info });
}

async function close(): Promise<void> {
  clearInterval(statsTimer);
  await input?.close().catch(() => {
    // Closing the device failed: the process exits next, which releases it anyway.
  });
  input = undefined;
  reply({ op: 'closed' });
  process.disconnect?.();
}

process.on('message', (raw) => {
  const m = raw as ListenRequest;
  if (m.op === 'open') void open(m.options);
  else if (m.op === 'ping') reply({ op: 'pong', id: m.id, now: epochNow() });
  else if (m.op === 'close') void close();
});

// The parent is gone (stopped, or crashed): release the input and leave.
process.on('disconnect', () => {
  clearInterval(statsTimer);
  // Leaving either way: a device that fails to close is released by the exit.
  void (input?.close() ?? Promise.resolve()).catch(() => {}).finally(() => process.exit(0));
});
