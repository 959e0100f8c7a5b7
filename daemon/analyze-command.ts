/**
 * `performia analyze FILE.wav [--json] [--channel N]` (issue #9, "Input"): streams a WAV file through
 * the Analyzer and prints what it hears, pitch, onsets and tempo, one line per event in time order.
 * Memory is bounded whatever the file's length: the file is read block by block (wav-reader.ts), and
 * only the events of the last {@link HORIZON_S} seconds are held, to put them in time order.
 */
import { parseArgs } from 'node:util';
import { type AnalysisEvent, Analyzer, type TempoEvent } from '../adapters/audio/analysis/index.js';
import {
  mixToMono,
  openWavReader,
  type WavReader,
  type WavStreamInfo,
} from '../adapters/audio/wav-reader.js';

/** How the command prints: the CLI's output functions, and its help text. */
export interface AnalyzeIo {
  /** One line to stdout. */
  out(text: string): void;
  /** One line to stderr. */
  err(text: string): void;
  help: string;
}

/**
 * Seconds of stream an event may be decided after its `at`: a tempo event's `at` is the last beat
 * before it was decided, at most one beat (1 s at the Analyzer's 60 BPM floor), plus the frames of
 * the decision. Events are held this long so the lines come out in `at` order.
 */
const HORIZON_S = 2;

/** Events in `at` order (stable for equal times), released once no earlier one can come. */
class TimeOrder {
  private readonly held: AnalysisEvent[] = [];

  push(event: AnalysisEvent): void {
    let i = this.held.length;
    while (i > 0 && this.held[i - 1]!.at > event.at) i--;
    this.held.splice(i, 0, event);
  }

  /** The held events with `at` ≤ `time`, in order. */
  until(time: number): AnalysisEvent[] {
    let n = 0;
    while (n < this.held.length && this.held[n]!.at <= time) n++;
    return this.held.splice(0, n);
  }
}

/** What the closing summary reports. */
interface Tally {
  pitch: number;
  onset: number;
  tempo: number;
  lastTempo: TempoEvent | undefined;
}

/** What a run prints: one format for people, one for programs (JSON lines). */
interface Printer {
  header(file: string, info: WavStreamInfo, channel: number | undefined): void;
  event(e: AnalysisEvent): void;
  summary(
    file: string,
    reader: WavReader,
    channel: number | undefined,
    tally: Tally,
    complete: boolean,
  ): void;
}

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/** `16-bit PCM`, `8-bit PCM (unsigned)`, `32-bit float`. */
function formatName(info: WavStreamInfo): string {
  if (info.format === 'pcm8') return '8-bit PCM (unsigned)';
  return `${info.bitsPerSample}-bit ${info.format.startsWith('pcm') ? 'PCM' : 'float'}`;
}

/** `+3`, `-12`, `+0`: rounded cents with their sign. */
function signedCents(cents: number): string {
  const r = Math.round(cents);
  return `${r < 0 ? '-' : '+'}${Math.abs(r)}`;
}

/** One event as a line: time, kind, then what the kind says. */
function eventLine(e: AnalysisEvent): string {
  const time = e.at.toFixed(3).padStart(9);
  switch (e.kind) {
    case 'pitch':
      return `${time}  pitch  ${e.note} ${signedCents(e.cents)} cents  ${e.hz.toFixed(1)} Hz  confidence ${e.confidence.toFixed(2)}`;
    case 'onset':
      return `${time}  onset  strength ${e.strength.toFixed(2)}`;
    case 'tempo':
      return `${time}  tempo  ${e.bpm.toFixed(1)} BPM  confidence ${e.confidence.toFixed(2)}`;
  }
}

function textPrinter(io: AnalyzeIo): Printer {
  return {
    header(file, info, channel) {
      const n = info.channelCount;
      const which =
        n === 1 ? '' : channel === undefined ? ', mixed to mono' : `, channel ${channel} analyzed`;
      const length =
        info.seconds === undefined
          ? 'length unknown (streaming header): read to the end'
          : `${info.seconds.toFixed(3)} s`;
      io.out(
        `${file}: ${info.sampleRate} Hz, ${plural(n, 'channel')}${which}, ${formatName(info)}, ${length}`,
      );
    },
    event(e) {
      io.out(eventLine(e));
    },
    summary(_file, reader, _channel, tally, complete) {
      const seconds = (reader.framesRead / reader.info.sampleRate).toFixed(3);
      const t = tally.lastTempo;
      const tempo =
        t === undefined
          ? 'no tempo'
          : `last tempo ${t.bpm.toFixed(1)} BPM (confidence ${t.confidence.toFixed(2)})`;
      const counts = `${plural(tally.pitch, 'pitch', 'pitches')}, ${plural(tally.onset, 'onset')}, ${plural(tally.tempo, 'tempo estimate')}`;
      const early = complete ? '' : ' (stopped early: see the error)';
      io.out(`summary: ${seconds} s analyzed${early}: ${counts}; ${tempo}`);
    },
  };
}

