/**
 * The band played for a render (daemon/render.ts `playBand`, issue #8 "Render and demo"), with a show's
 * messages on the way: a transport stop pauses the song and silences the output, a continue resumes it.
 * Times are ms from the first beat; the default config plays 4/4 with a 100 ms lookahead.
 */
import { describe, expect, it } from 'vitest';
import { renderOffline } from '../../adapters/audio/render.js';
import { DEFAULT_CONFIG } from '../../config/index.js';
import { Priority } from '../../daemon/bus/index.js';
import { playBand, type ScriptedMessage } from '../../daemon/render.js';

const BPM = 120;
const BEAT = 60_000 / BPM;
const LOOKAHEAD = DEFAULT_CONFIG.agents.conductor.lookaheadMs;
/** Half a beat before bar 3: its downbeat (beat 8, at 4,000 ms) is already published, a lookahead ahead. */
const STOP = 8 * BEAT - BEAT / 10;
const CONTINUE = 6_000;
const transport = (at: number, state: 'stop' | 'continue'): ScriptedMessage => ({
  at,
  type: 'transport',
  payload: { state, position: 0 },
  priority: Priority.CRITICAL,
});

const atOf = (m: { at?: number }): number => m.at ?? Number.NaN;

/** The band's sound from the default config, as `performia render` uses it. */
const band = {
  masterGain: DEFAULT_CONFIG.audio.masterGain,
  instruments: DEFAULT_CONFIG.audio.instruments,
  otherChannels: DEFAULT_CONFIG.audio.otherChannels,
  seed: 7,
};
const RATE = 48_000;
const frame = (ms: number): number => Math.round((ms / 1000) * RATE);
/** The largest |sample| of both channels between two times (ms). */
function peakBetween(channels: Float32Array[], fromMs: number, toMs: number): number {
  let peak = 0;
  for (const ch of channels)
    for (let i = frame(fromMs); i < frame(toMs); i++) peak = Math.max(peak, Math.abs(ch[i]!));
  return peak;
}

describe('playBand with a transport stop and continue', () => {
  it('renders silence while the transport is stopped, and the band before and after', async () => {
    const song = await playBand(DEFAULT_CONFIG, 4, BPM, [
      transport(STOP, 'stop'),
      transport(CONTINUE, 'continue'),
    ]);
    const r = await renderOffline({
      duration: song.seconds,
      sampleRate: RATE,
      band,
      messages: song.messages,
    });
    expect(r.invalid).toEqual([]);
    // What was scheduled for the downbeat after the stop never starts.
    expect(r.silenced).toBeGreaterThan(0);
    const resume = CONTINUE + 2 * LOOKAHEAD;
    expect(peakBetween(r.channels, 0, STOP)).toBeGreaterThan(0.05);
    // The stop fades everything out within 10 ms; from then on, until the band resumes, nothing at all.
    expect(peakBetween(r.channels, STOP + 15, resume - 1)).toBe(0);
    expect(peakBetween(r.channels, resume, resume + 4 * BEAT)).toBeGreaterThan(0.05);
    // The same song without the stop sounds all through that stretch: the silence is the stop's doing.
    const straight = await playBand(DEFAULT_CONFIG, 4, BPM);
    const s = await renderOffline({
      duration: straight.seconds,
      sampleRate: RATE,
      band,
      messages: straight.messages,
    });
    expect(peakBetween(s.channels, STOP + 15, STOP + 15 + 4 * BEAT)).toBeGreaterThan(0.05);
  });

  it('plays nothing new between the stop and the continue, and reports the stop as a silence', async () => {
    const song = await playBand(DEFAULT_CONFIG, 4, BPM, [
      transport(STOP, 'stop'),
      transport(CONTINUE, 'continue'),
    ]);
    const stops = song.messages.filter((m) => m.type === 'transport');
    expect(stops.map((m) => [m.payload, m.at])).toEqual([[{ state: 'stop', position: 0, at: STOP }, STOP]]);
    const plays = song.messages.filter((m) => m.type !== 'transport');
    const times = plays.map(atOf);
    // Before the stop the band plays. What it scheduled for the beat published before the stop (the
    // downbeat at 8 beats, a lookahead ahead; the drums schedule that beat's steps with it) is what the
    // silence at the stop cuts; nothing comes after that beat until the continue.
    expect(times.some((t) => t < STOP)).toBe(true);
    const afterStop = times.filter((t) => t >= STOP && t < CONTINUE);
    expect(afterStop.length).toBeGreaterThan(0);
    expect(afterStop.every((t) => t >= 8 * BEAT && t < 9 * BEAT)).toBe(true);
    // The continue plays from the next beat, two lookaheads after it (one to announce, one ahead).
    const resumed = times.filter((t) => t >= CONTINUE);
    expect(Math.min(...resumed)).toBe(CONTINUE + 2 * LOOKAHEAD);
    // 4 bars = 16 beats in all: 9 published before the stop (the 9th cut), 7 after the continue.
    const lastBeat = CONTINUE + 2 * LOOKAHEAD + 6 * BEAT;
    expect(Math.max(...times)).toBeLessThan(lastBeat + BEAT);
    expect(Math.max(...times)).toBeGreaterThanOrEqual(lastBeat);
    expect(song.seconds).toBeCloseTo((lastBeat + BEAT) / 1000 + 2, 6);
  });

  it('without a script plays the bars back to back, with no silence', async () => {
    const song = await playBand(DEFAULT_CONFIG, 2, BPM);
    expect(song.messages.every((m) => m.type.startsWith('play_'))).toBe(true);
    expect(song.seconds).toBeCloseTo((8 * BEAT) / 1000 + 2, 6);
    const times = song.messages.map(atOf);
    expect(Math.min(...times)).toBe(0);
    expect(Math.max(...times)).toBeLessThan(8 * BEAT);
  });
});
