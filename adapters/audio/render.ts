/**
 * Offline rendering (issue #8, "Render and demo"): play_* bus messages rendered with
 * OfflineAudioContexts by the same band as the live output, faster than real time and deterministic for
 * a seed. Message times (`at`, or the payload's `at`) are ms from the start of the render; a message
 * without one plays at 0.
 *
 * How, and why: in node-web-audio-api 1.0.9 every node of a context is processed at every render
 * quantum until the context ends, even long after its sound has stopped (measured: finished voices are
 * not dropped from the graph, with or without garbage collection), and creating a node costs
 * 0.1-0.4 ms; one context holding a whole song's voices renders slower the longer the song. So the
 * voices are rendered dry in segments of {@link SEGMENT_SECONDS}, each segment's voices in a context of
 * their own that lasts until their longest tail, several at once (each context renders in a thread of
 * its own). The segments' buffers are then played, in segment order, into one last context that runs
 * the master chain (gain, limiter, clipper: not linear, so once over the whole mix). The voice mix is
 * linear, so the sum of the segments is the mix. The noise and the PRNG are shared by every segment and
 * consumed in time order, so the result depends only on the messages and the seed.
 *
 * The limiter looks ahead (it delays its input by a few render quanta), so the master pass runs that
 * much longer and drops its first frames: a hit at `at` is at frame `at · rate / 1000` of the result,
 * as it would leave the live output at `at`.
 */
import { availableParallelism } from 'node:os';
import { AudioRenderError } from '../../daemon/kernel/errors.js';
import { decodePlay, type PlayEvent, type PlayMessage } from './events.js';
import {
  type BandSettings,
  eventSeconds,
  limiterDelayFrames,
  masterChain,
  type Seeded,
  seededNoise,
  Voices,
} from './instruments.js';
import { type WavFormat, WavWriter } from './wav.js';
import { type AudioBuffer, type OfflineAudioContext, webAudio } from './web-audio.js';

/**
 * A message to render: a play_* message (type, payload, `at`: ms from the start of the render), or one
 * that silences the output, as the live adapter does: a `panic`, or a `transport` stop. A silence at
 * `at` cuts every voice of the messages before it in the list (they arrived before it), whatever their
 * own `at`, and none after it: the list is in the order the messages were published.
 */
export type RenderMessage = PlayMessage;

/** Whether `m` silences the output (audio-adapter.ts does the same for `panic` and a transport stop). */
export function isSilence(m: RenderMessage): boolean {
  return (
    m.type === 'panic' ||
    (m.type === 'transport' && (m.payload as { state?: unknown } | null)?.state === 'stop')
  );
}

/** What to render. */
export interface RenderOptions {
  /** Seconds of audio. */
  duration: number;
  /** Default 48,000. */
  sampleRate?: number;
  /** Default 2. */
  channels?: number;
  /** The band's sound (config `audio`); `maxVoices` does not apply: the input is bounded. */
  band: Omit<BandSettings, 'maxVoices'>;
  messages: readonly RenderMessage[];
}

/** What was rendered. */
export interface RenderResult {
  sampleRate: number;
  /** One array per channel, `duration · sampleRate` frames. */
  channels: Float32Array[];
  /** Voices started. */
  voices: number;
  /** Messages that could not be played, by index, with the reason. */
  invalid: { index: number; reason: string }[];
  /** Messages whose time falls outside the render. */
  outside: number;
  /** Play messages a silence (panic, transport stop) cut before they started. */
  silenced: number;
  unknownHits: number;
  /** Wall-clock time the rendering took, ms. */
  renderMs: number;
}

/** Seconds of voices rendered per context (see the module's comment). */
export const SEGMENT_SECONDS = 2;
/** Segments rendering at once (each OfflineAudioContext renders in a thread of its own). */
const PARALLEL = Math.max(2, Math.min(4, availableParallelism()));
const MAX_SECONDS = 3600;

interface Timed {
  event: PlayEvent;
  /** Seconds from the start. */
  at: number;
  /** Seconds from the start at which the first silence after it cuts it; Infinity when none does. */
  cut: number;
}

function check(o: RenderOptions): { sampleRate: number; channels: number; frames: number } {
  const sampleRate = o.sampleRate ?? 48_000;
  const channels = o.channels ?? 2;
  if (!(Number.isFinite(o.duration) && o.duration > 0 && o.duration <= MAX_SECONDS))
    throw new AudioRenderError(
      `duration must be a number of seconds in (0, ${MAX_SECONDS}], got ${o.duration}`,
    );
  if (!Number.isInteger(sampleRate) || sampleRate < 8000 || sampleRate > 192_000)
    throw new AudioRenderError(`sample rate must be an integer 8000..192000, got ${sampleRate}`);
  if (!Number.isInteger(channels) || channels < 1 || channels > 32)
    throw new AudioRenderError(`channels must be an integer 1..32, got ${channels}`);
  return { sampleRate, channels, frames: Math.round(o.duration * sampleRate) };
}