function jsonPrinter(io: AnalyzeIo): Printer {
  return {
    header() {
      // JSON lines carry the file's facts in the summary: stdout holds nothing but objects.
    },
    event(e) {
      const { kind, at, detectedAt, ...rest } = e;
      io.out(JSON.stringify({ kind, at, detectedAt, ...rest }));
    },
    summary(file, reader, channel, tally, complete) {
      const { info } = reader;
      const t = tally.lastTempo;
      io.out(
        JSON.stringify({
          kind: 'summary',
          file,
          sampleRate: info.sampleRate,
          channels: info.channelCount,
          format: info.format,
          bitsPerSample: info.bitsPerSample,
          analyzed: channel ?? 'mix',
          declaredFrames: info.frames ?? null,
          frames: reader.framesRead,
          seconds: reader.framesRead / info.sampleRate,
          complete,
          counts: { pitch: tally.pitch, onset: tally.onset, tempo: tally.tempo },
          tempo: t === undefined ? null : { bpm: t.bpm, confidence: t.confidence, at: t.at },
        }),
      );
    },
  };
}

/** Waits while stdout's buffer is full: a slow reader of the output must not grow our memory. */
async function drained(): Promise<void> {
  const stdout = process.stdout;
  if (!stdout.writableNeedDrain) return;
  await new Promise<void>((resolve) => {
    const done = (): void => {
      for (const event of ['drain', 'close', 'error']) stdout.off(event, done);
      resolve();
    };
    for (const event of ['drain', 'close', 'error']) stdout.on(event, done);
  });
}

/**
 * Whether stdout failed: EPIPE when its reader exits early (`performia analyze … | head`). Not a
 * failure of ours, and nothing is left to tell: the analysis stops on seeing it. (Node does not destroy
 * process.stdout on EPIPE; it emits 'error' for every later write.)
 */
function watchStdout(): () => boolean {
  let gone = false;
  process.stdout.on('error', () => {
    gone = true;
  });
  return () => gone;
}

/**
 * Streams the file through an Analyzer, printing as it goes; the summary closes the output even when
 * the file fails part way (a truncated data chunk), then the failure is thrown for the CLI to report.
 */
async function analyzeStream(
  file: string,
  reader: WavReader,
  channel: number | undefined,
  printer: Printer,
  stdoutGone: () => boolean,
): Promise<void> {
  printer.header(file, reader.info, channel);
  const analyzer = new Analyzer({ sampleRate: reader.info.sampleRate });
  const order = new TimeOrder();
  const tally: Tally = { pitch: 0, onset: 0, tempo: 0, lastTempo: undefined };
  const print = (events: AnalysisEvent[]): void => {
    for (const e of events) {
      tally[e.kind]++;
      if (e.kind === 'tempo') tally.lastTempo = e;
      printer.event(e);
    }
  };
  let failure: unknown;
  try {
    for (let block = await reader.read(); block !== null; block = await reader.read()) {
      if (stdoutGone()) return;
      const mono = mixToMono(block, channel === undefined ? undefined : channel - 1);
      for (const e of analyzer.process(mono)) order.push(e);
      print(order.until(analyzer.time - HORIZON_S));
      await drained();
    }
  } catch (e) {
    failure = e;
  }
  print(order.until(Number.POSITIVE_INFINITY));
  printer.summary(file, reader, channel, tally, failure === undefined);
  if (failure !== undefined) throw failure;
}

/**
 * Runs the command: 0 when the whole file was analyzed, 2 for a usage error; a file that cannot be
 * read rejects with PFM_ERR_AUDIO_FILE (the CLI prints it and exits 1).
 */
export async function runAnalyze(args: string[], io: AnalyzeIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      json: { type: 'boolean' },
      channel: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.out(io.help);
    return 0;
  }
  if (positionals.length !== 1) {
    io.err(`performia analyze: one FILE.wav is needed\n\n${io.help}`);
    return 2;
  }
  const channel = values.channel === undefined ? undefined : Number(values.channel);
  if (channel !== undefined && !(Number.isInteger(channel) && channel >= 1)) {
    io.err(`performia analyze: --channel must be a channel number from 1, got ${values.channel}`);
    return 2;
  }
  const file = positionals[0]!;
  const stdoutGone = watchStdout();
  const reader = await openWavReader(file);
  try {
    const count = reader.info.channelCount;
    if (channel !== undefined && channel > count) {
      io.err(`performia analyze: --channel ${channel}, but ${file} has ${plural(count, 'channel')}`);
      return 2;
    }
    await analyzeStream(file, reader, channel, values.json ? jsonPrinter(io) : textPrinter(io), stdoutGone);
    return 0;
  } finally {
    await reader.close();
  }
}
