/**
 * `performia render` (issue #8, "Render and demo"): the same band — the agents of `agents/` on a real
 * bus — played on a virtual clock as fast as the CPU allows, then rendered with OfflineAudioContext by
 * the audio adapter's instruments to a 48 kHz WAV. Deterministic for a seed: the agents are, time is
 * virtual, and every random sound (the drums' noise) comes from the seeded generator.
 */

import { Registry } from 'prom-client';
import { isSilence, renderToWav } from '../adapters/audio/render.js';
import type { PerformiaConfig } from '../config/index.js';
import { type AnyMessage, MessageBus, type Priority, silentLogger } from './bus/index.js';
import type { Part, PartContext } from './kernel/part.js';
import { VirtualScheduler } from './kernel/virtual-scheduler.js';
import { demoParts } from './parts.js';

/** What to render. */
export interface RenderRequest {
  config: PerformiaConfig;
  bars: number;
  bpm: number;
  out: string;
  seed: number;
}

/** What was rendered, for the CLI's report. */
export interface RenderReport {
  seconds: number;
  messages: number;
  voices: number;
  /** Wall time of the whole render (band and audio), ms. */
  wallMs: number;
  /** Seconds of audio per wall second. */
  speed: number;
}

const PLAY = new Set(['play_note', 'play_chord', 'play_drums']);
/** A render is a batch job: its parts log nothing. */
const quiet: PartContext['logger'] = { ...silentLogger, child: () => quiet };

async function idle(bus: MessageBus): Promise<void> {
  while (bus.getStats().pending > 0) await new Promise<void>((r) => setImmediate(r));
  await new Promise<void>((r) => setImmediate(r));
}

/**
 * A message published during the song, as a show would send it (a `transport` stop and continue, a
 * `tempo_change`, a `panic`): `at` in ms from the first beat.
 */
export interface ScriptedMessage {
  at: number;
  type: string;
  payload: unknown;
  priority?: Priority;
}

/** What {@link playBand} played. */
export interface PlayedBand {
  /**
   * In the order they were published, `at` in ms from the first beat: the play_* messages, and the
   * ones that silence the output (a transport stop, a panic: `at` is when they were published), at
   * which the audio adapter silences what sounds and what is scheduled; an offline render does the same
   * (adapters/audio/render.ts).
   */
  messages: AnyMessage[];
  /** The song's length in seconds: its last beat, plus a tail for the last notes. */
  seconds: number;
}

/** Virtual time a song may last at most (a script that stops the transport for good ends it). */
const MAX_SONG_MS = 3_600_000;
/** Seconds after the last beat for the last notes to ring out. */
const TAIL_SECONDS = 2;

/**
 * Plays the band for `bars` bars at `bpm` on a virtual clock and returns its play_* messages with
 * `at` in ms from the first beat. `script` messages are published at their times on the way (a
 * transport stop pauses the song: `bars` counts the bars played, so a paused song lasts longer).
 */
export async function playBand(
  config: PerformiaConfig,
  bars: number,
  bpm: number,
  script: readonly ScriptedMessage[] = [],
): Promise<PlayedBand> {
  const agents = {
    ...config.agents,
    enabled: true,
    conductor: { ...config.agents.conductor, bpm, autoStart: true },
    analytics: { ...config.agents.analytics, enabled: false },
  };
  const cfg = { ...config, agents } as PerformiaConfig;
  const clock = new VirtualScheduler(0);
  const bus = new MessageBus({ clock: () => clock.now(), clockReuse: 1, logger: silentLogger });
  const ctx: PartContext = {
    bus,
    config: cfg,
    logger: quiet,
    scheduler: clock,
    metrics: new Registry(),
  };
  const parts: Part[] = demoParts.flatMap((f) => f(ctx)).filter((p) => p.kind === 'agent');
  const { lookaheadMs, timeSignature } = agents.conductor;
  const beats = bars * timeSignature[0];
  const period = 60_000 / bpm;
  const messages: AnyMessage[] = [];
  let published = 0;
  let lastBeatAt = 0;
  /** Where the song ends: half a beat after its last beat was published (what falls between plays). */
  let endAt = Number.POSITIVE_INFINITY;
  bus.subscribe('*', (m) => {
    if (PLAY.has(m.type)) messages.push(m);
    else if (isSilence(m)) messages.push({ ...m, at: m.at ?? clock.now() });
    else if (m.type === 'beat_event' && published < beats) {
      lastBeatAt = (m.payload as { at: number }).at;
      if (++published === beats) endAt = clock.now() + period / 2;
    }
  });
  await bus.start();
  for (const p of parts) await p.start();
  // The first beat comes two lookaheads after the start (conductor.ts).
  const first = 2 * lookaheadMs;
  for (const s of script) {
    clock.at(first + s.at, () => {
      bus.publish({ type: s.type, payload: s.payload, from: 'render', priority: s.priority });
    });
  }
  // From one scheduled entry to the next, the bus drained after each: the agents answer a beat before
  // time moves on, as they would in real time (they have a lookahead for it). Until half a beat after
  // the last bar's last beat is published; the next bar's beats are not (they come a lookahead ahead).
  await idle(bus);
  for (let next = clock.next; next !== undefined && next <= Math.min(endAt, MAX_SONG_MS); next = clock.next) {
    clock.advanceTo(next);
    await idle(bus);
  }
  for (const p of [...parts].reverse()) await p.stop();
  clock.stop();
  await bus.stop();
  // Times from the first beat on: the song starts at 0. A bar's tail rings out after the last beat.
  const shifted = messages.map((m) => {
    const at = ((m.payload as { at?: number }).at ?? m.at ?? first) - first;
    return { ...m, at, payload: { ...(m.payload as object), at } };
  });
  return { messages: shifted, seconds: (lastBeatAt - first + period) / 1000 + TAIL_SECONDS };
}

/** Renders the band to a WAV file. */
export async function renderBand(request: RenderRequest): Promise<RenderReport> {
  const started = performance.now();
  const { messages, seconds } = await playBand(request.config, request.bars, request.bpm);
  const audio = request.config.audio;
  const result = await renderToWav(
    {
      duration: seconds,
      sampleRate: 48_000,
      channels: 2,
      band: {
        masterGain: audio.masterGain,
        instruments: audio.instruments,
        otherChannels: audio.otherChannels,
        seed: request.seed,
      },
      messages: messages.map((m) => ({ type: m.type, payload: m.payload, at: m.at })),
    },
    request.out,
  );
  const wallMs = performance.now() - started;
  return {
    seconds,
    messages: messages.length,
    voices: result.voices,
    wallMs,
    speed: seconds / (wallMs / 1000),
  };
}