/** Renders `options.messages` by the band; rejects with PFM_ERR_AUDIO_RENDER. */
export async function renderOffline(options: RenderOptions): Promise<RenderResult> {
  const { sampleRate, channels, frames } = check(options);
  const started = performance.now();
  const invalid: RenderResult['invalid'] = [];
  const events: Timed[] = [];
  let outside = 0;
  let silenced = 0;
  // Each silence cuts the events before it that it has not cut yet: walk back to the previous one.
  let uncut = 0;
  options.messages.forEach((m, index) => {
    if (isSilence(m)) {
      const at = m.at ?? (m.payload as { at?: unknown } | null)?.at ?? 0;
      if (typeof at !== 'number' || !Number.isFinite(at)) {
        invalid.push({ index, reason: `${m.type}: at must be a finite number, got ${String(at)}` });
        return;
      }
      for (; uncut < events.length; uncut++) events[uncut]!.cut = Math.max(0, at / 1000);
      return;
    }
    const decoded = decodePlay(m);
    if (typeof decoded === 'string') invalid.push({ index, reason: decoded });
    else if ((decoded.at ?? 0) < 0 || (decoded.at ?? 0) >= options.duration * 1000) outside++;
    else events.push({ event: decoded.event, at: (decoded.at ?? 0) / 1000, cut: Number.POSITIVE_INFINITY });
  });
  // A voice whose silence came before its start never sounds (the live adapter drops it the same way).
  for (let i = events.length - 1; i >= 0; i--) {
    if (events[i]!.cut <= events[i]!.at) {
      events.splice(i, 1);
      silenced++;
    }
  }
  // Stable: equal times keep the messages' order, so the PRNG is consumed the same way every time.
  events.sort((a, b) => a.at - b.at);
  const settings = { ...options.band, maxVoices: Number.POSITIVE_INFINITY };
  const segmentFrames = SEGMENT_SECONDS * sampleRate;
  // The master pass's context: the segments' buffers are mixed in it (natively, in its render).
  const delay = limiterDelayFrames(sampleRate);
  const mix = offline(channels, frames + delay, sampleRate);
  const input = masterChain(mix, options.band.masterGain, mix.destination).input;
  let seeded: Seeded | undefined;
  // Segments render in native threads while the next ones are built.
  const inFlight: Promise<void>[] = [];
  let connected: Promise<void> = Promise.resolve();
  let voices = 0;
  let unknownHits = 0;
  for (let from = 0, i = 0; i < events.length; from += segmentFrames) {
    const t0 = from / sampleRate;
    const batch: Timed[] = [];
    while (i < events.length && events[i]!.at < t0 + SEGMENT_SECONDS) batch.push(events[i++]!);
    if (batch.length === 0) continue;
    const end = Math.max(...batch.map((e) => e.at - t0 + eventSeconds(e.event, settings)));
    const length = Math.max(1, Math.min(Math.ceil(end * sampleRate), frames - from));
    const ctx = offline(channels, length, sampleRate);
    seeded ??= seededNoise(ctx, settings.seed);
    // One set of voices per silence that cuts some of them (and one for those none cuts): each is
    // silenced at its own time, on a bus of its own. In time order, so the noise is consumed as before.
    const groups = new Map<number, Voices>();
    for (const e of batch) {
      let v = groups.get(e.cut);
      if (v === undefined) {
        v = new Voices(ctx, settings, ctx.destination, seeded);
        groups.set(e.cut, v);
      }
      voices += v.play(e.event, e.at - t0);
    }
    for (const [cut, v] of groups) {
      if (cut - t0 < length / sampleRate) v.silence(cut - t0);
      unknownHits += v.counters.unknownHits;
    }
    // Connected in segment order whatever order they finish in: the mix sums its inputs in the order
    // they were connected, and a floating-point sum depends on its order.
    const previous = inFlight.at(-1) ?? connected;
    inFlight.push(
      Promise.all([rendered(ctx), previous]).then(([buffer]) => {
        const source = mix.createBufferSource();
        source.buffer = buffer;
        source.connect(input);
        source.start(t0);
      }),
    );
    if (inFlight.length >= PARALLEL) {
      connected = inFlight.shift()!;
      await connected;
    }
  }
  await Promise.all(inFlight);
  const out = await rendered(mix);
  const result = Array.from({ length: channels }, (_, c) => {
    const data = new Float32Array(frames);
    out.copyFromChannel(data, c, delay);
    return data;
  });
  return {
    sampleRate,
    channels: result,
    voices,
    invalid,
    outside,
    silenced,
    unknownHits,
    renderMs: performance.now() - started,
  };
}

function offline(numberOfChannels: number, length: number, sampleRate: number): OfflineAudioContext {
  try {
    return new (webAudio().OfflineAudioContext)({ numberOfChannels, length, sampleRate });
  } catch (err) {
    throw new AudioRenderError((err as Error).message, { cause: err });
  }
}

async function rendered(ctx: OfflineAudioContext): Promise<AudioBuffer> {
  try {
    return await ctx.startRendering();
  } catch (err) {
    throw new AudioRenderError((err as Error).message, { cause: err });
  }
}

/** Renders to a WAV file (`pcm16` by default); the result's channels are those written. */
export async function renderToWav(
  options: RenderOptions,
  path: string,
  format: WavFormat = 'pcm16',
): Promise<RenderResult> {
  const result = await renderOffline(options);
  const writer = await WavWriter.create(path, {
    sampleRate: result.sampleRate,
    channels: result.channels.length,
    format,
  });
  try {
    await writer.write(result.channels);
  } finally {
    await writer.close();
  }
  return result;
}
